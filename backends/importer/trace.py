"""Tracing a module with torch.fx into archdsl's terms: each call a layer kind (`Op`), each
submodule that is not a layer a `Scope`, in the order `forward` runs them.

archdsl's known classes (kinds.py) are fx leaf modules, so a submodule of a custom class
(a residual block) is traced through and its calls land in its scope (fx's
`nn_module_stack`). Shapes come from running the traced graph once on a random input
(fx's `ShapeProp`). Whatever has no archdsl counterpart is collected as a `Missing` with the
model path where it happens, never guessed.
"""

from __future__ import annotations

import contextlib
import math
import operator
from dataclasses import dataclass, field

from . import kinds
from .kinds import Mapped, NotExpressible


@dataclass(frozen=True)
class Missing:
    """One part of the model archdsl cannot express: where, what, and why."""

    path: str  # the module path ("" for the model itself)
    what: str  # the module's class, or the function called
    reason: str

    def line(self) -> str:
        where = self.path or "(the model)"
        return f"{where}: {self.what}: {self.reason}"


class Unexpressible(Exception):
    """The model has parts archdsl cannot express; `missing` lists them all."""

    def __init__(self, missing: list[Missing]):
        self.missing = missing
        super().__init__("\n".join(m.line() for m in missing))


@dataclass(eq=False)
class Op:
    id: int
    kind: str
    args: list
    ins: list[int]
    path: str  # module path of a called module; "" for a function
    scope: str  # path of the innermost scope it runs in
    shape: tuple  # output, without the batch
    in_shape: tuple  # first input, without the batch
    stateful: bool = False  # has parameters or buffers (its label matters)
    pieces: list = field(default_factory=list)  # a chunk: the ops of its pieces, in order
    rename: str = ""  # --mark-unsupported: the label written for a name archdsl cannot write

    @property
    def local(self) -> str:
        return self.rename or (self.path.rsplit(".", 1)[-1] if self.path else "")


@dataclass(eq=False)
class Scope:
    path: str
    module: object
    items: list = field(default_factory=list)  # Op | Scope, in the order forward runs them
    ins: list[int] = field(default_factory=list)
    outs: list[int] = field(default_factory=list)
    in_shape: tuple = ()
    shape: tuple = ()
    rename: str = ""  # --mark-unsupported: the label written for a name archdsl cannot write

    @property
    def local(self) -> str:
        return self.rename or (self.path.rsplit(".", 1)[-1] if self.path else "")

    @property
    def cls(self) -> type:
        return type(self.module)

    def scopes(self):
        for item in self.items:
            if isinstance(item, Scope):
                yield from item.scopes()
        yield self


@dataclass
class Traced:
    root: Scope
    ops: dict[int, Op]
    output: int
    input_shape: tuple
    shapes: dict[int, tuple]  # value id -> shape without the batch
    output_key: object = None  # forward returned {key: tensor}; the network gives the tensor


def _tracer_class():
    import torch.fx as fx

    class Tracer(fx.Tracer):
        def __init__(self):
            # functions that are one archdsl kind, kept whole (fx would trace into them)
            super().__init__(autowrap_functions=tuple(kinds.wrapped_functions()))

        def is_leaf_module(self, m, qualname):  # archdsl's layers, and torch.nn's own
            return kinds.is_known(m) or super().is_leaf_module(m, qualname)

        def iter(self, obj):
            # `a, b = x.chunk(2, dim=1)`: the pieces one by one (a chunk of a size that does
            # not divide may give fewer; the shapes then show it and the import fails there)
            node = obj.node
            is_chunk = (node.op == "call_method" and node.target == "chunk") or (
                node.op == "call_function" and getattr(node.target, "__name__", "") == "chunk")
            n = node.args[1] if len(node.args) > 1 else node.kwargs.get("chunks")
            if is_chunk and isinstance(n, int):
                return iter([obj[i] for i in range(n)])
            return super().iter(obj)

    return Tracer


def _where(fn) -> str:
    name = getattr(fn, "__name__", None) or str(fn)
    mod = getattr(fn, "__module__", None)
    if mod in ("_operator", "operator"):
        return f"operator.{name}"
    if mod and mod.startswith("torch"):
        mod = "torch.nn.functional" if "functional" in mod else "torch"
    return f"{mod}.{name}" if mod else name


def trace(model, input_shape: tuple) -> Traced:
    """Trace `model` (in eval mode, restored after) on one sample of `input_shape`."""
    import torch
    from torch.fx.passes.shape_prop import ShapeProp

    was_training = model.training
    model.eval()
    try:
        try:
            graph = _tracer_class()().trace(model)
        except Exception as exc:  # fx cannot follow data-dependent control flow, and so on
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise Unexpressible([Missing("", type(model).__qualname__,
                                         f"torch.fx cannot trace its forward: {msg}")]) from exc
        gm = torch.fx.GraphModule(model, graph)
        with torch.no_grad():
            try:
                ShapeProp(gm).propagate(torch.randn(1, *input_shape))
            except Exception as exc:
                msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                shape = "x".join(map(str, input_shape))
                raise Unexpressible([Missing("", type(model).__qualname__,
                                             f"does not run on a 1x{shape} input: {msg}")]) \
                    from exc
        return _Builder(model, graph, tuple(input_shape)).run()
    finally:
        model.train(was_training)


def _shape(node) -> tuple | None:
    meta = node.meta.get("tensor_meta")
    if meta is None or not hasattr(meta, "shape"):
        return None
    return tuple(int(d) for d in meta.shape)


def _torch():
    import torch

    return torch


class _Failed(Exception):
    """An input of this node could not be expressed (and was reported)."""


_FAILED = object()


class _Builder:
    def __init__(self, model, graph, input_shape):
        self.model = model
        self.graph = graph
        self.input_shape = input_shape
        self.missing: list[Missing] = []
        self.values: dict = {}  # fx node -> value id (or a marker for non-tensors)
        self.shapes: dict[int, tuple] = {0: input_shape}
        self.ops: dict[int, Op] = {}
        self.root = Scope("", model, in_shape=input_shape)
        self.scopes: dict[str, Scope] = {"": self.root}
        self.closed: set[str] = set()
        self.open: list[str] = []
        self.called: set[str] = set()
        self.output: int | None = None
        self.output_key = None

    def miss(self, path, what, reason):
        m = Missing(path, what, reason)
        if m not in self.missing:
            self.missing.append(m)

    def run(self) -> Traced:
        placeholders = [n for n in self.graph.nodes if n.op == "placeholder"]
        if len(placeholders) != 1:
            self.miss("", type(self.model).__qualname__,
                      f"forward takes {len(placeholders)} inputs (archdsl's networks take one)")
        for node in self.graph.nodes:
            try:
                self.node(node)
            except _Failed:  # an input already reported: the failure flows on, unreported
                self.values[node] = _FAILED
            except NotExpressible as exc:
                path = node.target if node.op == "call_module" else self.scope_of(node)
                self.miss(path, self.what(node), str(exc))
                self.values[node] = _FAILED
        self.unused()
        if self.missing:
            raise Unexpressible(self.missing)
        for scope in list(self.scopes.values()):
            self.narrows(scope)
            self.dense(scope)
        self.interfaces()
        return Traced(self.root, self.ops, self.output, self.input_shape, self.shapes,
                      self.output_key)

    # ------------------------------------------------------------------ nodes

    def what(self, node) -> str:
        if node.op == "call_module":
            cls = type(self.model.get_submodule(node.target))
            return f"{cls.__module__}.{cls.__qualname__}"
        if node.op == "call_method":
            return f"Tensor.{node.target}"
        if node.op == "call_function":
            return _where(node.target)
        return node.op

    def stack(self, node) -> list[tuple[str, str, type]]:
        """(key, path, class) of the scopes around `node`, outermost first."""
        entries = [(k, v[0], v[1]) for k, v in node.meta.get("nn_module_stack", {}).items()]
        if node.op == "call_module" and entries and entries[-1][1] == node.target:
            entries = entries[:-1]
        return entries

    def scope_of(self, node) -> str:
        st = self.stack(node)
        return st[-1][1] if st else ""

    def enter(self, node) -> Scope:
        """The scope `node` runs in, made (and put in its parent's items) on first use."""
        chain = self.stack(node)
        paths = [p for _, p, _ in chain]
        for p in self.open:
            if p not in paths:
                self.closed.add(p)
        for key, path, _ in chain:
            if key != path or path in self.closed:
                raise NotExpressible("called more than once in forward (archdsl makes one "
                                     "module per call)")
        parent = self.root
        for path in paths:
            scope = self.scopes.get(path)
            if scope is None:
                scope = Scope(path, self.model.get_submodule(path))
                self.scopes[path] = scope
                parent.items.append(scope)
            parent = scope
        self.open = paths
        return parent

    def tensor(self, value):
        """The value id of an fx argument that must be a tensor."""
        import torch.fx as fx

        if isinstance(value, fx.Node) and isinstance(self.values.get(value), int):
            return self.values[value]
        if isinstance(value, fx.Node) and self.values.get(value) is _FAILED:
            raise _Failed
        raise NotExpressible("takes something other than a tensor where archdsl's kind takes one")

    def node(self, node):
        import torch.fx as fx

        if node.op == "placeholder":
            if node is next(n for n in self.graph.nodes if n.op == "placeholder"):
                self.values[node] = 0
            return
        if node.op == "output":
            out = node.args[0]
            if isinstance(out, dict) and len(out) == 1 and isinstance(
                    next(iter(out.values())), fx.Node):
                # the segmentation models' {"out": x}: the network gives x (the header says)
                self.output_key, out = next(iter(out.items()))
            if not isinstance(out, fx.Node):
                kind = type(out).__name__
                self.miss("", type(self.model).__qualname__,
                          f"forward returns a value of type {kind} (archdsl networks return "
                          "one tensor here)")
                return
            with contextlib.suppress(_Failed):  # reported where it failed
                self.output = self.tensor(out)
            return
        if node.op == "get_attr":
            attr = self.model.get_parameter(node.target) if node.target in dict(
                self.model.named_parameters()) else None
            self.miss(node.target, "torch.nn.Parameter" if attr is not None else "torch.Tensor",
                      "a parameter or buffer used directly in forward (archdsl's layers hold "
                      "all weights)")
            self.values[node] = _FAILED
            return
        if (node.op == "call_method" and node.target == "size") or (
                node.op == "call_function" and node.target is getattr):
            self.values[node] = ("size", node)  # read by a reshape (below), or refused there
            return
        if node.op == "call_module" and not kinds.is_known(self.model.get_submodule(node.target)):
            raise NotExpressible("archdsl has no layer kind for this class")
        for a in node.all_input_nodes:
            if self.values.get(a) is _FAILED:
                raise _Failed
        if node.op == "call_function" and node.target is operator.getitem:
            self.piece(node)
            return
        if (node.op == "call_method" and node.target == "chunk") or (
                node.op == "call_function" and node.target is _torch().chunk):
            self.chunk(node)
            return
        scope = self.enter(node)
        shape = _shape(node)
        if shape is None or len(shape) < 1:
            raise NotExpressible("gives something other than one tensor")
        if node.op == "call_module":
            self.module_call(node, scope, shape)
        else:
            self.function_call(node, scope, shape)

    def add(self, node, scope, mapped: Mapped, ins: list[int], shape, path="", stateful=False):
        if mapped.inplace_alias:
            self.values[node] = ins[0]
            return
        vid = max(self.ops, default=0) + 1
        op = Op(vid, mapped.kind, mapped.args, ins, path, scope.path, shape[1:],
                self.shapes[ins[0]], stateful)
        self.ops[vid] = op
        self.values[node] = vid
        self.shapes[vid] = shape[1:]
        scope.items.append(op)

    def module_call(self, node, scope, shape):
        m = self.model.get_submodule(node.target)
        cls = type(m)
        if not kinds.is_known(m):
            raise NotExpressible("archdsl has no layer kind for this class")
        if len(node.args) != 1 or node.kwargs:
            raise NotExpressible("called with more than one argument")
        x = self.tensor(node.args[0])
        stateful = any(True for _ in m.parameters()) or any(True for _ in m.buffers())
        if node.target in self.called and stateful:
            raise NotExpressible("called more than once in forward (its weights are shared; "
                                 "archdsl makes one module per call)")
        self.called.add(node.target)
        rank = len(self.shapes[x]) - 1
        mapped = kinds.map_module(m, rank)
        if mapped.kind == "layernorm":
            have = self.shapes[x][-len(m.normalized_shape):]
            if tuple(m.normalized_shape) != tuple(have) and cls.__name__ == "LayerNorm":
                raise NotExpressible("normalises other than the last dimensions")
        self.add(node, scope, mapped, [x], shape, node.target, stateful)

    def function_call(self, node, scope, shape):
        import torch
        import torch.fx as fx

        target = node.target
        if node.op == "call_function" and target in (torch.cat, torch.concat):
            tensors = node.args[0] if node.args else node.kwargs.get("tensors")
            dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
            ins = [self.tensor(t) for t in tensors]
            rank = len(self.shapes[ins[0]])
            self.add(node, scope, Mapped("concat", [("dim", kinds._dim(dim, rank), 0)]), ins,
                     shape)
            return
        if node.op == "call_function" and target is torch.narrow:
            x = self.tensor(node.args[0])
            _, dim, start, length = node.args
            if not all(isinstance(v, int) for v in (dim, start, length)):
                raise NotExpressible("narrows by sizes read from tensors")
            rank = len(self.shapes[x])
            self.add(node, scope, Mapped("_narrow", [("dim", kinds._dim(dim, rank), 0),
                                                     ("start", start, 0),
                                                     ("length", length, 0)]), [x], shape)
            return
        if node.op == "call_function" and target is torch.nn.functional.interpolate:
            self.interpolate(node, scope, shape)
            return
        if (node.op == "call_method" and target in ("view", "reshape")) or (
                node.op == "call_function" and target is torch.reshape):
            self.reshape(node, scope, shape)
            return
        if node.op == "call_method":
            fn = kinds.METHODS.get(target)
        else:
            fn = kinds.function_mapping(target) or kinds.wrapped_mapping(target)
        if fn is None:
            raise NotExpressible("archdsl has no layer kind for this call")
        tensor_args = [a for a in node.args if isinstance(a, fx.Node)]
        tensor_args += [v for v in node.kwargs.values() if isinstance(v, fx.Node)]
        first = self.tensor(node.args[0]) if node.args else None
        if first is None:
            raise NotExpressible("called without its input")
        rank = len(self.shapes[first]) - 1
        mapped = fn(node.args, dict(node.kwargs), rank)
        if mapped.kind in kinds.MERGES:
            if len(node.args) < 2 or not all(isinstance(a, fx.Node) for a in node.args[:2]) \
                    or len(node.args) > 2 or node.kwargs:
                raise NotExpressible("combines a tensor with a number (archdsl merges tensors)")
            ins = [self.tensor(a) for a in node.args[:2]]
        else:
            if len(tensor_args) != 1:
                raise NotExpressible("takes more than one tensor")
            ins = [first]
        self.add(node, scope, mapped, ins, shape)

    def interpolate(self, node, scope, shape):
        """`F.interpolate`: archdsl's upsample (by a scale, to a size, or like a tensor)."""
        a = kinds._kw(node.args, dict(node.kwargs),
                      ["size", "scale_factor", "mode", "align_corners", "recompute_scale_factor",
                       "antialias"],
                      {"size": None, "scale_factor": None, "mode": "nearest",
                       "align_corners": None, "recompute_scale_factor": None,
                       "antialias": False})
        if a["recompute_scale_factor"] or a["antialias"]:
            raise NotExpressible("recompute_scale_factor or antialias")
        x = self.tensor(node.args[0])
        ins, args = [x], []
        size = self.values.get(a["size"]) if a["size"] is not None and not isinstance(
            a["size"], (int, tuple, list)) else a["size"]
        if isinstance(size, tuple) and size and size[0] == "spatial":
            ins.append(size[1])
        elif size is not None:
            if not isinstance(size, (int, tuple, list)):
                raise NotExpressible("resizes to a size computed in forward")
            args.append(("size", kinds._size(size, len(self.shapes[x]) - 1), kinds.NONE))
        elif a["scale_factor"] is not None:
            scale = a["scale_factor"]
            args.append(("scale", scale if not isinstance(scale, list) else tuple(scale),
                         kinds.NONE))
        args += [("mode", a["mode"], "nearest"), ("align_corners", a["align_corners"], None)]
        self.add(node, scope, Mapped("upsample", args), ins, shape)

    def chunk(self, node):
        """`x.chunk(n, dim)`: an op whose pieces come from the `[i]`s that follow it."""
        scope = self.enter(node)
        x = self.tensor(node.args[0])
        a = kinds._kw(node.args, dict(node.kwargs), ["chunks", "dim"], {"dim": 0})
        dim = kinds._dim(a["dim"], len(self.shapes[x]))
        vid = max(self.ops, default=0) + 1
        op = Op(vid, "chunk", [("chunks", a["chunks"], kinds.NONE), ("dim", dim, 0)], [x], "",
                scope.path, self.shapes[x], self.shapes[x])
        self.ops[vid] = op
        self.shapes[vid] = self.shapes[x]
        scope.items.append(op)
        self.values[node] = ("chunk", op)

    def piece(self, node):
        import torch.fx as fx

        src, index = node.args
        held = self.values.get(src) if isinstance(src, fx.Node) else None
        if isinstance(held, tuple) and held[0] == "size" and isinstance(index, slice):
            shape_of = held[1]  # `t.shape[-2:]`: the spatial size of t, read at run time
            t = shape_of.args[0] if shape_of.args else None
            if shape_of.op == "call_function" and shape_of.args[1:] == ("shape",) and \
                    isinstance(self.values.get(t), int):
                rank = len(self.shapes[self.values[t]])
                if (index.step is None and index.stop is None and \
                        index.start in (1 - rank, 1, rank - (rank - 1))) or \
                        (index.start is not None and index.start % (rank + 1) == 2
                         and index.stop is None):
                    self.values[node] = ("spatial", self.values[t])
                    return
            raise NotExpressible("indexes a shape other than as its spatial size")
        if not (isinstance(held, tuple) and held[0] == "chunk" and isinstance(index, int)):
            raise NotExpressible("indexes a value (a tuple or a shape)")
        chunk = held[1]
        if index != len(chunk.pieces):
            raise NotExpressible("takes the pieces of a chunk out of order")
        shape = _shape(node)
        scope = self.enter(node)
        vid = max(self.ops) + 1
        op = Op(vid, "_piece", [], [chunk.id], "", scope.path, shape[1:], chunk.in_shape)
        self.ops[vid] = op
        self.shapes[vid] = shape[1:]
        chunk.pieces.append(op)
        scope.items.append(op)
        self.values[node] = vid

    def reshape(self, node, scope, shape):
        import torch.fx as fx

        x = self.tensor(node.args[0])
        rest = node.args[1:]
        if len(rest) == 1 and isinstance(rest[0], (tuple, list)):
            rest = tuple(rest[0])
        batch_ok = rest and (rest[0] == -1 or (isinstance(rest[0], fx.Node)
                                               and self.is_batch(rest[0])))
        if not batch_ok or not all(isinstance(r, int) for r in rest[1:]):
            raise NotExpressible("reshapes with sizes read from tensors or across the batch")
        out = shape[1:]
        if len(out) == 1 and len(self.shapes[x]) > 1 and out[0] == math.prod(self.shapes[x]):
            self.add(node, scope, Mapped("flatten", []), [x], shape)
            return
        self.add(node, scope, Mapped("reshape", [("shape", tuple(out), kinds.NONE)]), [x], shape)

    def is_batch(self, n) -> bool:
        """Whether fx node `n` is `t.size(0)` (or `t.shape[0]`) of some tensor."""
        if n.op == "call_method" and n.target == "size":
            return (n.args[1:] == (0,)) or n.kwargs.get("dim") == 0
        return False

    # ------------------------------------------------------------------ afterwards

    def narrows(self, scope: Scope) -> None:
        """`torch.narrow`s that cut one tensor into equal consecutive pieces (how a compiled
        network computes `chunk`) as the chunk they are."""
        items = scope.items
        i = 0
        while i < len(items):
            first = items[i]
            if not (isinstance(first, Op) and first.kind == "_narrow"):
                i += 1
                continue
            run = [first]
            while i + len(run) < len(items):
                nxt = items[i + len(run)]
                if not (isinstance(nxt, Op) and nxt.kind == "_narrow"
                        and nxt.ins == first.ins and nxt.args[0] == first.args[0]):
                    break
                run.append(nxt)
            dim = first.args[0][1]
            size = first.in_shape[dim]
            length = first.args[2][1]
            starts = [op.args[1][1] for op in run]
            n = -(-size // length)
            if not (starts == [k * length for k in range(len(run))] and len(run) == n
                    and all(op.args[2][1] == min(length, size - s)
                            for op, s in zip(run, starts, strict=True))):
                self.miss(scope.path, "torch.narrow", "cuts a tensor other than into a chunk")
                return
            vid = max(self.ops) + 1
            chunk = Op(vid, "chunk", [("chunks", n, kinds.NONE), ("dim", dim, 0)],
                       list(first.ins), "", scope.path, first.in_shape, first.in_shape)
            self.ops[vid] = chunk
            self.shapes[vid] = first.in_shape
            for op in run:
                op.kind, op.args, op.ins = "_piece", [], [vid]
            chunk.pieces = run
            items.insert(i, chunk)
            i += len(run) + 1
        if self.missing:
            raise Unexpressible(self.missing)

    def dense(self, parent: Scope) -> None:
        """DenseNet's pattern, rewritten as a chain: children D1..DL where Dk concatenates
        [x0, n1, ..., n(k-1)] (the outputs of those before it) and the parent concatenates them
        all at the end. Each Dk then takes the concat so far, C(k-1), and gives C(k) =
        concat(C(k-1), nk): the same tensors (a concat of concats is one concat), the same
        layers, and a block with one input and one output (`concat { {} {...} }`)."""
        items = parent.items
        if len(items) < 2 or not isinstance(items[-1], Op) or items[-1].kind != "concat":
            return
        final, kids = items[-1], items[:-1]
        if not all(isinstance(k, Scope) and k.items and isinstance(k.items[-1], Op)
                   for k in kids):
            return
        if any(dict((n, v) for n, v, _ in final.args).get("dim") != 0 for _ in [0]):
            return
        x0, outs, firsts = final.ins[0], [], []
        for kid in kids:
            first = kid.items[0]
            if not (isinstance(first, Op) and first.kind == "concat"
                    and first.ins == [x0, *outs]):
                return
            firsts.append(first)
            outs.append(kid.items[-1].id)
        if final.ins != [x0, *outs]:
            return
        allowed = {id(op) for op in (*firsts, final)}
        for op in self.ops.values():
            if id(op) not in allowed and any(v in outs for v in op.ins):
                return
        current = x0
        for kid, first, n in zip(kids, firsts, outs, strict=True):
            kid.items.remove(first)
            del self.ops[first.id]
            self.rename(first.id, current)
            vid = max(self.ops) + 1
            shape = (self.shapes[current][0] + self.shapes[n][0], *self.shapes[current][1:])
            op = Op(vid, "concat", [("dim", 0, 0)], [current, n], "", kid.path, shape,
                    self.shapes[current])
            self.ops[vid] = op
            self.shapes[vid] = shape
            kid.items.append(op)
            current = vid
        items.remove(final)
        del self.ops[final.id]
        self.rename(final.id, current)

    def rename(self, old: int, new: int) -> None:
        for op in self.ops.values():
            op.ins = [new if v == old else v for v in op.ins]
        if self.output == old:
            self.output = new

    def unused(self):
        """Modules with weights that forward never calls: their keys would be lost."""
        if self.missing:
            return
        for name, module in self.model.named_modules():
            if not name or any(True for _ in module.children()):
                continue
            has_state = any(True for _ in module.parameters(recurse=False)) or \
                any(True for _ in module.buffers(recurse=False))
            if has_state and name not in self.called:
                cls = type(module)
                self.miss(name, f"{cls.__module__}.{cls.__qualname__}",
                          "never called in forward (eval mode); its weights would be lost")

    def interfaces(self):
        """Each scope's inputs (values read inside, made outside) and outputs."""
        where = {0: ()}
        for op in self.ops.values():
            where[op.id] = self._chain(op.scope)
        reads: list[tuple[int, tuple]] = []
        for op in self.ops.values():
            for v in op.ins:
                reads.append((v, where[op.id]))
        reads.append((self.output, ()))
        for v, consumer in reads:
            producer = where[v]
            for path in consumer:
                if path not in producer:
                    s = self.scopes[path]
                    if v not in s.ins:
                        s.ins.append(v)
            for path in producer:
                if path not in consumer:
                    s = self.scopes[path]
                    if v not in s.outs:
                        s.outs.append(v)
        for s in self.scopes.values():
            if s.ins:
                s.in_shape = self.shapes[s.ins[0]]
            if s.outs:
                s.shape = self.shapes[s.outs[0]]
        self.root.ins, self.root.outs = [0], [self.output]
        self.root.shape = self.shapes[self.output]

    def _chain(self, path: str) -> tuple:
        if not path:
            return ()
        parts = path.split(".")
        return tuple(".".join(parts[:i]) for i in range(1, len(parts) + 1)
                     if ".".join(parts[:i]) in self.scopes)
