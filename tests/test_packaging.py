"""The installed package, not only the source tree: the grammar and the zoo are found from a
built wheel, nothing named `dsl` or `backends` lands in site-packages, and the front end
never imports torch."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile

import pytest


def test_wheel_layout(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"archdsl", next(t for t in tops if t.endswith(".dist-info"))}
    assert "archdsl/grammar/archdsl.lark" in names
    assert "archdsl/architectures/lenet5.arch" in names
    assert any(n.startswith("archdsl/backends/") for n in names)


def test_installed_wheel_finds_grammar_and_zoo(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), wheel], check=True, capture_output=True)
    # -S: no site hooks, so the editable install of the source tree cannot interfere
    deps = sysconfig.get_paths()["purelib"]
    code = (f"import sys; sys.path[:0] = [{str(target)!r}, {deps!r}]\n"
            "import archdsl\n"
            f"assert archdsl.__file__.startswith({str(target)!r}), archdsl.__file__\n"
            "net = archdsl.zoo('lenet5')\n"
            "assert net.params == 61706\n"
            "from archdsl.cli import main\n"
            "assert main(['check', 'resnet50']) == 0\n"
            "print('ok')\n")
    res = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


@pytest.mark.parametrize("argv", [["check", "lenet5"], ["summary", "resnet50"], ["zoo"]])
def test_front_end_never_imports_torch(argv):
    code = ("import sys\nfrom archdsl.cli import main\n"
            f"rc = main({argv!r})\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n"
            "sys.exit(rc)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert res.returncode == 0, res.stderr


def test_console_script_is_installed():
    exe = os.path.join(os.path.dirname(sys.executable), "archdsl")
    res = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.startswith("archdsl")
