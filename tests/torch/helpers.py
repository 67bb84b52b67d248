"""Shared by the torch backend's tests: the branched test network, a seeded build, and the
out-of-place reference of a module."""

from __future__ import annotations

from pathlib import Path

import archdsl

HERE = Path(__file__).parent
BRANCHED = HERE / "branched.arch"
GOLDEN = HERE / "golden"


def branched(**params):
    return archdsl.load(BRANCHED, **params)


def seeded(net, seed: int = 0, **kw):
    import torch

    torch.manual_seed(seed)
    return net.to_torch(**kw)


def randomize_norms(model):
    """Non-trivial batch-norm statistics and affine parameters (fresh ones are the identity,
    which would hide a wrong fold). Returns the model."""
    import torch

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    return model


def out_of_place(model):
    """A copy of `model` with every in-place update turned off (`inplace=False` on every
    module, `+` for `+=`): the reference an in-place module must agree with."""
    import copy
    import operator

    from archdsl.backends.torch.module import trace

    ref = trace(copy.deepcopy(model))  # the flat fx graph, to rewrite its `+=`
    for node in ref.graph.nodes:
        if node.target is operator.iadd:
            node.target = operator.add
    for module in ref.modules():
        if hasattr(module, "inplace"):
            module.inplace = False
    ref.recompile()
    return ref
