"""The VS Code extension (editors/vscode): its client's unit tests (node --test, with VS Code
replaced by recorders), and a `.vsix` packaged by @vscode/vsce that holds the manifest, the
client with vscode-languageclient, the language configuration and the generated grammar."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile

import pytest

from tests.conftest import ROOT

VSCODE = ROOT / "editors" / "vscode"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    return node


def _deps(package: str) -> None:
    if not (VSCODE / "node_modules" / package).exists():
        pytest.skip(f"{package} is not installed: make editors-deps (npm ci in editors/vscode)")


def test_manifest_contributes_the_language_and_grammar():
    manifest = json.loads((VSCODE / "package.json").read_text())
    (lang,) = manifest["contributes"]["languages"]
    assert lang["extensions"] == [".arch"]
    (grammar,) = manifest["contributes"]["grammars"]
    assert grammar["scopeName"] == "source.arch" and (VSCODE / grammar["path"]).is_file()
    config = json.loads((VSCODE / lang["configuration"]).read_text())
    assert config["comments"]["lineComment"] == "#"
    assert ["{", "}"] in config["brackets"] and ["(", ")"] in config["brackets"]
    lock = json.loads((VSCODE / "package-lock.json").read_text())
    for name, version in {**manifest["dependencies"], **manifest["devDependencies"]}.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version  # pinned


def test_client_unit_tests():
    node = _node()
    _deps("vscode-languageclient")
    out = subprocess.run([node, "--test", "test/"], cwd=VSCODE, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "# fail 0" in out.stdout and "# pass 2" in out.stdout


def test_vsix_packages(tmp_path):
    _node()
    _deps("@vscode/vsce")
    vsix = tmp_path / "archdsl.vsix"
    out = subprocess.run([str(VSCODE / "node_modules" / ".bin" / "vsce"), "package",
                          "--allow-missing-repository", "--out", str(vsix)], cwd=VSCODE,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    with zipfile.ZipFile(vsix) as z:
        names = set(z.namelist())
        assert {"extension/package.json", "extension/extension.js",
                "extension/language-configuration.json",
                "extension/syntaxes/arch.tmLanguage.json",
                "extension/node_modules/vscode-languageclient/package.json"} <= names
        assert z.read("extension/syntaxes/arch.tmLanguage.json").decode() == \
            (VSCODE / "syntaxes" / "arch.tmLanguage.json").read_text()
        assert not any(n.startswith("extension/test/") or "vscode-textmate" in n
                       for n in names)
