"""From the IR to what is drawn, as plain data (dot.py writes it out).

Decides which layers are visible (on a partial IR: up to and including the failing ones),
which are collapsed into one node per block (`depth`), which are merged into one
conv→bn→relu node (`merge_chains`), which consecutive identical blocks fold into one
`bottleneck × 3` node, the boxes (clusters) drawn around block instances, and the edges
between all of these with the shape that flows along each.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...ir import IR, ScopeInfo
from ...ops import get as get_op
from .options import DrawOptions


@dataclass
class Unit:
    """One node of the drawing: a layer, a merged chain, a (folded) block, a merge or a stub."""

    uid: str
    role: str  # layer | chain | block | merge | stub
    members: list[int]
    cluster: str | None  # the innermost box drawn around it
    name: str
    op: str = ""  # the layer's kind (the chain's head); the block's kind for blocks
    family: str = "block"
    params: int = 0
    in_shapes: list = field(default_factory=list)
    out_shape: tuple | None = None
    error: bool = False
    repeat: int = 1  # > 1 for `bottleneck × 3`
    last_name: str = ""  # the last folded block's name
    tail: list[str] = field(default_factory=list)  # ops merged after a chain's head
    box: tuple[str, str] | None = None  # (path, kind) of a one-node box drawn as the node


@dataclass
class Edge:
    src: str
    dst: str
    shape: tuple | None
    error: bool = False


@dataclass
class Cluster:
    path: str
    kind: str
    parent: str | None
    first: int  # the first member's node id, for ordering the drawing like the flow


@dataclass
class View:
    units: list[Unit]
    edges: list[Edge]
    clusters: dict[str, Cluster]
    failing: list[Unit]


def build(ir: IR, opt: DrawOptions) -> View:
    return _Builder(ir, opt).run()


class _Builder:
    def __init__(self, ir: IR, opt: DrawOptions):
        self.ir, self.opt = ir, opt
        self.g = ir.graph
        self.unit_of: dict[int, Unit] = {}
        self.units: list[Unit] = []
        self.clusters: dict[str, Cluster] = {}
        self.blocks: dict[str, Unit] = {}  # collapsed scopes by path
        self.focus_depth = 0
        self.depth = opt.depth

    def run(self) -> View:
        visible = self._visible()
        for nid in visible:
            self._place(nid)
        if self.opt.merge_chains:
            self._merge_chains()
        self._fold()
        self._drop_lone_boxes()
        edges = self._edges(visible)
        return View(self.units, edges, self.clusters, [u for u in self.units if u.error])

    # which layers ------------------------------------------------------------------------
    def _visible(self) -> list[int]:
        """Known shapes, and the failing layers themselves; what lies after an error is not."""
        nodes = [nid for nid, d in self.ir.nodes() if d["shape"] is not None or d.get("error")]
        focus = self.opt.focus
        if focus is None:
            return nodes
        inside = [nid for nid in nodes if self._inside(self.g.nodes[nid], focus)]
        if not inside:
            raise ValueError(f"nothing to draw inside `{focus}`: no layer or block is named so")
        for sc in self.g.nodes[inside[0]]["scopes"]:
            if sc.path == focus:
                self.focus_depth = sc.depth
        if self.depth is not None:
            self.depth += self.focus_depth  # --depth counts from the focused block
        return inside

    @staticmethod
    def _inside(d: dict, focus: str) -> bool:
        return (d["name"] == focus or d["name"].startswith(focus + ".")
                or any(sc.path == focus for sc in d["scopes"]))

    def _boxes(self, scopes: tuple[ScopeInfo, ...]) -> list[ScopeInfo]:
        """The scopes drawn as boxes: not above the focus, not at or below the collapse depth."""
        out = []
        for sc in scopes:
            if sc.depth < self.focus_depth:
                continue
            if self.depth is not None and sc.depth >= self.depth:
                break
            out.append(sc)
        return out

    def _collapse_scope(self, d: dict) -> ScopeInfo | None:
        if self.depth is None:
            return None
        for sc in d["scopes"]:
            if sc.depth == self.depth and sc.depth >= self.focus_depth:
                return sc
        return None

    # units and boxes ---------------------------------------------------------------------
    def _register_boxes(self, boxes: list[ScopeInfo], nid: int) -> str | None:
        parent = None
        for sc in boxes:
            if sc.path not in self.clusters:
                self.clusters[sc.path] = Cluster(sc.path, sc.kind, parent, nid)
            parent = sc.path
        return parent

    def _place(self, nid: int) -> None:
        d = self.g.nodes[nid]
        sc = self._collapse_scope(d)
        if sc is not None:
            unit = self.blocks.get(sc.path)
            if unit is None:
                outer = d["scopes"][: d["scopes"].index(sc)]
                cluster = self._register_boxes(self._boxes(outer), nid)
                unit = Unit(f"b{nid}", "block", [], cluster, sc.path, op=sc.kind)
                self.blocks[sc.path] = unit
                self.units.append(unit)
            unit.members.append(nid)
            unit.params += d.get("params", 0)
            unit.error |= bool(d.get("error"))
            self.unit_of[nid] = unit
            return
        cluster = self._register_boxes(self._boxes(d["scopes"]), nid)
        family = get_op(d["op"]).family
        role = "merge" if family == "merge" else "layer"
        unit = Unit(f"n{nid}", role, [nid], cluster, d["name"], op=d["op"], family=family,
                    params=d.get("params", 0), out_shape=d["shape"],
                    error=bool(d.get("error")))
        self.units.append(unit)
        self.unit_of[nid] = unit

    # conv -> batchnorm -> activation -----------------------------------------------------
    def _merge_chains(self) -> None:
        """Fold a batchnorm and/or an activation into the conv or linear layer before it."""
        merged: set[int] = set()
        for unit in self.units:
            if unit.role != "layer" or unit.family not in ("conv", "linear") or unit.error:
                continue
            cur, stage = unit.members[-1], 0
            while True:
                users = self.ir.users(cur)
                if len(users) != 1:
                    break
                nxt = users[0]
                nu = self.unit_of.get(nxt)
                if (nu is None or nu.role != "layer" or nu.error or nu.cluster != unit.cluster
                        or self.ir.inputs(nxt) != [cur]):
                    break
                if stage == 0 and nu.op == "batchnorm":
                    stage = 1
                elif stage <= 1 and nu.family == "activation":
                    stage = 2
                else:
                    break
                unit.members.append(nxt)
                unit.tail.append(nu.op)
                unit.params += nu.params
                unit.out_shape = nu.out_shape
                unit.role = "chain"
                self.unit_of[nxt] = unit
                merged.add(id(nu))
                cur = nxt
                if stage == 2:
                    break
        self.units = [u for u in self.units if id(u) not in merged]

    # bottleneck × 3 ----------------------------------------------------------------------
    def _signature(self, unit: Unit, members: list[int]) -> tuple:
        """Two blocks fold together when their layers, arguments and shapes are the same."""
        rel = {nid: i for i, nid in enumerate(members)}
        out = [unit.op]
        for nid in members:
            d = self.g.nodes[nid]
            name = d["name"][len(unit.name):]
            out.append((name, d["op"], repr(d["args"]), d["shape"], d.get("params", 0),
                        bool(d.get("error")),
                        tuple(rel.get(s, -1) for s in self.ir.inputs(nid))))
        return tuple(out)

    def _fold(self) -> None:
        kept: list[Unit] = []
        prev: Unit | None = None
        prev_members: list[int] = []  # the last instance folded into `prev`
        prev_sig = None
        for unit in self.units:
            if unit.role != "block":
                kept.append(unit)
                prev = None
                continue
            sig = self._signature(unit, unit.members)
            if (prev is not None and sig == prev_sig and unit.cluster == prev.cluster
                    and self._feeds_only(prev_members, unit.members)):
                prev.repeat += 1
                prev.last_name = unit.name
                prev.members.extend(unit.members)
                prev.params += unit.params
                for nid in unit.members:
                    self.unit_of[nid] = prev
                prev_members = unit.members
                continue
            kept.append(unit)
            prev, prev_members, prev_sig = unit, unit.members, sig
        self.units = kept

    def _feeds_only(self, a: list[int], b: list[int]) -> bool:
        """`b` reads only from `a`, and nothing but `b` reads from `a`: consecutive calls."""
        sa, sb = set(a), set(b)
        for nid in b:
            if any(src not in sb and src not in sa for src in self.ir.inputs(nid)):
                return False
        return all(dst in sa or dst in sb for nid in a for dst in self.ir.users(nid))

    def _drop_lone_boxes(self) -> None:
        """A box around a single node (a conv unit once its chain is merged) is clutter: the
        node takes the box's name and kind instead."""
        inner: dict[str | None, list[Unit]] = {}
        for unit in self.units:
            inner.setdefault(unit.cluster, []).append(unit)
        parents = {cl.parent for cl in self.clusters.values()}
        for path in sorted(self.clusters, key=lambda p: -p.count(".")):
            units = inner.get(path, [])
            if path in parents or len(units) != 1 or units[0].role not in ("layer", "chain"):
                continue
            if units[0].box is not None:
                continue
            cl = self.clusters.pop(path)
            unit = units[0]
            unit.box, unit.cluster = (cl.path, cl.kind), cl.parent
            inner.setdefault(cl.parent, []).append(unit)
            parents = {c.parent for c in self.clusters.values()}

    # edges -------------------------------------------------------------------------------
    def _edges(self, visible: list[int]) -> list[Edge]:
        edges: list[Edge] = []
        seen: set[tuple] = set()
        stubs: dict[str, Unit] = {}
        vis = set(visible)
        for nid in visible:
            dst = self.unit_of[nid]
            for idx, src in enumerate(self.ir.inputs(nid)):
                su = self.unit_of.get(src) or self._stub(stubs, src, "in")
                if su is dst:
                    continue
                key = (su.uid, dst.uid) if dst.role == "block" else (su.uid, dst.uid, idx)
                if key in seen:
                    continue
                seen.add(key)
                shape = self.g.nodes[src]["shape"]
                edges.append(Edge(su.uid, dst.uid, shape, bool(self.g.nodes[nid].get("error"))))
                if dst.role == "block":
                    dst.in_shapes.append(shape)
            shape = self.g.nodes[nid]["shape"]
            if dst.role == "block" and shape is not None:
                readers = self.ir.users(nid)
                if nid == self.ir.output or any(self.unit_of.get(u) is not dst for u in readers):
                    dst.out_shape = shape  # what leaves the block
                elif not readers and dst.out_shape is None:
                    dst.out_shape = shape  # a dead end (GoogLeNet's aux heads): what it computes
            outside = [u for u in self.ir.users(nid)
                       if u not in vis and self.g.nodes[u]["shape"] is not None]
            if self.opt.focus is not None and outside:
                # One stub per value leaving, named after where its readers have in common.
                names = [self.g.nodes[u]["name"] for u in outside]
                stub = self._stub(stubs, nid, "out", _common_prefix(names))
                edges.append(Edge(dst.uid, stub.uid, shape))
        self.units.extend(stubs.values())
        return edges

    def _stub(self, stubs: dict[str, Unit], nid: int, way: str, name: str = "") -> Unit:
        """Where a focused drawing's inputs come from and its outputs go."""
        uid = f"{way}{nid}"
        if uid not in stubs:
            d = self.g.nodes[nid]
            stubs[uid] = Unit(uid, "stub", [], None, name or d["name"], op=way, family="io",
                              out_shape=d["shape"])
        return stubs[uid]


def _common_prefix(names: list[str]) -> str:
    """`inception3b` for `inception3b.branch1.conv` and `inception3b.branch2.0.conv`."""
    parts = [n.split(".") for n in names]
    common = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return ".".join(common) if common else ", ".join(names)
