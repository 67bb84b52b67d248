"""archdsl's counting conventions against the tools themselves, run on archdsl's own torch
modules: torchinfo, fvcore and ptflops (installed by the dev extra; each test is skipped with
its reason where its tool is missing) and torch's FlopCounterMode. The memory estimate's
parameters, gradients and optimizer state against what torch allocates."""

from __future__ import annotations

import logging
import warnings

import pytest
import torch

import archdsl
from archdsl.pipeline import run

# every kind each convention has a rule for, in one small network (batch norms with and
# without affine; global and adaptive pools; a residual add and a concat)
KINDS = """network kinds {
    input 3x16x16
    conv(8, 3x3, pad=1); batchnorm; relu
    add { { conv(8, 3x3, pad=1, bias=false); batchnorm(affine=false); relu6 } {} }
    concat { { maxpool(2x2, stride=2) } { avgpool(2x2, stride=2) } }
    leaky_relu; gelu
    adaptive_avgpool(2x2)
    flatten; dropout(0.5); linear(10); softmax
}
"""
CASES = ["lenet5", "kinds"]


def _net(name: str) -> archdsl.Network:
    if name == "kinds":
        result = run(text=KINDS)
        assert not result.diagnostics.items
        return archdsl.Network(result.ir, source=None, params_used={})
    return archdsl.zoo(name)


def _model(net):
    return net.to_torch().eval()


@pytest.mark.parametrize("name", CASES)
def test_flop_counter_mode(name):
    from torch.utils.flop_counter import FlopCounterMode

    net = _net(name)
    with FlopCounterMode(display=False) as fc:
        _model(net)(torch.randn(1, *net.input_shape))
    assert fc.get_total_flops() == net.count(unit="flops") == 2 * net.count()


@pytest.mark.parametrize("name", CASES)
def test_torchinfo(name):
    torchinfo = pytest.importorskip("torchinfo", reason="torchinfo is not installed (dev extra)")
    net = _net(name)
    stats = torchinfo.summary(_model(net), input_size=(2, *net.input_shape), verbose=0)
    assert stats.total_mult_adds == 2 * net.count("torchinfo")
    assert stats.total_output_bytes == net.memory(batch=2).torchinfo_forward_backward
    assert stats.total_param_bytes == net.memory().parameters


@pytest.mark.parametrize("name", CASES)
def test_fvcore(name):
    fvcore_nn = pytest.importorskip("fvcore.nn", reason="fvcore is not installed (dev extra)")
    net = _net(name)
    logging.disable(logging.WARNING)  # fvcore warns about every operator it does not count
    try:
        analysis = fvcore_nn.FlopCountAnalysis(_model(net), torch.randn(1, *net.input_shape))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        total = analysis.total()
    finally:
        logging.disable(logging.NOTSET)
    assert total == net.count("fvcore")


@pytest.mark.parametrize("name", CASES)
def test_ptflops(name):
    ptflops = pytest.importorskip("ptflops", reason="ptflops is not installed (dev extra)")
    net = _net(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        macs, _ = ptflops.get_model_complexity_info(
            _model(net), tuple(net.input_shape), as_strings=False, print_per_layer_stat=False)
    assert macs == net.count("ptflops")


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw"])
def test_memory_against_torch(optimizer):
    """Parameters, gradients and the optimizer's state as torch allocates them after one
    training step on a batch."""
    net = _net("kinds")
    est = net.memory(batch=4, optimizer=optimizer)
    model = net.to_torch().train()
    make = {"sgd": lambda p: torch.optim.SGD(p, lr=0.1),
            "momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
            "adam": lambda p: torch.optim.Adam(p), "adamw": lambda p: torch.optim.AdamW(p)}
    opt = make[optimizer](model.parameters())
    model(torch.randn(4, *net.input_shape)).sum().backward()
    opt.step()

    def nbytes(tensors):
        return sum(t.numel() * t.element_size() for t in tensors)

    assert est.parameters == nbytes(model.parameters())
    assert est.buffers == nbytes(model.buffers())
    assert est.gradients == nbytes(p.grad for p in model.parameters() if p.grad is not None)
    state = [v for s in opt.state.values() for v in s.values() if torch.is_tensor(v)]
    assert est.optimizer_state == nbytes(state)
    assert est.input == 4 * nbytes([torch.empty(net.input_shape)])
