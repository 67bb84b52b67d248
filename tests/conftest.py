"""Shared test helpers: reference data, running the CLI in-process, golden files."""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

# Colour is for a person at a terminal: a CI that forces it (FORCE_COLOR=1) must not paint
# the diagnostics the tests compare (tests/test_shell.py sets these itself where it tests them).
for _name in ("FORCE_COLOR", "CLICOLOR_FORCE"):
    os.environ.pop(_name, None)

TESTS = Path(__file__).parent
REFERENCE = TESTS / "reference"
ROOT = TESTS.parent


def pytest_addoption(parser):
    parser.addoption("--bless", action="store_true",
                     help="rewrite golden files (diagnostics, DOT, generated code) from the "
                          "current output; review the diff before committing")


@pytest.fixture
def bless(request) -> bool:
    return request.config.getoption("--bless") or os.environ.get("ARCHDSL_BLESS") == "1"


def reference(name: str) -> dict:
    """A reference JSON: `seed_numbers` or `torchvision/resnet50`."""
    return json.loads((REFERENCE / f"{name}.json").read_text())


def run_cli(*argv: str) -> tuple[int, str, str]:
    """Run `archdsl ARGV...` in-process; (exit code, stdout, stderr)."""
    from archdsl.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> str:
    """The wheel of this source tree, built once per run (no build isolation: offline)."""
    import glob
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(ROOT)], check=True, capture_output=True)
    (path,) = glob.glob(str(out / "archdsl-*.whl"))
    return path


def check_golden(path: Path, actual: str, bless: bool) -> None:
    """Compare with a golden file; with --bless, rewrite it instead."""
    if bless or not path.exists():
        if not bless:
            pytest.fail(f"missing golden file {path}; run pytest --bless to create it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
        return
    expected = path.read_text()
    assert actual == expected, f"{path.name} differs from its golden file (pytest --bless)"


# Hypothesis profiles: `ci` (the default) is derandomized, so every run draws the same
# examples; `long` draws 5,000 fresh ones:
#   ARCHDSL_HYPOTHESIS_PROFILE=long pytest tests/test_differential.py
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("ci", max_examples=200, derandomize=True, deadline=None,
                          database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=5000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("ARCHDSL_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tests that run many tiny torch ops: intra-op threads only add hand-off costs (10x on a
    busy machine). Use with `pytestmark = pytest.mark.usefixtures("one_torch_thread")`."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
