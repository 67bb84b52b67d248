"""`to_torch`: a checked network as an ordinary `torch.nn.Module`, built by running the
standalone source that `to_source` writes (one lowering: the file and the module are the same
code)."""

from __future__ import annotations

import contextlib
import weakref

from .lowering import LOWERINGS
from .memory import check_fits
from .module import ArchModule, Tables, load, network_class
from .source import render


def _ir(net):
    return getattr(net, "ir", net)


# IR -> (the lowering table as it was, the class): a checked IR does not change, so building
# the same network again (a training script's restarts, a benchmark) generates no source; a
# lowering registered or replaced since then makes the class again
_CLASSES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _network_class(net, ir) -> type:
    table = tuple((k, id(v)) for k, v in LOWERINGS.items())
    try:
        cached = _CLASSES.get(ir)
    except TypeError:  # an IR that cannot be weakly referenced: no cache
        cached = None
    if cached is not None and cached[0] == table:
        return cached[1]
    r = render(net, standalone=False)
    g = r.gen
    mod = load(r.text, ir.name, g.fn_globals)
    tables = Tables(r.text, mod.__file__, g.cls, g.layers,
                    {p: n for n, p in g.module_paths.items()}, r.lines, g.fn_globals,
                    g.module_paths)
    cls = network_class(tables)
    with contextlib.suppress(TypeError):
        _CLASSES[ir] = (table, cls)
    return cls


def to_torch(net, device=None, dtype=None, optimize=False) -> ArchModule:
    """Lower a checked network to a module: one class per block, `nn.Sequential` for plain
    sequences, the network's class composing them (see codegen.py).

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
    model = _network_class(net, ir)()
    if device is not None or dtype is not None:
        model.to(device=device, dtype=dtype)
    if optimize:  # True, or a dict of options: see archdsl.backends.torch.optimize
        from .optimize import optimize as _optimize

        shape = model.input_shape
        model = _optimize(model, net, inplace=True,
                          **(optimize if isinstance(optimize, dict) else {}))
        model.input_shape = shape  # a pass returns a new GraphModule
    return model
