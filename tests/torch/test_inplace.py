"""In-place updates where they are safe, as torchvision writes ResNet (`ReLU(inplace=True)`,
`out += identity`), and never where another reader or autograd still needs the tensor."""

from __future__ import annotations

import torch

import archdsl
from archdsl.backends.torch.module import submodule

from .helpers import out_of_place

NET = """
network res {
    input 4x6x6
    stem: conv(8, 3x3, pad=1)
    x = relu(inplace=true)
    add {
        { conv(8, 3x3, pad=1, bias=false); batchnorm; relu(inplace=true)
          conv(8, 3x3, pad=1, bias=false); batchnorm }
        {}
    }
    relu(inplace=true)
    y = sigmoid
    add(y, x)
    flatten
    linear(3)
}
"""


def test_residual_add_accumulates_in_place_only_when_safe():
    model = archdsl.parse(NET).to_torch()
    # the residual add's first summand is a batchnorm's output, read by nothing else: `+=`;
    # the second add's first summand is a sigmoid's output, which its backward needs: `+`
    assert model.code.count(" += ") == 1 and model.code.count(" + ") == 1


def test_in_place_updates_give_the_same_values_and_gradients():
    torch.manual_seed(0)
    model = archdsl.parse(NET).to_torch().train()
    ref = out_of_place(model).train()
    x = torch.randn(2, 4, 6, 6)
    x_ref = x.clone().requires_grad_()
    x = x.requires_grad_()
    before = x.detach().clone()
    out, out_ref = model(x), ref(x_ref)
    out.sum().backward()
    out_ref.sum().backward()
    assert torch.allclose(out, out_ref, atol=1e-6)
    assert torch.equal(x.detach(), before)  # the caller's input is never overwritten
    assert torch.allclose(x.grad, x_ref.grad, atol=1e-6)
    for (name, p), (_, q) in zip(model.named_parameters(), ref.named_parameters(), strict=True):
        assert torch.allclose(p.grad, q.grad, atol=1e-6), name


def test_zoo_resnet_uses_torchvision_in_place_style():
    model = archdsl.zoo("resnet18").to_torch()
    assert model.layer1[0].relu.inplace is True  # `layer1.0.0` in the file
    assert submodule(model, "layer1.0.0") is model.layer1[0].relu
    assert model.source.count("out += x") == 1  # BasicBlock's, for its 8 instances
    assert type(model.layer1[0]).__name__ == "Basic"  # the block `basic`
