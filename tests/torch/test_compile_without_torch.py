"""`archdsl compile` writes text: it never imports torch (issue 14). Run in a fresh process
with a `torch` on the path that cannot be imported: the file comes out the same as
`to_source()` gives here, and no module named torch was loaded."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import archdsl

SCRIPT = """
import sys
from archdsl.cli import main
rc = main(["compile", "resnet152", "-o", sys.argv[1]])
assert not [m for m in sys.modules if m == "torch" or m.startswith("torch.")], "torch loaded"
sys.exit(rc)
"""


@pytest.mark.parametrize("poisoned", [False, True])
def test_compile_imports_no_torch(tmp_path, poisoned):
    env = dict(os.environ)
    if poisoned:
        fake = tmp_path / "fake" / "torch"
        fake.mkdir(parents=True)
        (fake / "__init__.py").write_text("raise ImportError('archdsl compile imported torch')\n")
        env["PYTHONPATH"] = os.pathsep.join([str(fake.parent), env.get("PYTHONPATH", "")])
    out = tmp_path / "r152.py"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(out)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == archdsl.zoo("resnet152").to_source()
