"""The IR: a thin wrapper over a networkx MultiDiGraph with the verbs passes need.

Nodes carry `op`, `args` (resolved), `name` (the module path, e.g. `layer1.0.conv1`),
`shape` (output shape without the batch, None where unknown because of an error), `span`,
`scopes` (the named groups and block instances around the node, outermost first) and `init`
(the initialisation rules that apply to it). Edges carry `index`, the input position (concat
order matters; `add(x, x)` has two edges, hence a multigraph). Node ids are created in flow
order, so sorting ids gives a topological order.

Storage: while the front end builds and checks the IR, nodes and edges live in plain dicts and
lists (the domain verbs below read them directly; networkx costs ~0.2 s to import and several
times more per query). `ir.graph` builds the networkx MultiDiGraph on first use, sharing the
node attribute dicts and the graph attributes (`ir.attrs`); from then on the networkx graph is
the storage, so changes made through it are seen by the verbs too. `check`, `summary` and
`draw` never import networkx unless something asks for `ir.graph`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import ops
from .source import Span

if TYPE_CHECKING:
    import networkx as nx


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
_NODE_KEY_SET = frozenset(NODE_KEYS)


class IR:
    def __init__(self, name: str = "network"):
        self.attrs: dict = {"name": name}  # graph attributes: network, source, totals...
        self._nodes: dict[int, dict] | None = {}  # id -> attributes, in creation order
        self._in: dict[int, list[tuple[int, int]]] | None = {}  # id -> [(index, producer)]
        self._out: dict[int, list[int]] | None = {}  # id -> users (repeats for add(x, x))
        self._nx: nx.MultiDiGraph | None = None  # once built, the storage (see module doc)
        self._names: dict[str, int] = {}
        self._next = 0
        self.input: int | None = None
        self.output: int | None = None  # the first output (the only one, usually)
        # (name, node) of each output of a network with `return a, b`; empty: just `output`
        self.outputs: list[tuple[str, int]] = []

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The IR as a networkx MultiDiGraph (built on first use; see the module docstring)."""
        if self._nx is None:
            import networkx as nx

            g = nx.MultiDiGraph()
            g.graph = self.attrs
            g.add_nodes_from(self._nodes)
            g._node.update(self._nodes)  # share the attribute dicts callers may hold
            for dst, ins in self._in.items():
                for index, src in ins:
                    g.add_edge(src, dst, key=index, index=index)
            self._nx = g
            self._nodes = self._in = self._out = None
        return self._nx

    @graph.setter
    def graph(self, g: nx.MultiDiGraph) -> None:
        self._nx = g
        self.attrs = g.graph
        self._nodes = self._in = self._out = None

    # construction ------------------------------------------------------------------------
    def add_node(self, op: str, args: dict, name: str, span: Span, *, shape=None,
                 scopes: tuple[ScopeInfo, ...] = (), init: tuple = ()) -> int:
        nid = self._next
        self._next += 1
        data = {"op": op, "args": args, "name": name, "shape": shape, "span": span,
                "scopes": scopes, "init": init}
        if self._nx is not None:
            self._nx.add_node(nid, **data)
        else:
            self._nodes[nid] = data
            self._in[nid] = []
            self._out[nid] = []
        self._names[name] = nid
        return nid

    def connect(self, src: int, dst: int, index: int) -> None:
        if self._nx is not None:
            self._nx.add_edge(src, dst, key=index, index=index)
            return
        ins = self._in[dst]
        if ins and (index, src) in ins:
            return  # networkx keys edges by (src, dst, index): the same edge twice is one
        ins.append((index, src))
        self._out[src].append(dst)

    # queries -----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.attrs.get("name", "network")

    def node(self, nid: int) -> dict:
        return self._nx.nodes[nid] if self._nx is not None else self._nodes[nid]

    def __len__(self) -> int:
        return len(self._nx) if self._nx is not None else len(self._nodes)

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def by_name(self, name: str) -> int:
        return self._names[name]

    def _in_edges(self, nid: int) -> list[tuple[int, int]]:
        """(input position, producer) for each edge into `nid`, in no particular order."""
        if self._nx is not None:
            return [(i, src) for src, _, i in self._nx.in_edges(nid, data="index")]
        return self._in[nid]

    def inputs(self, nid: int) -> list[int]:
        """Producers of `nid`'s inputs, in input order."""
        edges = self._in_edges(nid)
        if len(edges) == 1:
            return [edges[0][1]]
        return [src for _, src in sorted(edges, key=lambda e: e[0])]

    def input_nodes(self, nid: int) -> list[dict]:
        """The attributes of `nid`'s producers, in input order (`node` of each of `inputs`)."""
        if self._nx is not None:
            return [self.node(p) for p in self.inputs(nid)]
        nodes, edges = self._nodes, self._in[nid]
        if len(edges) == 1:
            return [nodes[edges[0][1]]]
        return [nodes[src] for _, src in sorted(edges, key=lambda e: e[0])]

    def users(self, nid: int) -> list[int]:
        if self._nx is not None:
            return sorted({dst for _, dst in self._nx.out_edges(nid)})
        return sorted(set(self._out[nid]))

    def topo(self) -> list[int]:
        return sorted(self._nx.nodes if self._nx is not None else self._nodes)

    def nodes(self):
        """(id, attributes) in topological order."""
        if self._nx is not None:
            for nid in self.topo():
                yield nid, self.node(nid)
            return
        nodes = self._nodes  # the plain storage, read directly: passes walk every node
        for nid in sorted(nodes):
            yield nid, nodes[nid]

    def layers(self):
        """Every node but the input, in topological order."""
        for nid, data in self.nodes():
            if data["op"] != "input":
                yield nid, data

    def input_shapes(self, nid: int) -> list:
        return [self.node(i)["shape"] for i in self.inputs(nid)]

    def results(self) -> list[tuple[str, int]]:
        """(name, node) of each output, in order: `[("output", ir.output)]` unless the network
        returns several (`return main, aux`)."""
        if self.outputs:
            return list(self.outputs)
        return [] if self.output is None else [("output", self.output)]

    def live(self) -> set[int]:
        """Nodes the outputs depend on."""
        if self.output is None:
            return set()
        ends = [nid for _, nid in self.results()]
        seen, todo = set(ends), list(ends)
        in_edges = self._in_edges if self._nx is not None else self._in.__getitem__
        while todo:
            for _, src in in_edges(todo.pop()):
                if src not in seen:
                    seen.add(src)
                    todo.append(src)
        return seen

    # invariants ----------------------------------------------------------------------------
    def verify(self, *, complete: bool = True) -> None:
        """Check the IR's invariants; `complete` also requires every shape to be known."""
        ids = set(self.topo())
        if self.input is None or self.input not in ids:
            raise IRError("no input node")
        if self.output is None or self.output not in ids:
            raise IRError("no output node")
        seen_names = set()
        specs: dict[str, ops.OpSpec] = {}  # op -> its declaration, looked up once per kind
        # shapes found good, by id (held, so no id is reused): layers share shape objects
        # (an activation passes its input's on), and a tuple cannot change
        good_shapes: dict[int, tuple] = {}
        names = self._names
        in_edges = self._in_edges if self._nx is not None else self._in.__getitem__
        for nid, data in self.nodes():
            if not data.keys() >= _NODE_KEY_SET:
                missing = [k for k in NODE_KEYS if k not in data]
                raise IRError(f"node {nid} lacks {missing}")
            spec = specs.get(data["op"])
            if spec is None:
                spec = ops.lookup(data["op"])
                if spec is None:
                    raise IRError(f"node {nid} has unknown op {data['op']!r}")
                specs[data["op"]] = spec
            name = data["name"]
            if not name or name in seen_names:
                raise IRError(f"node name {name!r} is empty or repeated")
            seen_names.add(name)
            if names.get(name) != nid:
                raise IRError(f"name index out of date for {name!r}")
            if not isinstance(data["span"], Span):
                raise IRError(f"node {name} has no span")
            edges = in_edges(nid)
            n = len(edges)
            if n != 1 or edges[0][0] != 0:  # (one input, at position 0, needs no sort)
                idx = sorted(i for i, _ in edges)
                if idx != list(range(n)):
                    raise IRError(f"node {name} has input positions {idx}")
            lo, hi = spec.arity
            if n < lo or (hi is not None and n > hi):
                raise IRError(f"node {name} ({data['op']}) has {n} inputs")
            for _, src in edges:
                if src >= nid:
                    raise IRError(f"edge {src}->{nid} goes against creation order")
            shape = data["shape"]
            if complete and shape is None:
                raise IRError(f"node {name} has no shape")
            if shape is not None and good_shapes.get(id(shape)) is not shape:
                if not isinstance(shape, tuple) or \
                        not all(isinstance(d, int) and d > 0 for d in shape):
                    raise IRError(f"node {name} has a bad shape {shape!r}")
                good_shapes[id(shape)] = shape
        if self.node(self.input)["op"] != "input":
            raise IRError("the input node is not an `input` op")
        # No cycle check needed: every edge was just seen to go from an older node to a newer.
