"""Inference optimisations of a compiled network (`to_torch(optimize=True)`).

Each pass is a function `run(model) -> model` over the flat fx `GraphModule` of the network
(`module.trace` of what `to_torch` builds; a pass given a module traces it itself),
in its own module, testable alone; `optimize` applies them in order:

1. `fold_bn`: a batch norm right after a conv (its only user) is folded into the conv's weight
   and bias; the batch norm module and its graph node are removed. Eval mode only: the fold
   uses the running statistics.
2. `channels_last`: 2-D convs run NHWC, the layout oneDNN's CPU convolutions (and cuDNN's
   tensor-core ones) prefer, where PyTorch's channels-last kernels are known to be exact (see
   that module); the others are kept on the default layout.
3. `compile` (off by default): `torch.compile` of the result.

The optimised module computes the same function as the eager one in eval mode (tests/optimize
check within 1e-4 on the zoo, and the differential tests on random programs); it is meant for
inference and is returned in eval mode.
"""

from __future__ import annotations

import copy

from torch import nn

from ..module import ArchModule, trace
from . import channels_last as _channels_last
from . import fold_bn as _fold_bn

PASSES = ("fold_bn", "channels_last", "compile")


def optimize(model: nn.Module, net=None, *, fold_bn: bool = True, channels_last: bool = True,
             compile: bool = False, inplace: bool = False) -> nn.Module:
    """`model` (from `to_torch`) optimised for inference; `net` is accepted for symmetry with
    the other backends (the passes read everything they need from the fx graph).

    >>> import archdsl, torch
    >>> model = archdsl.zoo("lenet5").to_torch().eval()
    >>> fast = optimize(model)
    >>> bool(torch.allclose(fast(torch.ones(1, 1, 32, 32)), model(torch.ones(1, 1, 32, 32))))
    True
    """
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    if isinstance(model, ArchModule):  # a compiled network: its flat fx graph, every layer a leaf
        model = trace(model)
    if fold_bn:
        model = _fold_bn.run(model)
    if channels_last:
        model = _channels_last.run(model)
    if compile:
        from . import compile as _compile

        model = _compile.run(model)
    return model


__all__ = ["PASSES", "optimize"]
