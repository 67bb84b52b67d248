"""Mutation fuzzing in CI (a seeded, deterministic slice of `make fuzz`), and every crasher
the fuzzer has found, kept as a regression case."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.mutate import ROOT, Case, check_case, fuzz

CI_CASES = 2000


def test_mutated_files_fail_politely():
    report = fuzz(CI_CASES, run_seed=2024, jobs=2)
    assert report.ran == CI_CASES
    assert not report.failures, "\n".join(f"case {i}: {p}" for i, p in report.failures[:20]) + \
        "\n(replay one with: python -m tests.fuzz.mutate --seed 2024 --replay N)"


# Crashers found by the fuzzer (and by hand while writing it), as the text that crashed.
NET = "network n {\n    input 1x8x8\n    %s\n}\n"
CRASHERS = {
    # ValueError from int(): Python refuses to convert more than 4300 digits
    "5000-digit integer": NET % ("conv(" + "9" * 5000 + ", 3x3)"),
    "5000-digit size": NET % ("conv(3, " + "9" * 5000 + "x3)"),
    # RecursionError in the tree builder: each `+` is one level of the tree
    "long sum": NET % ("conv(" + "+".join(["1"] * 3000) + ", 3x3)"),
    "many labels": NET % ("a: " * 3000 + "relu"),
    "else-if chain": NET % ("if true { relu } else " * 3000 + "relu"),
    "nested braces": NET % ("{" * 3000 + "relu" + "}" * 3000),
    "nested lists": NET % ("conv(1, " + "[" * 3000 + "1" + "]" * 3000 + ")"),
    # a diagnostic without a location: scaling a literal kernel that holds a size
    "kernel holding a size": NET % "conv([[1, 65536x65536]] / 2)",
    # 1000 broken block calls: 1000 errors, elaborated and rendered, took seconds
    "a thousand broken calls": "block b(w) { conv(w, 3x3); relu }\n" + NET % ("b " * 1000),
    # overflow to infinity in float arithmetic, then used as a size
    "infinite float": NET % "conv(1e999 * 2, 3x3)",
    "control characters": NET % "conv(4,\x00 3x3)\u202e relu\ufeff",
    # IRError: a layer labelled `input` (reachable after `=`) took the input node's name
    "a layer named input": NET % "stem = input: conv(16, 3x3)",
}


@pytest.mark.parametrize("name", CRASHERS)
def test_crasher(name):
    seed = ROOT / "architectures" / "lenet5.arch"
    assert check_case(Case(0, Path(seed), [name], CRASHERS[name])) is None
