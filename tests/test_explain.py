"""The error catalogue (dsl/codes.py) and `archdsl explain`: every code used in the code base
is explained, and each explanation's examples do what they claim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archdsl.codes import CATALOGUE, ENTRIES, explain
from archdsl.elaborate import Limits
from archdsl.loader import LoadOptions
from archdsl.pipeline import run
from tests.conftest import ROOT, run_cli

CODE = re.compile(r"\"([EW]0\d{3})\"")


def _codes_in_source() -> set[str]:
    found = set()
    for folder in ("dsl", "backends"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name != "codes.py":
                found |= set(CODE.findall(path.read_text()))
    return found


def test_every_code_in_the_code_base_is_in_the_catalogue():
    missing = sorted(_codes_in_source() - set(CATALOGUE))
    assert not missing, f"add these codes to dsl/codes.py: {missing}"


def test_catalogue_entries_are_unique_and_complete():
    assert len(ENTRIES) == len(CATALOGUE)
    for e in ENTRIES:
        assert re.fullmatch(r"[EW]0\d{3}", e.code)
        assert e.title and e.title[0].islower(), e.code
        assert len(e.explanation) > 60, e.code
        assert e.wrong.strip() and e.right.strip(), e.code


def _check(entry, text: str, params: dict, tmp_path: Path, encoding: str = "utf-8"):
    folder = tmp_path / "work" / "main"
    folder.mkdir(parents=True)
    for rel, body in entry.files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
    main = folder / "main.arch"
    main.write_bytes(text.encode(encoding))
    defaults = Limits()
    limits = Limits(**{k: entry.limits.get(k, getattr(defaults, k))
                       for k in defaults.__dataclass_fields__})
    result = run(path=str(main), params=dict(params), limits=limits,
                 load=LoadOptions(sandbox=entry.sandbox))
    return result.diagnostics.items


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.code)
def test_wrong_example_fails_with_its_code(entry, tmp_path):
    if entry.code.startswith("E06"):
        pytest.skip("an export error: `check` passes; tests/torch/test_onnx.py exports it")
    diags = _check(entry, entry.wrong, entry.params, tmp_path, entry.wrong_encoding)
    assert {d.code for d in diags} == {entry.code}, [(d.code, d.message) for d in diags]
    assert all(d.span is not None for d in diags)
    # a warning's example has that warning and no error; an error's, errors
    severity = "warning" if entry.code.startswith("W") else "error"
    assert {d.severity for d in diags} == {severity}


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.code)
def test_right_example_checks_clean(entry, tmp_path):
    diags = _check(entry, entry.right, entry.right_params, tmp_path)
    assert not diags, [(d.code, d.message) for d in diags]


def test_explain_prints_the_entry():
    code, out, err = run_cli("explain", "E0301")
    assert code == 0 and not err
    assert out == explain("E0301")
    assert out.startswith("E0301: kernel or window does not fit")
    assert "Wrong:" in out and "Right:" in out and "conv(120, 7x7)" in out


def test_explain_accepts_lowercase_and_bare_numbers():
    assert run_cli("explain", "e0301")[1] == run_cli("explain", "301")[1] == explain("E0301")


def test_explain_without_a_code_lists_them_all():
    code, out, _ = run_cli("explain")
    assert code == 0
    assert len(out.splitlines()) == len(CATALOGUE)


def test_explain_a_warning():
    code, out, err = run_cli("explain", "w0002")
    assert code == 0 and not err
    assert out == explain("W0002") and out.startswith("W0002: a binding that looks like a label")


def test_explain_unknown_code_is_a_usage_error():
    code, out, err = run_cli("explain", "E0399")
    assert code == 2 and not out
    assert "no error code `E0399`" in err and "did you mean" in err


def test_every_rendered_code_in_the_golden_files_is_explained():
    for expected in (ROOT / "tests" / "errors").rglob("*.expected"):
        for code in re.findall(r"(?:error|warning)\[([EW]0\d{3})\]", expected.read_text()):
            assert code in CATALOGUE, f"{expected.name}: {code}"
