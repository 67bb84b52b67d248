"""Golden diagnostics: every broken file in tests/errors/ and the exact text a person reads.

Each `NAME.arch` has `NAME.expected` beside it: what `archdsl check tests/errors/NAME.arch`
prints on stderr, run from the project root so that paths are relative and stable. Files whose
name starts with `summary_` are run through `archdsl summary` instead (diagnostics, then the
table). A first line `# args: ...` adds command-line arguments (e.g. `--set clases=10`).
Files under a `lib/` folder are only imported by the others. Re-bless with `pytest --bless`
after a deliberate change, and read the diff.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.conftest import ROOT, TESTS, check_golden, run_cli

ERRORS = TESTS / "errors"
CASES = sorted(p for p in ERRORS.rglob("*.arch") if "lib" not in p.relative_to(ERRORS).parts)


def _argv(path: Path) -> list[str]:
    rel = path.relative_to(ROOT).as_posix()
    text = path.read_bytes().decode("utf-8", "replace")  # some cases are not UTF-8 on purpose
    first = text.splitlines()[0] if text else ""
    extra = shlex.split(first[len("# args:"):]) if first.startswith("# args:") else []
    command = "summary" if path.name.startswith("summary_") else "check"
    return [command, rel, *extra]


def _run(path: Path) -> tuple[int, str, str]:
    return run_cli(*_argv(path))


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def _id(p: Path) -> str:
    return p.relative_to(ERRORS).with_suffix("").as_posix()


@pytest.mark.parametrize("path", CASES, ids=_id)
def test_golden(path: Path, bless: bool):
    _, out, err = _run(path)
    text = err if not path.name.startswith("summary_") else err + "\n" + out
    check_golden(path.with_suffix(".expected"), text, bless)


@pytest.mark.parametrize("path", CASES, ids=_id)
def test_fails_cleanly(path: Path):
    """Exit 1 (errors in the input), never a traceback or an internal error. A case named
    `warn_...` has warnings only: exit 0, or 1 with `--werror`."""
    code, out, err = _run(path)
    assert "Traceback" not in err + out
    assert "internal error" not in err
    if "warn_" in path.name:
        assert code == (1 if "--werror" in _argv(path) else 0), err
        assert "warning[W0" in err and "error[" not in err
        return
    assert code == 1, err
    assert "error[E0" in err


def test_enough_cases():
    assert len(CASES) >= 35
    codes = set()
    for path in CASES:
        expected = path.with_suffix(".expected")
        if expected.exists():
            codes |= {line.split("[", 1)[1][:5] for line in expected.read_text().splitlines()
                      if "error[E" in line}
    assert len(codes) >= 35, sorted(codes)


def test_no_orphan_expected_files():
    for exp in ERRORS.rglob("*.expected"):
        assert exp.with_suffix(".arch").exists(), f"{exp} has no .arch beside it"


def test_several_errors_reported_at_once():
    _, _, err = _run(ERRORS / "several_errors.arch")
    assert err.count("error[E0") == 3
    assert err.rstrip().endswith("3 errors found")


def test_set_unknown_parameter_from_the_api():
    import archdsl

    with pytest.raises(archdsl.ArchError) as info:
        archdsl.load(ERRORS / "network_set_unknown.arch", clases=10)
    (diag,) = info.value.diagnostics
    assert diag.code == "E0211"
    assert "did you mean `classes`?" in diag.message
    assert diag.span is not None and diag.span.line == 3


def test_missing_default_given_from_the_api_is_fine():
    import archdsl

    net = archdsl.load(ERRORS / "network_missing_default.arch", classes=7)
    assert net.output_shape == (7,)


def test_json_diagnostics_carry_code_and_location():
    import json

    code, out, _ = run_cli("check", "--format", "json",
                           (ERRORS / "name_unknown_layer.arch").relative_to(ROOT).as_posix())
    assert code == 1
    (diag,) = json.loads(out)
    assert diag["code"] == "E0201"
    assert diag["span"]["line"] == 4 and diag["span"]["col"] == 12
