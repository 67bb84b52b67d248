"""The server's state in-process (dsl/lsp/workspace.py, analysis.py): checks are redone only
when what they read changed, replaced checks are freed by reference counting (no work left
for the cyclic collector, whose passes over a large heap would stall the editor), and the
tolerant pass keeps the definitions that parse."""

from __future__ import annotations

import gc

import pytest

pytest.importorskip("lsprotocol", reason="needs the `lsp` extra")

from archdsl.lsp.analysis import tolerant_text
from archdsl.lsp.convert import path_to_uri
from archdsl.lsp.workspace import Workspace
from tests.conftest import ROOT

ZOO = ROOT / "architectures"


def test_a_check_is_reused_until_its_text_changes():
    ws = Workspace()
    uri = path_to_uri(str(ZOO / "lenet5.arch"))
    ws.open(uri, (ZOO / "lenet5.arch").read_text(), 1)
    first = ws.analysis(uri)
    assert ws.analysis(uri) is first
    ws.change(uri, [((0, 0), (0, 0), "# a comment\n")], 2)
    assert ws.analysis(uri) is not first


def _cycles_after_edits(free) -> int:
    """Objects the cyclic collector finds after ten edits of ResNet-152, the replaced checks
    handed to `free`."""
    ws = Workspace()
    path = ZOO / "resnet152.arch"
    uri = path_to_uri(str(path))
    ws.open(uri, path.read_text(), 1)
    ws.diagnostics()
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        for v in range(2, 12):
            ws.change(uri, [((0, 0), (0, 0), "#\n")], v)
            ws.diagnostics()
            free(ws)
        return gc.collect()
    finally:
        if was:
            gc.enable()


def test_replaced_checks_leave_no_cycles():
    released = _cycles_after_edits(Workspace.release)
    forgotten = _cycles_after_edits(lambda ws: ws._dropped.clear())  # dropped, not released
    # what is left is the parser's own closures, about a hundred objects a parse; a syntax
    # tree left to the collector is thousands
    assert released < 150 * 10, released
    assert forgotten > 5 * released, (forgotten, released)


def test_the_tolerant_pass_blanks_only_the_broken_definitions():
    text = "block a {\n    relu\n}\nblock b {\n    conv(\n}\nnetwork n {\n    input 4\n}\n"
    out = tolerant_text(text, "x.arch")
    assert len(out) == len(text) and out.count("\n") == text.count("\n")
    assert "block a" in out and "network n" in out and "block b" not in out
    assert tolerant_text("network n {", "x.arch") is None


def test_the_server_never_imports_torch():
    import subprocess
    import sys

    code = ("import sys\nimport archdsl.lsp.server\nfrom archdsl.lsp.workspace import Workspace"
            "\nfrom archdsl.lsp.convert import path_to_uri\nws = Workspace()\n"
            f"p = {str(ZOO / 'resnet50.arch')!r}\nws.open(path_to_uri(p), open(p).read())\n"
            "ws.diagnostics()\nassert 'torch' not in sys.modules, 'torch imported'\n"
            "assert 'networkx' not in sys.modules, 'networkx imported'\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr


def test_without_pygls_the_command_says_what_to_install():
    import subprocess
    import sys

    code = ("import sys\nsys.modules['pygls'] = None\nsys.modules['pygls.lsp.server'] = None\n"
            "from archdsl.cli import main\nsys.exit(main(['lsp']))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2
    assert "pip install 'archdsl[lsp]'" in out.stderr and "pygls is missing" in out.stderr
    assert "Traceback" not in out.stderr
