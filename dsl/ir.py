"""The IR: a thin wrapper over a networkx MultiDiGraph with the verbs passes need.

Nodes carry `op`, `args` (resolved), `name` (the module path, e.g. `layer1.0.conv1`),
`shape` (output shape without the batch, None where unknown because of an error), `span`,
`scopes` (the named groups and block instances around the node, outermost first) and `init`
(the initialisation rules that apply to it). Edges carry `index`, the input position (concat
order matters; `add(x, x)` has two edges, hence a multigraph). Node ids are created in flow
order, so sorting ids gives a topological order.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from . import ops
from .source import Span


@dataclass(frozen=True)
class ScopeInfo:
    """A named group or block instance: drawn as a cluster, collapsed by `--depth`."""

    path: str  # "layer1.0"
    kind: str  # the block's name ("bottleneck") or "group"
    span: Span

    @property
    def depth(self) -> int:
        return self.path.count(".") + 1


class IRError(AssertionError):
    """An IR invariant does not hold: a bug in a pass, never the user's fault."""


NODE_KEYS = ("op", "args", "name", "shape", "span", "scopes", "init")


class IR:
    def __init__(self, name: str = "network"):
        self.graph = nx.MultiDiGraph(name=name)
        self._names: dict[str, int] = {}
        self._next = 0
        self.input: int | None = None
        self.output: int | None = None

    # construction ------------------------------------------------------------------------
    def add_node(self, op: str, args: dict, name: str, span: Span, *, shape=None,
                 scopes: tuple[ScopeInfo, ...] = (), init: tuple = ()) -> int:
        nid = self._next
        self._next += 1
        self.graph.add_node(nid, op=op, args=args, name=name, shape=shape, span=span,
                            scopes=scopes, init=init)
        self._names[name] = nid
        return nid

    def connect(self, src: int, dst: int, index: int) -> None:
        self.graph.add_edge(src, dst, key=index, index=index)

    # queries -----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.graph.graph.get("name", "network")

    def node(self, nid: int) -> dict:
        return self.graph.nodes[nid]

    def __len__(self) -> int:
        return self.graph.number_of_nodes()

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def by_name(self, name: str) -> int:
        return self._names[name]

    def inputs(self, nid: int) -> list[int]:
        """Producers of `nid`'s inputs, in input order."""
        edges = sorted(self.graph.in_edges(nid, data="index"), key=lambda e: e[2])
        return [src for src, _, _ in edges]

    def users(self, nid: int) -> list[int]:
        return sorted({dst for _, dst in self.graph.out_edges(nid)})

    def topo(self) -> list[int]:
        return sorted(self.graph.nodes)

    def nodes(self):
        """(id, attributes) in topological order."""
        for nid in self.topo():
            yield nid, self.graph.nodes[nid]

    def layers(self):
        """Every node but the input, in topological order."""
        for nid, data in self.nodes():
            if data["op"] != "input":
                yield nid, data

    def input_shapes(self, nid: int) -> list:
        return [self.graph.nodes[i]["shape"] for i in self.inputs(nid)]

    def live(self) -> set[int]:
        """Nodes the output depends on."""
        if self.output is None:
            return set()
        return nx.ancestors(self.graph, self.output) | {self.output}

    # invariants ----------------------------------------------------------------------------
    def verify(self, *, complete: bool = True) -> None:
        """Check the IR's invariants; `complete` also requires every shape to be known."""
        g = self.graph
        if self.input is None or self.input not in g:
            raise IRError("no input node")
        if self.output is None or self.output not in g:
            raise IRError("no output node")
        seen_names = set()
        for nid, data in g.nodes(data=True):
            missing = [k for k in NODE_KEYS if k not in data]
            if missing:
                raise IRError(f"node {nid} lacks {missing}")
            spec = ops.lookup(data["op"])
            if spec is None:
                raise IRError(f"node {nid} has unknown op {data['op']!r}")
            if not data["name"] or data["name"] in seen_names:
                raise IRError(f"node name {data['name']!r} is empty or repeated")
            seen_names.add(data["name"])
            if self._names.get(data["name"]) != nid:
                raise IRError(f"name index out of date for {data['name']!r}")
            if not isinstance(data["span"], Span):
                raise IRError(f"node {data['name']} has no span")
            idx = sorted(i for _, _, i in g.in_edges(nid, data="index"))
            if idx != list(range(len(idx))):
                raise IRError(f"node {data['name']} has input positions {idx}")
            lo, hi = spec.arity
            if len(idx) < lo or (hi is not None and len(idx) > hi):
                raise IRError(f"node {data['name']} ({data['op']}) has {len(idx)} inputs")
            for src in self.inputs(nid):
                if src >= nid:
                    raise IRError(f"edge {src}->{nid} goes against creation order")
            shape = data["shape"]
            if complete and shape is None:
                raise IRError(f"node {data['name']} has no shape")
            if shape is not None and (not isinstance(shape, tuple) or
                                      not all(isinstance(d, int) and d > 0 for d in shape)):
                raise IRError(f"node {data['name']} has a bad shape {shape!r}")
        if g.nodes[self.input]["op"] != "input":
            raise IRError("the input node is not an `input` op")
        if not nx.is_directed_acyclic_graph(g):
            raise IRError("the graph has a cycle")
