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


@dataclass
class Imported:
    """What `from_torch` gives: the file's `text`, the checked `network` it defines, and how
    many `block` definitions were recovered. Unpacks as `text, network = from_torch(...)`."""

    text: str
    network: object
    blocks: int
    block_names: tuple[str, ...] = ()
    weights: dict | None = None  # from_onnx: the file's weights under the file's keys
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

    from . import blocks, emit, structure, trace, verify

    shape = archdsl.parse_shape(input_shape)
    traced = trace.trace(module, shape)
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
    wrong = verify.keys_differ(module, network, renamed=bool(marked))
    if wrong is not None:
        raise Unexpressible([wrong])
    return Imported(text, network, len(found), tuple(b.name for b in found),
                    marked=tuple(marked))


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


def from_onnx(source, input_shape=None, name: str | None = None, *,
              label: str | None = None, mark_unsupported: bool = False):
    """Import an ONNX model (a path, the file's bytes or an `onnx.ModelProto`): the file as
    the PyTorch module tree torch.onnx exported it from (`onnx_module`), then `from_torch`.

    `input_shape` (without the batch) fixes sizes the file leaves dynamic; by default the
    file's own. The `Imported` it returns has `weights`, the file's weights under the
    imported file's `state_dict` keys: `network.to_torch().load_state_dict(weights)`.
    Raises `Unexpressible` listing every node with no archdsl layer (its `path` the node's
    name in the file), and `OnnxFileError` for a file that is not a model it can read.
    """
    from pathlib import Path

    import archdsl

    from .onnx_module import OnnxUnsupported, onnx_to_module

    shape = None if input_shape is None else archdsl.parse_shape(input_shape)
    try:
        module, shape = onnx_to_module(source, shape)
    except OnnxUnsupported as exc:
        raise Unexpressible(_grouped(exc.problems)) from None
    if name is None and isinstance(source, (str, Path)):
        name = Path(source).stem
    label = label or (str(source) if isinstance(source, (str, Path)) else "an ONNX model")
    result = from_torch(module, shape, name=name or "imported", source=label,
                        mark_unsupported=mark_unsupported)
    weights = module.state_dict()
    if result.marked:  # renamed parts: the same weights, in order, under the new names
        keys = list(result.network.to_torch().state_dict())
        weights = dict(zip(keys, weights.values(), strict=True))
    result.weights = weights
    return result


def _grouped(problems) -> list[Missing]:
    """The ONNX nodes without a layer as `Missing` parts, in the file's order; the nodes of
    one module scope that failed for one reason (a layer torch.onnx wrote as a dozen
    shape-arithmetic nodes) as one part."""
    from .onnx_module import scope_of

    out: list[Missing] = []
    groups: dict[tuple[str, str], list] = {}
    for p in problems:
        scope = scope_of(p.node)
        key = (scope, p.why)
        if scope and key in groups:
            groups[key].append(p)
            continue
        groups[key] = [p]
        out.append(Missing(p.node, f"ONNX {p.op}", p.why))
    for (scope, why), members in groups.items():
        if len(members) > 1:
            i = next(k for k, m in enumerate(out) if m.path == members[0].node)
            ops = ", ".join(dict.fromkeys(m.op for m in members))
            out[i] = Missing(scope, f"ONNX {ops}", f"{why} ({len(members)} nodes)")
    return out
