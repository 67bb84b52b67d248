"""The render step, the CLI and the Python API: formats, determinism, and a missing `dot`."""

from __future__ import annotations

import pytest

import archdsl
from archdsl.backends.graphviz import DotNotFound, render, svg_or_none, to_dot
from tests.conftest import TESTS, run_cli
from tests.graphviz.helpers import case, needs_dot, zoo

BROKEN = (TESTS / "graphviz" / "cases" / "broken.arch").as_posix()


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCHDSL_DOT", str(tmp_path / "no-such-dot"))


def test_dot_text_is_deterministic():
    ir, _ = case("branched")
    assert to_dot(ir) == to_dot(case("branched")[0])
    assert to_dot(zoo("resnet50"), depth=2) == to_dot(zoo("resnet50"), depth=2)


@needs_dot
def test_svg_is_byte_identical_run_to_run():
    text = to_dot(zoo("resnet18"), merge_chains=True)
    assert render(text, "svg") == render(text, "svg")


def test_missing_dot_says_how_to_install_it(no_dot):
    with pytest.raises(DotNotFound, match="apt-get install graphviz"):
        render("digraph { a }", "svg")
    assert svg_or_none(zoo("lenet5")) is None


def test_cli_without_dot_still_writes_dot_text(no_dot, tmp_path):
    out = tmp_path / "lenet5.dot"
    code, _, err = run_cli("draw", "lenet5", "-o", str(out))
    assert code == 0 and err == f"wrote {out}: lenet5 as DOT\n"  # the status line, on stderr
    assert out.read_text() == to_dot(zoo("lenet5"))
    svg = tmp_path / "lenet5.svg"
    code, _, err = run_cli("draw", "lenet5", "-o", str(svg))
    assert code == 1 and not svg.exists()
    assert "archdsl: error: Graphviz's `dot` program was not found" in err
    assert "install graphviz" in err and "Traceback" not in err


def test_cli_prints_dot_to_stdout_without_output():
    code, out, _ = run_cli("draw", "lenet5", "--depth", "1", "--no-shapes")
    assert code == 0 and out == to_dot(zoo("lenet5"), depth=1, shapes=False)


@needs_dot
@pytest.mark.parametrize("ext", ["svg", "png", "pdf"])
def test_cli_renders_by_extension(tmp_path, ext):
    out = tmp_path / f"lenet5.{ext}"
    code, _, err = run_cli("draw", "lenet5", "-o", str(out))
    assert code == 0, err
    magic = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}[ext]
    assert out.read_bytes().startswith(magic)


@needs_dot
def test_cli_format_overrides_extension(tmp_path):
    out = tmp_path / "x.img"
    code, _, err = run_cli("draw", "lenet5", "-o", str(out), "--format", "png")
    assert code == 0, err
    assert out.read_bytes().startswith(b"\x89PNG")


def test_cli_broken_file_draws_a_partial_diagram(tmp_path):
    out = tmp_path / "why.dot"
    code, _, err = run_cli("draw", BROKEN, "-o", str(out))
    assert code == 1
    assert "error[E0301]" in err and "wrote a partial diagram" in err
    text = out.read_text()
    assert "conv3" in text and "#d62728" in text and "fc" not in text


def test_cli_usage_errors(tmp_path):
    code, _, err = run_cli("draw", "lenet5", "-o", str(tmp_path / "x.jpg"))
    assert code == 2 and "unknown diagram format `jpg`" in err
    code, _, err = run_cli("draw", "lenet5", "--depth", "0")
    assert code == 2 and "--depth must be 1 or more" in err
    code, _, err = run_cli("draw", "googlenet", "--focus", "nope")
    assert code == 2 and "nothing to draw inside `nope`" in err
    code, _, err = run_cli("draw", BROKEN, "-o", BROKEN, "--format", "dot")
    assert code == 2 and "refusing to write" in err


def test_python_api_draw(tmp_path):
    net = archdsl.zoo("lenet5")
    path = net.draw(str(tmp_path / "n.dot"), depth=1)
    assert (tmp_path / "n.dot").read_text() == net.to_dot(depth=1) and path.endswith("n.dot")


@needs_dot
def test_jupyter_repr_is_svg():
    svg = archdsl.zoo("lenet5")._repr_svg_()
    assert svg is not None and "<svg" in svg


def test_drawing_never_imports_torch():
    import subprocess
    import sys

    code = ("import sys, archdsl; from archdsl.cli import main; "
            "main(['draw', 'resnet18', '--depth', '2']); assert 'torch' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
