"""The IR nodes behind a syntax item: every instance of a layer line (a line in a block made
once per call) and every instance of a block call, with the numbers the hover and the inlay
hints show. A file of blocks has no network of its own; its instances come from the checks of
the open documents that import it."""

from __future__ import annotations

from dataclasses import dataclass

from .analysis import Analysis
from .target import item_key
from .workspace import View, Workspace


@dataclass
class Instance:
    analysis: Analysis
    name: str  # module path: `layer1.0.conv1`, `layer1.0`
    data: dict  # the node's attributes (a block call: its last node's)
    in_shapes: list
    out_shape: tuple | None
    params: int
    macs: int

    @property
    def known(self) -> bool:
        return self.out_shape is not None and None not in self.in_shapes


def analyses_for(ws: Workspace, view: View) -> list[tuple[Analysis, str | None]]:
    """The checks whose IR has nodes in this document, with the document's path as each names
    it: its own, and (when it is current) those of the open documents that import it."""
    a = view.analysis
    out = [(a, None)]
    if view.current and a.path is not None:
        out += [(other, a.path) for other in ws.importers(a.path)]
    return out


def item_instances(ws: Workspace, view: View, node) -> list[Instance]:
    """Instances of the layer made by `node` (a Call, Ref, Merge or MergeCall)."""
    start, end = item_key(node)
    out = []
    for a, path in analyses_for(ws, view):
        ir = a.ir
        for nid in a.nodes_at(path, start, end):
            data = ir.node(nid)
            out.append(Instance(a, data["name"], data, ir.input_shapes(nid), data["shape"],
                                data.get("params", 0) or 0, data.get("macs", 0) or 0))
    return out


def call_instances(ws: Workspace, view: View, node, groups: bool = False) -> list[Instance]:
    """Instances of the block called by `node` (with `groups`: of the named group `node`, a
    `Labeled`): the shapes that enter and leave each, its parameters and MACs."""
    out = []
    for a, path in analyses_for(ws, view):
        ir = a.ir
        for call in a.block_calls(path, node.span.start, node.span.end, groups):
            ins, params, macs = [], 0, 0
            for nid in range(call.first, call.last + 1):
                data = ir.node(nid)
                params += data.get("params", 0) or 0
                macs += data.get("macs", 0) or 0
                for src in ir.inputs(nid):
                    if src < call.first:
                        sh = ir.node(src)["shape"]
                        if sh not in ins:
                            ins.append(sh)
            last = ir.node(call.last)
            out.append(Instance(a, call.path, last, ins, last["shape"], params, macs))
    return out


def block_inputs(ws: Workspace, view: View, defn) -> list[tuple[str, tuple | None]]:
    """(instance path, input shape) of every instance of the block `defn` in the checks that
    reach this document: what `in` is in each."""
    out = []
    for a, _path in analyses_for(ws, view):
        ir = a.ir
        if ir is None:
            continue
        for calls in a.scope_index().values():
            for call in calls:
                if call.kind != defn.name:
                    continue
                srcs = [src for src in ir.inputs(call.first) if src < call.first]
                out.append((call.path, ir.node(srcs[0])["shape"] if srcs else None))
    return out
