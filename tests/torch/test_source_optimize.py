"""`to_source(optimize=True)` / `archdsl compile --optimize`: the same class (unoptimised
state_dicts load), plus a torch-only `optimize(model)` whose result equals the unoptimised
module in eval mode within 1e-4 and folds exactly the batch norms `to_torch(optimize=True)`
folds."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

import archdsl  # noqa: E402
from tests.conftest import check_golden, run_cli  # noqa: E402

from .helpers import BRANCHED, GOLDEN, branched, randomize_norms  # noqa: E402

NORMS = torch.nn.modules.batchnorm._BatchNorm
NETS = {
    "lenet5": (lambda: archdsl.zoo("lenet5"), "Lenet5", (2, 1, 32, 32)),
    "resnet18": (lambda: archdsl.zoo("resnet18"), "Resnet18", (2, 3, 64, 64)),
    "branched": (branched, "Branched", (2, 3, 16, 16)),
}


def run_source(src: str) -> dict:
    """Execute generated source in a fresh namespace (as a module, not as `__main__`)."""
    namespace = {"__name__": "generated"}
    exec(compile(src, "<generated>", "exec"), namespace)
    return namespace


def trained(model):
    return randomize_norms(model)


@pytest.mark.parametrize("name", NETS)
def test_optimize_equals_the_unoptimised_module(name):
    make, cls, shape = NETS[name]
    net = make()
    ns = run_source(net.to_source(optimize=True))
    torch.manual_seed(0)
    model = trained(ns[cls]())
    # The class is the plain one: a state_dict of `to_torch()` (or of training) loads.
    model.load_state_dict(trained(net.to_torch()).state_dict())
    model.eval()
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = model(x)
        fast = ns["optimize"](model)
        got = fast(x)
    assert not fast.training
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    # The same batch norms are gone as in the fx pipeline's optimisation.
    left = sorted(k for k, m in fast.named_modules() if isinstance(m, NORMS))
    ref = net.to_torch(optimize=True)
    assert left == sorted(k for k, m in ref.named_modules() if isinstance(m, NORMS))
    if name != "lenet5":
        assert any(isinstance(m, NORMS) for m in model.modules()), "model itself is unchanged"


def test_only_the_optimize_flag_changes_the_file():
    net = branched()
    plain, fast = net.to_source(), net.to_source(optimize=True)
    cls = lambda src: src[src.index("class Branched"):src.index('if __name__')]  # noqa: E731
    assert cls(plain) == cls(fast)
    assert "def optimize(" not in plain and "--optimize" in fast.split('"""')[0]


def test_optimized_source_imports_only_torch():
    imported = set()
    for node in ast.walk(ast.parse(archdsl.zoo("resnet18").to_source(optimize=True))):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported == {"torch"}


def test_golden(bless):
    net = archdsl.parse(BRANCHED.read_text(), filename="tests/torch/branched.arch")
    check_golden(GOLDEN / "branched.optimized.py.txt", net.to_source(optimize=True), bless)


def test_cli_compile_optimize_runs_alone(tmp_path):
    out = tmp_path / "resnet18.py"
    code, _, err = run_cli("compile", "resnet18", "--optimize", "-o", str(out))
    assert code == 0, err
    src = out.read_text()
    assert "def optimize(model" in src and "model = optimize(model)" in src
    run = subprocess.run([sys.executable, str(out)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Resnet18: input (1, 3, 224, 224) -> output (1, 1000)" in run.stdout
