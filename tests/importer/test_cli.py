"""`archdsl import SPEC`: exit 0 and the file written; exit 1 with the located list of what
archdsl cannot express, and nothing written; exit 2 for a malformed SPEC, an unknown module
or a bad --input, with a message and never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("torch")

from tests.conftest import ROOT, run_cli

NETS = textwrap.dedent('''
    import torch
    from torch import nn


    class Net(nn.Module):
        def __init__(self, width=8, classes=3):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU())
            self.fc = nn.Linear(width, classes)

        def forward(self, x):
            x = self.features(x).mean((2, 3))
            return self.fc(x)


    def small():
        return Net(4)


    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x):
            return self.attn(x, x, x)[0]


    class Keyword(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = nn.Sequential(nn.Conv2d(3, 4, 1))

        def forward(self, x):
            return self.block(x)


    NOT_A_MODEL = 3
''')


@pytest.fixture
def pkg(tmp_path, monkeypatch):
    (tmp_path / "user_nets.py").write_text(NETS)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("user_nets", None)


def test_writes_the_file(pkg):
    out = pkg / "net.arch"
    code, stdout, err = run_cli("import", "user_nets:Net(width=16, classes=5)", "--input",
                                "3x8x8", "-o", str(out))
    assert code == 0, err
    text = out.read_text()
    assert text.startswith("# From user_nets:Net(width=16, classes=5) by `archdsl import`")
    assert "network net(classes = 5) {" in text and "fc: linear(classes)" in text
    assert "wrote" in err and stdout == ""
    assert run_cli("check", str(out))[0] == 0


def test_a_factory_and_a_name_to_stdout(pkg):
    code, stdout, err = run_cli("import", "user_nets:small", "--input", "3x8x8", "--name",
                                "tiny")
    assert code == 0, err
    assert "network tiny(classes = 3) {" in stdout and "conv(4, 3x3, pad=1)" in stdout


def test_unexpressible_lists_what_is_missing_and_writes_nothing(pkg):
    out = pkg / "attn.arch"
    code, stdout, err = run_cli("import", "user_nets:Attention", "--input", "4x8", "-o",
                                str(out))
    assert code == 1
    assert not out.exists() and stdout == ""
    assert ("user_nets:Attention: error: attn: torch.nn.modules.activation.MultiheadAttention: "
            "archdsl has no layer kind for this class") in err
    assert "nothing written" in err and "Traceback" not in err


def test_mark_unsupported_writes_the_file_and_fails(pkg):
    out = pkg / "kw.arch"
    code, _, err = run_cli("import", "user_nets:Keyword", "--input", "3x8x8", "-o", str(out))
    assert code == 1 and not out.exists() and "nothing written" in err
    code, _, err = run_cli("import", "user_nets:Keyword", "--input", "3x8x8", "-o", str(out),
                           "--mark-unsupported")
    assert code == 1, err
    assert "block_: [conv(4, 1x1)]  # UNSUPPORTED: named `block` in the model" in out.read_text()
    assert "written renamed and marked" in err
    assert run_cli("check", str(out))[0] == 0


@pytest.mark.parametrize("spec, message", [
    ("user_nets", "is not a model: write MODULE:FACTORY"),
    ("user nets:Net", "is not a Python module name"),
    ("user_nets:Net(", "is not a name or a call with literal arguments"),
    ("user_nets:Net(width=__import__('os'))", "must be Python literals"),
    ("user_nets:Missing", "`user_nets` has no `Missing`"),
    ("no_such_module_anywhere:Net", "no Python module named `no_such_module_anywhere`"),
    ("user_nets:Net(color=1)", "failed: TypeError"),
    ("user_nets:NOT_A_MODEL", "gives a int, not a torch.nn.Module"),
])
def test_malformed_specs_are_usage_errors(pkg, spec, message):
    code, stdout, err = run_cli("import", spec, "--input", "3x8x8")
    assert code == 2, err
    assert message in err and "Traceback" not in err and stdout == ""


def test_bad_input_shape(pkg):
    code, _, err = run_cli("import", "user_nets:Net", "--input", "3xx8")
    assert code == 2 and "--input" in err


def test_never_overwrites_the_models_source(pkg):
    code, _, err = run_cli("import", "user_nets:Net", "--input", "3x8x8", "-o",
                           str(pkg / "user_nets.py"))
    assert code == 2 and "it is the model's source" in err
    assert "class Net" in (pkg / "user_nets.py").read_text()


def test_output_is_a_folder(pkg):
    code, _, err = run_cli("import", "user_nets:Net", "--input", "3x8x8", "-o", str(pkg))
    assert code == 2 and "is a folder" in err


def test_in_a_process_with_pythonpath(tmp_path):
    """The console entry point, a SPEC found through PYTHONPATH, then `check` of the result."""
    (tmp_path / "user_nets.py").write_text(NETS)
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
    out = tmp_path / "net.arch"
    run = subprocess.run([sys.executable, "-m", "archdsl.cli", "import", "user_nets:Net(8)",
                          "--input", "3x16x16", "-o", str(out)], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr
    assert out.exists()
    check = subprocess.run([sys.executable, "-m", "archdsl.cli", "check", str(out)],
                           capture_output=True, text=True, env=env, timeout=300)
    assert check.returncode == 0, check.stderr
