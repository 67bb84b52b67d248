"""The compiled torch modules hold exactly torchvision's state_dict: every key and shape, in
order. Modules are built on the meta device (no memory, no initialisation time); two small
networks also run a forward pass on CPU."""

from __future__ import annotations

import pytest

from tests.zoo.helpers import TORCHVISION, net, ref

torch = pytest.importorskip("torch", reason="the torch backend needs torch")


def _meta_module(name, **params):
    with torch.device("meta"):
        return net(name, **params).to_torch()


def _keys(module):
    return [[k, list(v.shape)] for k, v in module.state_dict().items()]


@pytest.mark.parametrize("name", TORCHVISION)
def test_compiled_state_dict_equals_torchvision(name):
    module = _meta_module(name)
    assert _keys(module) == ref(name)["state_dict"]
    total = sum(p.numel() for p in module.parameters())
    assert total == ref(name)["total_params"]


def test_compiled_googlenet_with_aux_heads():
    base, aux = ref("googlenet"), ref("googlenet")["aux_logits_true"]
    expected = base["state_dict"][:-2] + aux["extra_state_dict"] + base["state_dict"][-2:]
    assert _keys(_meta_module("googlenet", aux=True)) == expected


@pytest.mark.parametrize("name", ["resnet18", "googlenet"])
def test_forward_shape(name):
    torch.manual_seed(0)
    module = net(name).to_torch().eval()
    with torch.no_grad():
        out = module(torch.randn(2, 3, 224, 224))
    assert tuple(out.shape) == (2, *ref(name)["output_shape"][1:])
    assert torch.isfinite(out).all()
