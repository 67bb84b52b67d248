"""From PyTorch to `.arch`: `from_torch(module, input_shape)` traces a module and writes the
archdsl file that compiles back to it, with the same `state_dict` keys, order and shapes.

The pipeline, one module each: `trace` (torch.fx, archdsl's layer classes as leaves, shapes
from one run), `kinds` (each call as an archdsl kind and arguments, the torch lowering
inverted), `structure` (scopes as items, merges as branches), `blocks` (instances of one
class as one parameterised `block`), `render` and `emit` (the text, through archdsl's
formatter), `verify` (the round trip: compile, load the original's weights strictly, compare
outputs). `spec` reads the command line's `pkg.module:factory(args)`.

    >>> import torch.nn as nn
    >>> from archdsl.backends.importer import from_torch
    >>> result = from_torch(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()), (3, 32, 32))
    >>> result.network.layer("0")["shape"]
    (8, 30, 30)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .trace import Missing, Unexpressible

__all__ = ["Imported", "Missing", "Unexpressible", "from_onnx", "from_torch"]


def from_onnx(path, input_shape=None, name: str | None = None, *, source: str | None = None,
              mark_unsupported: bool = False):
    """Import a saved ONNX file (onnx_import.py): as `from_torch`, its initializers' names
    (`layer1.0.conv1.weight`, as torch's exporter writes them) become the module paths."""
    from .onnx_import import from_onnx as _from_onnx

    return _from_onnx(path, input_shape, name, source=source, mark_unsupported=mark_unsupported)


@dataclass
class Imported:
    """What `from_torch` gives: the file's `text`, the checked `network` it defines, and how
    many `block` definitions were recovered. Unpacks as `text, network = from_torch(...)`."""

    text: str
    network: object
    blocks: int
    block_names: tuple[str, ...] = ()
    marked: tuple = ()  # with mark_unsupported: the parts written otherwise (`Missing`s)

    def __iter__(self):
        return iter((self.text, self.network))

    @property
    def lines(self) -> int:
        return len(self.text.splitlines())


def _network_name(module, name: str | None) -> str:
    from .blocks import snake
    from .render import is_label

    name = name or snake(type(module).__name__)
    if not is_label(name):
        name = re.sub(r"\W", "_", name)
        if not name or not (name[0].isalpha() or name[0] == "_"):
            name = f"net_{name}"
        if not is_label(name):
            name = f"{name}_net"
    return name


def from_torch(module, input_shape, name: str | None = None, *, source: str | None = None,
               mark_unsupported: bool = False):
    """Import `module` (an `nn.Module`) for inputs of `input_shape` (without the batch:
    `(3, 224, 224)` or `"3x224x224"`): an `Imported` with the `.arch` text and the `Network`.

    Raises `Unexpressible` (its `missing` lists each part archdsl has no counterpart for,
    with its module path) and writes nothing then. `name` names the network (default: the
    module's class in snake case); `source` is what the header says it came from.

    With `mark_unsupported`, a child whose name cannot be a label (`block`, `block1-0`) is
    written under one that can (`block_`, `block1_0`), marked with a comment, and listed in
    the result's `marked`: the file is a start to edit, whose keys differ there.
    """
    import archdsl

    from . import trace

    shape = archdsl.parse_shape(input_shape)
    return finish(trace.trace(module, shape), module, name, source, mark_unsupported)


def finish(traced, module, name, source, mark_unsupported=False):
    """A traced model (trace.py, or onnx_import.py) as an `Imported`."""
    import archdsl

    from . import blocks, emit, structure

    missing: list[Missing] = []
    items = structure.entries(traced, missing)
    marked: list[Missing] = []
    _check_labels(traced, items, marked if mark_unsupported else missing, mark_unsupported)
    if missing:
        raise Unexpressible(missing)
    net_name = _network_name(module, name)
    found = blocks.recover(traced, items, net_name)
    text = emit.file_text(traced, items, found, net_name, source)
    network = archdsl.parse(text, filename=f"{net_name}.arch")
    return Imported(text, network, len(found), tuple(b.name for b in found), tuple(marked))


def _check_labels(traced, items, missing: list[Missing], rename: bool) -> None:
    """Every name that reaches a state_dict key must be a label archdsl can write (or a
    number, which the numbering gives); with `rename`, one that is not is given a label that
    is (and still listed)."""
    from archdsl.elaborate import reserved_label

    from .blocks import walk
    from .render import is_label

    def check(thing, path, local, cls):
        if local.isdigit() or is_label(local):
            return
        why = reserved_label(local) if re.fullmatch(r"[A-Za-z_]\w*", local) else \
            "it is not a name (letters, digits and _)"
        missing.append(Missing(path, f"{cls.__module__}.{cls.__qualname__}",
                               f"its name `{local}` cannot be an archdsl label: {why}"))
        if rename:
            new = re.sub(r"\W", "_", local)
            new = new if new[:1].isalpha() or new[:1] == "_" else f"_{new}"
            while not is_label(new):
                new += "_"
            thing.rename = new
            thing.renamed_from = local

    for op in traced.ops.values():
        if op.path and op.stateful:
            m = traced.root.module.get_submodule(op.path)
            check(op, op.path, op.local, type(m))
    for c in walk(items):
        check(c.scope, c.scope.path, c.scope.local, c.scope.cls)
