"""Valid programs through every back end in CI: a seeded slice of `make fuzz-valid`, what the
generator covers, every regression case it (or issue 11) found, and the runner's own
machinery (a crash is a finding; shrinking keeps the failure)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

pytest.importorskip("torch")

import archdsl
from archdsl import ops
from tests.fuzz import checks, valid
from tests.fuzz.programs import program

CI_PROGRAMS = 300
CI_SEED = 2024


def test_seeded_programs_pass_every_back_end():
    report = valid.fuzz(CI_PROGRAMS, seed=CI_SEED, jobs=2)
    assert report.ran == CI_PROGRAMS
    assert not report.failures, "\n".join(f"program {i}: {p}" for i, p in report.failures[:20]) \
        + f"\n(replay one with: python -m tests.fuzz.valid --seed {CI_SEED} --replay N)"
    assert sum(report.refused.values()) <= CI_PROGRAMS // 10  # ONNX is mostly exercised


def test_generator_covers_the_language():
    """Every layer kind (a new kind fails here until the generator writes it) and every form
    of the language the brief of issue 11 names, in the first 300 programs of a seed."""
    kinds, features, texts = Counter(), Counter(), []
    for i in range(300):
        arch = program(CI_SEED, i)
        net = archdsl.parse(arch.text)
        kinds.update(d["op"] for _, d in net.ir.nodes())
        features.update(arch.features)
        texts.append(arch.text)
    missing = sorted(set(ops.kinds()) - set(kinds))
    assert not missing, f"kinds the generator never writes: {missing}"
    for feature in ("add", "concat", "block", "repeat_group", "repeat_list", "skip_add",
                    "skip_concat", "dead_branch", "groups", "dilation", "pad_same", "ceil",
                    "literal_kernel", "global_pool", "concat_dim", "rank0", "rank1", "rank2",
                    "rank3", "current_tensor"):
        assert features[feature], feature
    text = "\n".join(texts)
    for form in (r"in\.channels", r"x\.channels", r"inplace=true", r"\bn\d+: ", r"\bv\d+ = ",
                 r"\* \d", r"\[blk\d\(", r"block blk\d\(width, stride = 1\)", r"\bif\b",
                 r"\belse\b", r"\(classes = 5\)", r"count_include_pad=false", r"track=false"):
        assert re.search(form, text), form


@pytest.mark.parametrize("path", sorted(valid.CASES.glob("*.arch")), ids=lambda p: p.stem)
def test_regression_case(path):
    outcome = checks.check(path.read_text(encoding="utf-8"))
    assert not outcome.problems, outcome.problems


def test_a_crash_is_a_finding_and_the_run_goes_on(monkeypatch):
    monkeypatch.setenv("ARCHDSL_VALID_CRASH_AT", "2")
    report = valid.fuzz(5, seed=CI_SEED, jobs=1)
    assert report.ran == 5
    assert [(i, p.split(" (")[0]) for i, p in report.failures] == [
        (2, "crash: the worker died")]


def test_shrink_keeps_the_stage_and_the_cause(monkeypatch):
    """With the optimiser made to fail on any softmax, a program holding one shrinks to a
    smaller valid one that still holds it and still fails at the same stage."""
    real = checks._optimize

    def broken(state, out, stage):
        if "softmax" in state["text"]:
            out.problems.append(f"{stage}: planted")
        else:
            real(state, out, stage)

    monkeypatch.setattr(checks, "_optimize", broken)
    index = next(i for i in range(200) if "softmax" in program(CI_SEED, i).text
                 and program(CI_SEED, i).text.count("\n") > 8)
    text = program(CI_SEED, index).text
    small = valid.shrink(text, "optimize", budget=60)
    assert "softmax" in small and small.count("\n") < text.count("\n")
    assert not archdsl.parse(small).diagnostics
    assert any(p.startswith("optimize:") for p in valid.run_one(small)["problems"])


@pytest.mark.parametrize("text, problem", [
    # issue 11: dropout returns its input in eval; the relu wrote through it into the skip
    ("network a { input 4  linear(4)  add { { dropout; relu(inplace=true) } {} } }",
     "in place: outputs differ from the out-of-place copy (eval)"),
    # softmax keeps its output for backward; the relu overwrote it
    ("network s { input 4  linear(4)  softmax  relu(inplace=true)  linear(2) }",
     "in place: RuntimeError: one of the variables needed for gradient computation has been "
     "modified by an inplace operation"),
])
def test_the_in_place_stage_finds_an_unsound_analysis(monkeypatch, text, problem):
    """With every requested in-place update honoured, the stage reports the wrong numbers
    (its float64 comparison must not hide a real overwrite)."""
    from archdsl.backends.torch import codegen, inplace

    def every_request(ir, live, scopes=None):
        return {nid for nid in live
                if inplace.wants_inplace(inplace._low(ir, nid), ir.node(nid)["args"])}

    monkeypatch.setattr(codegen, "writers", every_request)
    problems = checks.check(text, draw=False).problems
    assert any(p.startswith(problem) for p in problems), problems
    monkeypatch.undo()
    assert checks.check(text, draw=False).problems == []
