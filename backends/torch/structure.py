"""The module tree of a compiled network, read from the IR (no torch).

Every prefix of a layer's name is a scope (`layer1`, `layer1.0`, `layer1.0.downsample`): a
block instance or a labelled group (`ir.ScopeInfo`), or the network itself (the root, path
`""`). A scope's *items* are its direct children in file order: leaf layers (a module, a
function such as `add`, or a passthrough such as `identity`) and child scopes. Each scope is a
module with a forward that runs exactly its layers: its inputs are the values it reads from
outside, its outputs the values read outside it (or returned by the network).

A scope is *sequential* when it is a plain pipeline: every item a module (no function or
passthrough layer among them), items numbered 0, 1, 2... as nn.Sequential numbers them, the
first reading the scope's one input, each next one reading only the output of the one before,
the last one's output the scope's one output. Such a scope becomes an `nn.Sequential`
(torchvision's `features`, `layer1`, `downsample`); any other scope a class (codegen.py).

Only layers the outputs depend on are computed (`ir.live()`); a scope none of whose layers is
live (GoogLeNet's auxiliary heads) is built but never called by its parent, and its own forward
runs all of its layers, as it would if it were live.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .lowering import Lowering, lowering_for


@dataclass(eq=False)
class Leaf:
    nid: int
    local: str  # the last part of the layer's name: `conv1`, `0`
    low: Lowering
    attr: str = ""  # the attribute it is registered as (parameterless numbered ones renamed)


@dataclass(eq=False)
class Scope:
    path: str
    kind: str  # the block's name, "group", or "network" for the root
    span: object
    local: str  # last part of the path
    items: list = field(default_factory=list)  # Leaf | Scope, in file order
    nodes: list[int] = field(default_factory=list)  # every node inside, in order
    attr: str = ""
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    live: bool = False  # some layer inside is computed
    body: set[int] = field(default_factory=set)  # the nodes its forward computes
    sequential: bool = False

    def scopes(self):
        """This scope and every scope below it, children before parents."""
        for item in self.items:
            if isinstance(item, Scope):
                yield from item.scopes()
        yield self


class NotModular(Exception):
    """The IR's scopes do not nest as modules can (a scope whose layers are interleaved with
    layers outside it); never the case for what the front end builds."""


def build(ir, live: set[int]) -> Scope:
    """The scope tree of `ir`, with each scope's interface worked out."""
    infos = {}
    for _, data in ir.nodes():
        for s in data["scopes"]:
            infos.setdefault(s.path, s)
    root = Scope("", "network", None, "")
    scopes = {"": root}
    for nid, data in ir.nodes():
        if data["op"] == "input":
            continue
        parts = data["name"].split(".")
        chain = [root]
        for i in range(1, len(parts)):
            path = ".".join(parts[:i])
            scope = scopes.get(path)
            if scope is None:
                info = infos.get(path)
                scope = Scope(path, info.kind if info else "group",
                              info.span if info else data["span"], parts[i - 1])
                scopes[path] = scope
                chain[-1].items.append(scope)
            chain.append(scope)
        low = lowering_for(data["op"], data["name"], data["span"].location())
        chain[-1].items.append(Leaf(nid, parts[-1], low))
        for scope in chain:
            scope.nodes.append(nid)
    results = {nid for _, nid in ir.results()}
    users = {nid: ir.users(nid) for nid, _ in ir.nodes()}
    for scope in root.scopes():
        _interface(ir, scope, live, results, users)
    for scope in root.scopes():
        scope.sequential = scope is not root and _sequential(ir, scope)
    return root


def _interface(ir, scope: Scope, live: set[int], results: set[int], users: dict) -> None:
    inside = set(scope.nodes)
    scope.live = any(n in live for n in scope.nodes)
    if scope.path == "":
        scope.body = inside & live
        scope.inputs = [ir.input]
        scope.outputs = [nid for _, nid in ir.results()]
        return
    body = inside & live if scope.live else inside
    scope.body = body
    ins: list[int] = []
    for nid in sorted(body):
        for i in ir.inputs(nid):
            if i not in inside and i not in ins:
                ins.append(i)
    outs = []
    for nid in sorted(body):
        us = [u for u in users[nid] if u in body or u not in inside]
        used_out = [u for u in us if u not in inside and (u in live or not scope.live)]
        if used_out or nid in results or (not scope.live and not us):
            outs.append(nid)
    scope.inputs, scope.outputs = ins, outs


def _sequential(ir, scope: Scope) -> bool:
    items = scope.items
    if not items or len(scope.inputs) != 1 or len(scope.outputs) != 1:
        return False
    if [it.local for it in items] != [str(i) for i in range(len(items))]:
        return False
    prev = scope.inputs
    for item in items:
        if isinstance(item, Leaf):
            if item.low.module is None or item.nid not in scope.body:
                return False
            ins, outs = ir.inputs(item.nid), [item.nid]
        else:
            if not item.live and scope.live:
                return False
            ins, outs = item.inputs, item.outputs
        if ins != prev or len(outs) != 1:
            return False
        # the output is read by the next item only
        readers = [u for u in ir.users(outs[0]) if u in scope.body]
        if item is not items[-1]:
            nxt = items[items.index(item) + 1]
            nxt_nodes = {nxt.nid} if isinstance(nxt, Leaf) else set(nxt.nodes)
            if not readers or not set(readers) <= nxt_nodes:
                return False
        elif readers or outs != scope.outputs:
            return False
        prev = outs
    return True
