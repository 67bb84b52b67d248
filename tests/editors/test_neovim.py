"""A real editor: headless Neovim with its built-in LSP client and the files of editors/nvim
(ftdetect, ftplugin, syntax) on its runtimepath opens a broken `.arch` file, starts
`archdsl lsp` through the ftplugin, and receives the diagnostic with its code and line; the
syntax file draws layer kinds, labels, sizes and comments with their groups. Skipped where
Neovim is not installed (`make neovim` installs it with apt when it can)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("pygls", reason="needs the `lsp` extra (pygls)")

from tests.conftest import ROOT

NVIM = ROOT / "editors" / "nvim"
BROKEN = """# conv2's kernel no longer fits its 14x14 input
network net {
    input 1x32x32
    conv1: conv(6, 5x5)       # -> 6x28x28
    pool1: maxpool(2x2, stride=2)
    conv2: conv(16, 15x15)
}
"""


def test_neovim_receives_the_diagnostic_with_its_code(tmp_path):
    nvim = shutil.which("nvim")
    if nvim is None:
        pytest.skip("Neovim is not installed (make neovim, or apt-get install neovim)")
    path = tmp_path / "broken.arch"
    path.write_text(BROKEN)
    out = tmp_path / "seen.json"
    lines = BROKEN.split("\n")
    probes = {"layer": [4, lines[3].index("conv(") + 1], "label": [4, 5],
              "dims": [3, lines[2].index("1x32x32") + 1], "comment": [1, 3],
              "keyword": [2, 1], "number": [4, lines[3].index("6,") + 1],
              "kwarg": [5, lines[4].index("stride") + 1]}
    cmd = [sys.executable, "-m", "archdsl.cli", "lsp"]
    env = {**os.environ, "ARCH_OUT": str(out),
           "ARCH_PROBES": json.dumps(list(probes.values())), "XDG_CONFIG_HOME": str(tmp_path),
           "XDG_DATA_HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path),
           "XDG_CACHE_HOME": str(tmp_path)}
    lua_cmd = "lua vim.g.archdsl_lsp_cmd = vim.fn.json_decode([==[" + json.dumps(cmd) + "]==])"
    run = subprocess.run(
        [nvim, "--headless", "--clean", "--cmd", f"set runtimepath^={NVIM}", "--cmd", lua_cmd,
         "-c", f"luafile {ROOT / 'tests' / 'editors' / 'nvim_check.lua'}", str(path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert out.exists(), run.stdout + run.stderr
    seen = json.loads(out.read_text())
    assert seen["filetype"] == "arch" and seen["commentstring"] == "# %s"
    assert seen["clients"] == ["archdsl"]
    assert seen["waited"], seen
    (d,) = seen["diagnostics"]
    assert d["code"] == "E0301"
    assert d["lnum"] == 5 and d["col"] == lines[5].index("conv(")  # 0-based, as Neovim counts
    assert d["message"].startswith("conv kernel 15x15 does not fit in its 14x14 padded input")
    assert d["source"] == "archdsl"
    groups = {k: g.split("/")[1] for k, g in zip(probes, seen["groups"], strict=True)}
    assert groups == {"layer": "archLayer", "label": "archLabel", "dims": "archDims",
                      "comment": "archComment", "keyword": "archStorageClass",
                      "number": "archInteger", "kwarg": "archParameter"}
