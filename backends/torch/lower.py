"""`to_torch`: a checked network as an ordinary `torch.nn.Module` (an fx `GraphModule`)."""

from __future__ import annotations

from torch import nn

from . import inits
from .build import class_name, plan
from .memory import check_fits
from .module import ArchModule
from .runtime import place


def _ir(net):
    return getattr(net, "ir", net)


def to_torch(net, device=None, dtype=None, optimize=False) -> ArchModule:
    """Lower a checked network to a module whose `forward` is straight-line fx code.

    Submodules sit at their `.arch` names (`state_dict()` keys are `layer1.0.conv1.weight`...),
    registered in IR order; the file's `init` rules are applied after PyTorch's defaults.
    `model.input_shape` is the input without the batch.

    >>> import archdsl, torch
    >>> model = archdsl.zoo("lenet5").to_torch()
    >>> model(torch.zeros(2, 1, 32, 32)).shape
    torch.Size([2, 10])
    >>> model.input_shape
    (1, 32, 32)
    """
    ir = _ir(net)
    check_fits(ir)  # before any weight is allocated: a located error, not a MemoryError
    p = plan(ir)
    root = nn.Module()
    for name, call, _span in p.modules:
        place(root, name, call.build())
    model = ArchModule(root, p.graph, class_name(ir.name), p.layers,
                       tuple(ir.node(ir.input)["shape"]))
    model.graph.lint()
    inits.apply(model, inits.init_steps(ir))
    if device is not None or dtype is not None:
        model.to(device=device, dtype=dtype)
    if optimize:  # True, or a dict of options: see archdsl.backends.torch.optimize
        from .optimize import optimize as _optimize

        shape = model.input_shape
        model = _optimize(model, net, inplace=True,
                          **(optimize if isinstance(optimize, dict) else {}))
        model.input_shape = shape  # a pass may return a new GraphModule
    return model
