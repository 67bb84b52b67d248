"""Every install shape from the built wheel (issue 15): `pip install archdsl` runs the front end
and the diagrams and nothing imports torch; `archdsl[torch]` compiles, `archdsl[onnx]`
exports, `archdsl[all]` also serves editors; a missing extra is a usage error that says
exactly what to install.

Each shape is a fresh virtual environment (no system site-packages) that sees exactly the
distributions its requirements call for: the closure of the wheel's own `Requires-Dist`
for those extras, linked from this environment's site-packages. The wheel is then installed
with pip, offline (`--no-index`, no configuration, no find-links) and *with* dependency
resolution, so a requirement missing from the wheel's metadata fails the install here, and
a requirement that is not needed would show as a module the base shape can import.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from archdsl import extras

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX venv layout")

OFFLINE = {"PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_NO_INDEX": "1",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONWARNINGS": "ignore"}


def _requires(wheel: str) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = zf.read(name).decode()
    return [line.split(":", 1)[1].strip() for line in meta.splitlines()
            if line.startswith("Requires-Dist:")]


def closure(wheel: str, wanted: tuple[str, ...]) -> set[str]:
    """The distributions `archdsl[wanted]` needs, by the wheel's metadata and then by each
    installed distribution's own (its markers evaluated here, extras followed)."""
    own = [Requirement(r) for r in _requires(wheel)]
    seen: set[str] = set()
    todo = list(wanted)
    chosen_extras = {""}
    while todo:  # archdsl's extras may name each other (`all = archdsl[torch,onnx,lsp]`)
        extra = todo.pop()
        if extra in chosen_extras:
            continue
        chosen_extras.add(extra)
        for req in own:
            if canonicalize_name(req.name) == "archdsl" and (
                    req.marker is None or req.marker.evaluate({"extra": extra})):
                todo += list(req.extras)
    stack = [r for r in own if canonicalize_name(r.name) != "archdsl"
             and any(r.marker is None or r.marker.evaluate({"extra": e})
                     for e in chosen_extras)]
    while stack:
        req = stack.pop()
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        dist = md.distribution(name)
        for text in dist.requires or []:
            sub = Requirement(text)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e})
                                         for e in ("", *req.extras)):
                stack.append(sub)
    return seen


def _link(dists: set[str], site: Path) -> None:
    """Each distribution's top-level files and folders, linked into `site`."""
    for name in sorted(dists):
        dist = md.distribution(name)
        tops = {f.parts[0] for f in dist.files or [] if f.parts[0] not in ("..", "__pycache__")
                and not f.parts[0].endswith(".pth")}
        for top in tops:
            src = Path(dist.locate_file(top))
            dst = site / top
            if src.exists() and not dst.exists():
                dst.symlink_to(src)


@pytest.fixture(scope="module")
def shapes(wheel, tmp_path_factory):
    """`make(extras)`: a fresh environment with the wheel installed for those extras; its
    bin folder. Made once per shape."""
    made: dict[tuple, Path] = {}

    def make(*wanted: str) -> Path:
        if wanted in made:
            return made[wanted]
        root = tmp_path_factory.mktemp("venv-" + ("-".join(wanted) or "base"))
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
        site = Path(sysconfig.get_path("purelib", vars={"base": str(root),
                                                         "platbase": str(root)}))
        _link(closure(wheel, wanted), site)
        target = wheel + (f"[{','.join(wanted)}]" if wanted else "")
        res = subprocess.run([sys.executable, "-m", "pip", "--python", str(root / "bin" /
                              "python"), "install", "-q", "--no-index", "--no-cache-dir",
                              target], capture_output=True, text=True,
                             env={**os.environ, **OFFLINE}, timeout=300)
        assert res.returncode == 0, res.stderr  # a requirement the metadata forgot
        made[wanted] = root / "bin"
        return made[wanted]

    return make


def _run(bin_: Path, *argv: str, cwd=None, stdin: str | None = None):
    return subprocess.run([str(bin_ / "archdsl"), *argv], capture_output=True, text=True,
                          input=stdin, cwd=cwd, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


def _python(bin_: Path, code: str):
    return subprocess.run([str(bin_ / "python"), "-c", code], capture_output=True, text=True,
                          timeout=300)


def test_the_base_install_runs_the_front_end_and_diagrams(shapes, tmp_path):
    bin_ = shapes()
    assert _python(bin_, "import torch").returncode != 0  # the environment is really bare
    for argv in (["check", "lenet5"], ["summary", "resnet50", "--depth", "1"], ["zoo"],
                 ["draw", "googlenet", "--format", "dot"], ["explain", "E0301"]):
        res = _run(bin_, *argv)
        assert res.returncode == 0, (argv, res.stderr)
    res = _run(bin_, "fmt", "-", stdin="network n{input 8;relu}\n")
    assert res.returncode == 0 and res.stdout.startswith("network n {")
    code = ("import sys, archdsl\nnet = archdsl.zoo('resnet18')\n"
            "assert net.params == 11689512\nnet.summary(); net.to_dot()\n"
            "assert 'torch' not in sys.modules\nprint('ok')\n")
    res = _python(bin_, code)
    assert res.stdout == "ok\n", res.stderr


@pytest.mark.parametrize(("argv", "extra", "needs"), [
    (["compile", "lenet5"], "torch", "PyTorch (torch is not installed)"),
    (["export", "lenet5", "-o", "l.onnx"], "onnx",
     "PyTorch and onnx (torch and onnx are not installed)"),
    (["lsp"], "lsp", None),
])
def test_a_missing_extra_is_a_usage_error_naming_it(shapes, tmp_path, argv, extra, needs):
    res = _run(shapes(), *argv, cwd=tmp_path, stdin="")
    assert res.returncode == 2, res.stderr
    assert f"pip install 'archdsl[{extra}]'" in res.stderr
    assert res.stderr.startswith("archdsl: error: "), res.stderr
    if needs:
        assert res.stderr == (f"archdsl: error: `archdsl {argv[0]}` needs {needs}: "
                              f"pip install 'archdsl[{extra}]'\n")
    assert "error[" not in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "l.onnx").exists()


def test_the_api_says_which_extra_a_method_needs(shapes):
    code = ("import archdsl\ntry:\n    archdsl.zoo('lenet5').to_torch()\n"
            "except ImportError as exc:\n    print(type(exc).__name__, exc)\n")
    res = _python(shapes(), code)
    assert res.stdout == ("MissingExtra Network.to_torch() needs PyTorch (torch is not "
                          "installed): pip install 'archdsl[torch]'\n"), res.stderr


def test_the_torch_extra_compiles_and_lowers(shapes, tmp_path):
    bin_ = shapes("torch")
    assert _python(bin_, "import onnx").returncode != 0
    out = tmp_path / "lenet5.py"
    res = _run(bin_, "compile", "lenet5", "-o", str(out))
    assert res.returncode == 0 and res.stderr.startswith(f"wrote {out}"), res.stderr
    run = subprocess.run([str(bin_ / "python"), str(out)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0 and "output (1, 10)" in run.stdout, run.stderr
    res = _run(bin_, "export", "lenet5", "-o", str(tmp_path / "l.onnx"))
    assert res.returncode == 2 and "pip install 'archdsl[onnx]'" in res.stderr
    assert "onnx is not installed" in res.stderr


def test_the_onnx_extra_exports_checked_files(shapes, tmp_path):
    out = tmp_path / "l.onnx"
    res = _run(shapes("onnx"), "export", "lenet5", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert res.stderr.endswith("checked with onnxruntime\n") and out.stat().st_size > 200_000


def test_all_brings_every_extra(shapes):
    bin_ = shapes("all")
    for extra in extras.EXTRAS:
        code = f"from archdsl import extras\nextras.require({extra!r}, 'x')\n"
        assert _python(bin_, code).returncode == 0, extra
    res = _run(bin_, "lsp", "--help")
    assert res.returncode == 0


def test_extras_module_and_metadata_agree(wheel):
    """Each extra that dsl/extras.py names exists in the wheel and brings its modules'
    distributions (torch -> torch; onnx -> torch, onnx, onnxruntime; lsp -> pygls...)."""
    declared = {Requirement(r).marker for r in _requires(wheel)}
    named = {str(m).split("==")[1].strip(' "') for m in declared if m is not None}
    assert set(extras.EXTRAS) | {"all"} <= named, named
    for extra, modules in extras.EXTRAS.items():
        dists = closure(wheel, (extra,))
        for module in modules:
            assert canonicalize_name(module) in dists, (extra, module, dists)
    assert {"torch", "onnx", "onnxruntime", "pygls"} <= closure(wheel, ("all",))
    assert closure(wheel, ()) == {"lark", "networkx"}
