"""`to_torch(optimize=True)`: each pass alone and together computes what the eager module
computes (eval mode, within 1e-4), on LeNet-5, ResNet-18/50 and a small branched net."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import archdsl  # noqa: E402
from archdsl.backends.torch.optimize import channels_last, fold_bn, optimize  # noqa: E402
from tests.torch.helpers import randomize_norms  # noqa: E402

BRANCHED = Path(__file__).parent.parent / "torch" / "branched.arch"
NETS = {
    "lenet5": (lambda: archdsl.zoo("lenet5"), (2, 1, 32, 32)),
    "resnet18": (lambda: archdsl.zoo("resnet18"), (2, 3, 64, 64)),
    "resnet50": (lambda: archdsl.zoo("resnet50"), (2, 3, 64, 64)),
    "branched": (lambda: archdsl.load(BRANCHED), (2, 3, 16, 16)),
}
NORMS = torch.nn.modules.batchnorm._BatchNorm


def eager(name: str):
    """The eval-mode eager module with non-trivial batch-norm statistics (fresh ones are the
    identity, which would hide a wrong fold)."""
    torch.manual_seed(0)
    return randomize_norms(NETS[name][0]().to_torch().eval())


def same(a, b, name):
    x = torch.randn(NETS[name][1], generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want, got = a(x), b(x)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", NETS)
def test_fold_bn_alone(name):
    import copy

    model = eager(name)
    folded = fold_bn.run(copy.deepcopy(model))
    assert not any(isinstance(m, NORMS) for m in folded.modules()), "a batch norm is left"
    assert not any(n.op == "call_module" and "bn" in str(n.target).split(".")[-1]
                   for n in folded.graph.nodes)
    same(model, folded, name)


@pytest.mark.parametrize("name", NETS)
def test_channels_last_alone(name):
    import copy

    model = eager(name)
    same(model, channels_last.run(copy.deepcopy(model)), name)


@pytest.mark.parametrize("name", NETS)
def test_optimize_all(name):
    model = eager(name)
    fast = optimize(model)
    assert not fast.training
    same(model, fast, name)
    assert any(isinstance(m, NORMS) for m in model.modules()) or name == "lenet5", \
        "optimize must not change the model it was given"


def test_to_torch_optimize_flag():
    net = archdsl.zoo("resnet18")
    model = net.to_torch(optimize=True)
    assert not model.training
    assert not any(isinstance(m, NORMS) for m in model.modules())
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64))
    assert out.shape == (1, 1000)


def test_fold_refuses_training_mode():
    model = archdsl.zoo("resnet18").to_torch()
    with pytest.raises(ValueError, match="eval mode"):
        fold_bn.run(model)


def test_fold_keeps_a_conv_that_has_other_users():
    # The conv's output feeds the batch norm and the identity branch: folding would change
    # what the identity branch sees, so the pair stays.
    net = archdsl.parse("network n { input 3x8x8  x = conv(3, 3x3, pad=1)\n"
                        "add { batchnorm {} }  flatten  linear(2) }")
    model = net.to_torch().eval()
    folded = fold_bn.run(model)
    assert any(isinstance(m, NORMS) for m in folded.modules())
