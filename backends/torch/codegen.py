"""The classes of a compiled network, as Python source text (no torch).

`generate(ir)` turns the scope tree (structure.py) into one class per block definition and a
class for the network, and prints them as the body of the file `to_source` writes and
`to_torch` runs (lower.py executes this very text, so the two cannot differ).

Classes. The instances of one block (scopes with the same `kind`; a labelled group counts as a
block named after its label) share a class when they are built the same way up to numbers:
same children with the same module classes, same forward. The numbers that differ between
instances become constructor parameters, named after the first argument they fill
(`in_channels`, `channels`, `stride`...); a number that is always a multiple of a parameter is
written as one (`channels * 4`). A keyword argument whose torch default some instance keeps
gets that default (`stride=1`), so call sites read `Bottleneck(256, 64)`. Where instances
differ only by a child that others do without (ResNet's projection shortcut), the class takes
that child as an argument that defaults to `None` and its forward skips it when absent:
torchvision's `Bottleneck(inplanes, planes, stride, downsample)`, built by the caller. Any
other difference gives another class (`Res`, `Res2`). A sequential scope (structure.py) is an
`nn.Sequential` of its children, not a class.

Names. A child keeps its name in the file (so `state_dict` keys are the IR names); a
parameterless child numbered like nn.Sequential (`0`, an unnamed relu) inside a class is
named after its kind instead (`relu`, `relu2`), which changes no key. Forward variables follow
the data: an input that is read for the last time is reused (`x = self.conv1(x)`); a value
handed straight to the next statement is `out`; others are named after the child that made
them (`branch1`, `downsample`).

Locations. `Generated` says, for each layer, where it sits in the module tree and what a
run-time error should say about it; for each forward line that computes a layer itself (a
merge, a resize), which layer that is and which variables are its inputs (module.py reads
these when a forward fails).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

from archdsl import ops
from archdsl.elaborate import RESERVED_LABELS
from archdsl.escape import py_comment, py_docstring, py_str

from . import lowering_source
from .exprs import Call, Lit, Param, lines, skeleton, substitute
from .inplace import with_inplace, writers
from .lowering import LOWERINGS, ModuleCall
from .structure import Leaf, NotModular, Scope, build


@dataclass(frozen=True)
class LayerInfo:
    """What a run-time error says about a layer (plain data, so it pickles)."""

    name: str  # the IR name: `layer1.0.conv1`
    label: str  # `conv 64 1x1 /1 p0`
    location: str  # `architectures/resnet50.arch:9:5`
    expects: tuple[tuple[int, ...], ...]  # input shapes, batch left out
    op: str = ""  # the kind


# Names the generated code uses for itself: never an attribute, variable or class.
RESERVED = frozenset({"self", "torch", "nn", "super", "range", "literal_kernel", "optimize",
                      "float", "None", "True", "False"})
# the layer classes of runtime.py, which a file may define beside the network's
RUNTIME_CLASSES = frozenset({"Scale", "StochasticDepth", "ChannelLayerNorm", "ChannelShuffle"})
# nn.Module's own attributes: a child with one of these names is registered with add_module and
# read with getattr. The front end's reserved labels hold them all (tests/test_language.py
# checks that against torch); the names generated here for unlabelled children can meet them.
MODULE_ATTRS = RESERVED_LABELS

# torch.nn constructors' positional parameters, for naming class parameters after them
_ROLES = {
    "Conv": ("in_channels", "channels", "kernel_size"),
    "ConvTranspose": ("in_channels", "channels", "kernel_size"),
    "BatchNorm": ("channels",), "InstanceNorm": ("channels",),
    "Linear": ("in_features", "features"),
    "MaxPool": ("kernel_size",), "AvgPool": ("kernel_size",),
    "AdaptiveAvgPool": ("output_size",), "AdaptiveMaxPool": ("output_size",),
    "Dropout": ("p",), "LocalResponseNorm": ("size",), "GroupNorm": ("groups", "channels"),
    "LayerNorm": ("normalized_shape",), "ChannelLayerNorm": ("channels",),
}
# torch normalises these arguments to tuples itself: `3` and `(3, 3)` build the same conv
_SHORT = ("kernel_size", "stride", "padding", "dilation", "output_padding")


def _roles(cls: str) -> tuple:
    base = re.sub(r"[123]d$", "", cls)
    return _ROLES.get(base, ())


def _short(v):
    return v[0] if isinstance(v, tuple) and v and len(set(v)) == 1 else v


def leaf_expr(call: ModuleCall) -> Call:
    """The constructor call of a leaf layer, every keyword argument with its default."""
    func = call.cls if call.runtime else "nn." + call.cls
    roles = _roles(call.cls)
    conv = call.cls.startswith(("Conv", "ConvTranspose"))
    args = tuple(Lit(_short(a) if conv and i == 2 else a) for i, a in enumerate(call.args))
    full = getattr(call.kwargs, "full", None)
    if full is None:
        kwargs = tuple((k, Lit(v)) for k, v in call.kwargs)
    else:
        kwargs = tuple((k, Lit(_short(v), _short(d)) if conv and k in _SHORT else Lit(v, d))
                       for k, v, d in full)
    expr = Call(func, args, kwargs, roles)
    if call.kernel is not None:
        expr = Call("literal_kernel", (expr, Lit(call.kernel), Lit(call.frozen)))
    return expr


def class_name(name: str) -> str:
    """`resnet50` -> `Resnet50`, `my_net` -> `MyNet`, `conv_unit` -> `ConvUnit`."""
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", name) if p]
    out = "".join(p[0].upper() + p[1:] for p in parts) or "Network"
    out = out if out[0].isalpha() else "Net" + out
    return out + "_" if keyword.iskeyword(out) or out in RUNTIME_CLASSES else out


def attr_ok(name: str) -> bool:
    """Can the child be written `self.name`?"""
    return (name.isidentifier() and not keyword.iskeyword(name) and name not in MODULE_ATTRS
            and name not in RESERVED and name.isascii())


def _ident(name: str) -> str:
    name = re.sub(r"\W", "_", name)
    if not name or not name.isidentifier() or not name.isascii() or name[0].isdigit():
        name = "v_" + re.sub(r"[^0-9A-Za-z_]", "_", name)
    return name + "_" if keyword.iskeyword(name) or name in RESERVED else name


# ------------------------------------------------------------------------- forward statements
@dataclass(eq=False)
class Stmt:
    kind: str  # "call" (a child module), "fn" (a function layer), "alias" (passthrough)
    ins: list[int]
    outs: list[int]
    attr: str = ""
    nid: int | None = None
    hint: str = "out"


@dataclass
class Line:
    """A generated line; `layer` (an IR node) and `vars` when it computes a layer."""

    text: str
    nid: int | None = None
    vars: tuple = ()


@dataclass(eq=False)
class Instance:
    scope: Scope
    base: str
    init: list  # (attr, expr, span)
    stmts: list[Stmt]
    cls: str = ""
    opt: frozenset = frozenset()

    @property
    def attrs(self) -> set[str]:
        return {a for a, _, _ in self.init}


class _Gen:
    def __init__(self, ir, standalone: bool):
        self.ir = ir
        self.standalone = standalone
        self.live = ir.live()
        self.scope_path = {}
        for nid, data in ir.nodes():
            self.scope_path[nid] = data["name"].rpartition(".")[0]
        self.in_place = writers(ir, self.live, self.scope_path)
        self.root = build(ir, self.live)
        self.names: set[str] = set(RUNTIME_CLASSES)
        self.classes: list[tuple[str, list[str]]] = []  # (name, lines), in definition order
        self.fn_globals: dict[str, object] = {}  # custom kinds' callables (to_torch only)
        self.module_paths: dict[str, str] = {}  # IR name -> module path
        self.line_infos: dict[tuple[str, int], tuple[str, tuple]] = {}

    # ----------------------------------------------------------------- leaves
    def args(self, nid: int) -> dict:
        data = self.ir.node(nid)
        low = self._low(nid)
        args = data["args"]
        if low.inplace:
            args = with_inplace(args, nid in self.in_place)
        return args

    def _low(self, nid):
        from .lowering import lowering_for

        data = self.ir.node(nid)
        return lowering_for(data["op"], data["name"], data["span"].location())

    def leaf_module(self, leaf: Leaf) -> Call:
        return leaf_expr(leaf.low.module(self.args(leaf.nid)))

    # ----------------------------------------------------------------- attributes
    def assign_attrs(self, scope: Scope) -> None:
        taken = {it.local for it in scope.items}
        used: set[str] = set()
        for item in scope.items:
            name = item.local
            if (not scope.sequential and isinstance(item, Leaf) and name.isdigit()
                    and item.low.module is not None):
                data = self.ir.node(item.nid)
                if not data.get("params") and not data.get("buffers"):
                    base = _ident(data["op"])
                    name, k = base, 2
                    while name in taken or name in used or not attr_ok(name):
                        name, k = f"{base}{k}", k + 1
            used.add(name)
            item.attr = name

    # ----------------------------------------------------------------- statements
    def statements(self, scope: Scope) -> list[Stmt]:
        out = []
        for item in scope.items:
            if isinstance(item, Scope):
                if item.live if scope.live else True:
                    hint = item.local if item.local.isidentifier() else "out"
                    out.append(Stmt("call", list(item.inputs), list(item.outputs), item.attr,
                                    hint=_ident(hint)))
                continue
            if item.nid not in scope.body:
                continue
            ins = self.ir.inputs(item.nid)
            op = self.ir.node(item.nid)["op"]
            if item.low.passthrough:
                out.append(Stmt("alias", ins, [item.nid], nid=item.nid))
            elif item.low.module is not None:
                hint = item.attr if item.attr.isidentifier() else op
                out.append(Stmt("call", ins, [item.nid], item.attr, item.nid, _ident(hint)))
            else:
                out.append(Stmt("fn", ins, [item.nid], nid=item.nid,
                                hint=_ident({"concat": "cat"}.get(op, op))))
        return out

    def fn_text(self, nid: int, in_vars: list[str]):
        op = self.ir.node(nid)["op"]
        args = self.args(nid)
        text = lowering_source.SOURCES.get(op)
        low = self._low(nid)
        if text is not None and low is _builtin(op):
            return text(args, in_vars)
        return _record(self, low, args, in_vars)

    def _accumulates(self, s: Stmt) -> bool:
        if s.kind != "fn":
            return False
        a = self.args(s.nid)
        return self.ir.node(s.nid)["op"] == "add" and bool(a.get("inplace")) and \
            not a.get("broadcast")

    def forward(self, scope: Scope, stmts: list[Stmt], optional=frozenset(),
                skip=frozenset()) -> list[Line]:
        """The forward's lines (def, body, return) for these statements; a call of a child in
        `skip` is left out (the child is absent: its input flows through), one in `optional`
        is guarded by `if self.child is not None`."""
        n_in = len(scope.inputs)
        in_names = ["x"] if n_in == 1 else [f"x{i + 1}" for i in range(n_in)]
        eff = [Stmt("alias", s.ins, s.outs) if s.kind == "call" and s.attr in skip else s
               for s in stmts]
        last: dict[int, float] = {}
        uses: dict[int, int] = {}
        firsts: set[int] = set()  # values some statement takes as its first input
        for i, s in enumerate(eff):
            for n in s.ins:
                last[n] = i
                uses[n] = uses.get(n, 0) + 1
            # a pipeline goes on through one-input layers and `+=` (it updates its first input)
            if s.ins and s.kind != "alias" and (len(s.ins) == 1 or self._accumulates(s)):
                firsts.add(s.ins[0])
        for n in scope.outputs:
            last[n] = float("inf")
        var: dict[int, str] = dict(zip(scope.inputs, in_names, strict=True))
        var_last: dict[str, float] = {}

        def bind(nid: int, name: str) -> None:
            var[nid] = name
            var_last[name] = max(var_last.get(name, -1), last.get(nid, -1))

        for nid, name in zip(scope.inputs, in_names, strict=True):
            bind(nid, name)

        def fresh(hint: str, i: int) -> str:
            name, k = hint, 2
            while var_last.get(name, -1) >= i:
                name, k = f"{hint}{k}", k + 1
            return name

        body: list[Line] = []
        for i, s in enumerate(eff):
            try:
                in_vars = [var[n] for n in s.ins]
            except KeyError:
                raise NotModular(f"scope `{scope.path}` reads a value computed after it") from None
            if s.kind == "alias":
                bind(s.outs[0], in_vars[0])
                continue
            expr = None
            if s.kind == "fn":
                expr = self.fn_text(s.nid, in_vars)
            if isinstance(expr, lowering_source.InPlace):
                target = in_vars[0]
                body.append(Line(f"{target} += {expr.other}", s.nid, tuple(in_vars)))
                if expr.rest:
                    name = target if var_last.get(target, -1) <= i else fresh(s.hint, i)
                    body.append(Line(f"{name} = {' + '.join((target, *expr.rest))}", s.nid,
                                     tuple(in_vars)))
                    bind(s.outs[0], name)
                else:
                    bind(s.outs[0], target)
                continue
            if len(s.outs) == 1:
                v0 = in_vars[0] if in_vars else None
                # a chain: the value goes on as the next statement's first input
                chain = uses.get(s.outs[0]) == 1 and s.outs[0] in firsts
                returned = last.get(s.outs[0]) == float("inf")
                if (len(in_vars) == 1 and var_last.get(v0, -1) <= i
                        and (chain or returned or s.attr in optional)):
                    name = v0
                elif chain and var_last.get("out", -1) < i and "out" not in in_names:
                    name = "out"
                else:
                    name = fresh(s.hint, i)
                bind(s.outs[0], name)
                names = [name]
            else:
                names = []
                for k, o in enumerate(s.outs):
                    name = fresh(f"{s.hint}_{k}", i)
                    bind(o, name)
                    names.append(name)
            target = ", ".join(names)
            if s.kind == "fn":
                body.append(Line(f"{target} = {expr}", s.nid, tuple(in_vars)))
                continue
            call = (f"self.{s.attr}" if attr_ok(s.attr) else f"getattr(self, {py_str(s.attr)})")
            text = f"{target} = {call}({', '.join(in_vars)})"
            if s.attr in optional:
                if target != in_vars[0]:
                    body.append(Line(f"{target} = {in_vars[0]}"))
                body.append(Line(f"if {call} is not None:"))
                text = "    " + text
            body.append(Line(text, s.nid, tuple(in_vars)))
        outs = [var[n] for n in scope.outputs]
        ret = ", ".join(outs) if outs else "None"
        # `v = expr` then `return v`: `return expr`
        if (len(outs) == 1 and body and body[-1].nid is not None and eff and eff[-1].kind == "fn"
                and body[-1].text.startswith(f"{outs[0]} = ") and outs[0] not in in_names
                and sum(1 for n in var.values() if n == outs[0]) == 1):
            last_line = body.pop()
            return [Line(f"def forward(self, {', '.join(in_names)}):"),
                    *[Line("    " + ln.text, ln.nid, ln.vars) for ln in body],
                    Line("    return " + last_line.text[len(outs[0]) + 3:], last_line.nid,
                         last_line.vars)]
        head = Line(f"def forward(self, {', '.join(in_names)}):")
        return [head, *[Line("    " + ln.text, ln.nid, ln.vars) for ln in body],
                Line(f"    return {ret}")]

    # ----------------------------------------------------------------- instances
    def describe(self, scope: Scope, resolved: dict) -> Instance:
        init = []
        for item in scope.items:
            if isinstance(item, Scope):
                init.append((item.attr, resolved[item], item.span))
            elif item.low.module is not None:
                init.append((item.attr, self.leaf_module(item), self.ir.node(item.nid)["span"]))
        base = class_name(scope.kind if scope.kind not in ("group", "network")
                          else scope.local or scope.kind)
        return Instance(scope, base, init, self.statements(scope))

    def key(self, inst: Instance, skip=frozenset()) -> tuple:
        init = tuple((a, skeleton(e)) for a, e, _ in inst.init if a not in skip)
        fwd = tuple(ln.text for ln in self.forward(inst.scope, inst.stmts, skip=skip))
        return init, fwd, len(inst.scope.inputs), len(inst.scope.outputs)

    def make_classes(self, base: str, insts: list[Instance], resolved: dict) -> None:
        keys = [self.key(i) for i in insts]
        groups: list[tuple[list[Instance], frozenset, Instance]] = []
        if len(set(keys)) > 1:
            every = set.union(*(i.attrs for i in insts))
            common = set.intersection(*(i.attrs for i in insts))
            opt = frozenset(every - common)
            full = [i for i in insts if opt <= i.attrs]
            ok = bool(opt) and bool(full) and all(
                s.kind == "call" and len(s.ins) == 1 and len(s.outs) == 1
                for i in insts for s in i.stmts if s.attr in opt)
            if ok:
                reduced = {self.key(i, skip=opt & i.attrs) for i in insts}
                if len(reduced) == 1:
                    groups = [(insts, opt, full[0])]
        if not groups:
            by_key: dict[tuple, list[Instance]] = {}
            for inst, k in zip(insts, keys, strict=True):
                by_key.setdefault(k, []).append(inst)
            groups = [(g, frozenset(), g[0]) for g in by_key.values()]
        for members, opt, template in groups:
            name, k = base, 2
            while name in self.names:
                name, k = f"{base}{k}", k + 1
            self.names.add(name)
            self.emit_class(name, members, opt, template, resolved)

    def emit_class(self, name: str, members: list[Instance], opt: frozenset,
                   template: Instance, resolved: dict) -> None:
        per = []
        for inst in members:
            slots = [sl for a, e, _ in inst.init if a not in opt
                     for sl in (e.slots() if isinstance(e, Call) else ())]
            per.append(slots)
        n = len(per[0])
        params: list[list] = []  # [name, values, default]
        exprs = []
        taken: set[str] = set()
        for j in range(n):
            lit, role = per[0][j]
            values = [p[j][0].value for p in per]
            if all(v == values[0] for v in values) or len(members) == 1:
                exprs.append(lit)
                continue
            found = None
            for p in params:
                if p[1] == values:
                    found = Param(p[0])
                    break
            if found is None and all(type(v) is int for v in values):
                for p in params:
                    u = p[1]
                    if all(type(b) is int and b for b in u) and all(v % b == 0 for v, b in
                                                                     zip(values, u, strict=True)):
                        ks = {v // b for v, b in zip(values, u, strict=True)}
                        if len(ks) == 1 and next(iter(ks)) > 1:
                            found = Param(p[0], next(iter(ks)))
                            break
            if found is None:
                pname = _param_name(role, taken)
                taken.add(pname)
                default = lit.default if any(p[j][0].is_default() for p in per) else None
                params.append([pname, values, default])
                found = Param(pname)
            exprs.append(found)
        init = []
        values = list(exprs)
        for a, e, sp in template.init:
            if a in opt:
                init.append((a, a, sp))
            else:
                init.append((a, substitute(e, values) if isinstance(e, Call) else e, sp))
        positional = [p for p in params if p[2] is None]
        keyword_ = [p for p in params if p[2] is not None]
        sig = ["self", *(p[0] for p in positional),
               *(f"{p[0]}={_lit_text(p[2])}" for p in keyword_), *(f"{a}=None" for a in
                                                                    sorted(opt, key=[
                                                                        a for a, _, _ in
                                                                        template.init].index))]
        out = [f"class {name}(nn.Module):",
               "    " + py_docstring([_class_doc(template.scope, len(members))]),
               "",
               f"    def __init__({', '.join(sig)}):",
               "        super().__init__()"]
        out += self.init_lines(init, 8)
        out.append("")
        fwd = self.forward(template.scope, template.stmts, optional=opt)
        out += self.place_forward(name, fwd, 4, template.scope.path)
        self.classes.append((name, out))
        for k, inst in enumerate(members):
            args = tuple(Lit(p[1][k]) for p in positional)
            kwargs = tuple((p[0], Lit(p[1][k], p[2])) for p in keyword_)
            kwargs += tuple((a, e) for a, e, _ in inst.init if a in opt)
            resolved[inst.scope] = Call(name, args, kwargs, tuple(p[0] for p in positional))
            inst.cls = name

    def init_lines(self, init: list, indent: int) -> list[str]:
        out = []
        for attr, expr, span in init:
            comment = f"  # {py_comment(span.short())}" if span is not None else ""
            body = [expr] if isinstance(expr, str) else lines(expr, indent + len(attr) + 8)
            if attr_ok(attr):
                first = f"self.{attr} = "
                text = [first + body[0], *body[1:]]
            else:
                text = [f"self.add_module({py_str(attr)}, {body[0]}", *body[1:]]
                text[-1] += ")"
            text[0] += comment
            out += [" " * indent + t for t in text]
        return out

    def place_forward(self, cls: str, fwd: list[Line], indent: int, path: str) -> list:
        """Forward lines; a line that computes a layer is kept as (text, class, the layer's
        name relative to the scope, its input variables), for the location table (resolved
        to line numbers once the file is put together)."""
        out = []
        cut = len(path) + 1 if path else 0
        for ln in fwd:
            text = " " * indent + ln.text
            if ln.nid is None:
                out.append(text)
            else:
                out.append((text, cls, self.ir.node(ln.nid)["name"][cut:], ln.vars))
        return out

    # ----------------------------------------------------------------- the whole tree
    def run(self):
        for scope in self.root.scopes():
            self.assign_attrs(scope)
        resolved: dict[Scope, Call] = {}
        pending = [s for s in self.root.scopes() if s is not self.root]
        while pending:
            ready = [s for s in pending if all(c in resolved for c in s.items
                                               if isinstance(c, Scope))]
            progress = False
            for s in ready:
                if s.sequential:
                    resolved[s] = Call("nn.Sequential", tuple(
                        resolved[c] if isinstance(c, Scope) else self.leaf_module(c)
                        for c in s.items))
                    progress = True
            insts = [self.describe(s, resolved) for s in ready if not s.sequential]
            waiting = {self.describe_base(s) for s in pending
                       if s not in ready and not s.sequential}
            by_base: dict[str, list[Instance]] = {}
            for inst in insts:
                by_base.setdefault(inst.base, []).append(inst)
            todo = [b for b in by_base if b not in waiting] or (list(by_base) if not progress
                                                                else [])
            for b in todo:
                self.make_classes(b, by_base[b], resolved)
                progress = True
            if not progress:
                raise NotModular("the scopes of this network do not nest")
            pending = [s for s in pending if s not in resolved]
        return self.describe(self.root, resolved)

    def describe_base(self, s: Scope) -> str:
        return class_name(s.kind if s.kind not in ("group", "network") else s.local or s.kind)

    def paths(self):
        """IR name -> module path, for every leaf with a module."""
        def walk(scope: Scope, prefix: str):
            for item in scope.items:
                path = f"{prefix}{item.attr}"
                if isinstance(item, Scope):
                    walk(item, path + ".")
                elif item.low.module is not None:
                    self.module_paths[self.ir.node(item.nid)["name"]] = path
        walk(self.root, "")
        return self.module_paths


# the built-in lowerings, as this module found them: a kind whose entry was replaced with
# register_lowering(replace=True) runs the replacement, not the text of lowering_source
_BUILTINS = {k: v for k, v in LOWERINGS.items() if k in lowering_source.SOURCES}


def _builtin(op: str):
    return _BUILTINS.get(op)


def _param_name(role: str, taken: set[str]) -> str:
    base = re.sub(r"\d+$", "", role) or "arg"
    base = base if base.isidentifier() and not keyword.iskeyword(base) and \
        base not in RESERVED else "arg"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}{k}", k + 1
    return name


def _lit_text(value) -> str:
    from archdsl.escape import py_value

    return py_value(value)


def _class_doc(scope: Scope, n: int) -> str:
    what = f"block `{scope.kind}`" if scope.kind != "group" else f"group `{scope.local}`"
    return f"The {what} ({n} in this network)." if n > 1 else f"The {what}."


# --------------------------------------------------------------- custom function kinds
class _Text:
    def __init__(self, text: str):
        self.text = text


def _record(gen: _Gen, low, args: dict, in_vars: list[str]) -> str:
    """A custom kind's fx-style `function(args, ins, call)` lowering, run with a `call` that
    writes text; each callable it names becomes a global of the generated module."""
    import operator

    symbols = {operator.add: "+", operator.sub: "-", operator.mul: "*",
               operator.truediv: "/", operator.floordiv: "//"}

    def arg_text(a) -> str:
        from archdsl.escape import py_value

        if isinstance(a, _Text):
            return a.text
        if isinstance(a, (list, tuple)):
            inner = ", ".join(arg_text(v) for v in a)
            if isinstance(a, list):
                return f"[{inner}]"
            return f"({inner},)" if len(a) == 1 else f"({inner})"
        if isinstance(a, slice):
            return f"slice({arg_text(a.start)}, {arg_text(a.stop)}, {arg_text(a.step)})"
        return py_value(a)

    def call(target, a, kwargs=None):
        if target in symbols and len(a) == 2 and not kwargs:
            return _Text(f"({arg_text(a[0])} {symbols[target]} {arg_text(a[1])})")
        name = _torch_name(target)
        if name is None:
            name = next((k for k, v in gen.fn_globals.items() if v is target), None)
        if name is None and gen.standalone:
            where = getattr(target, "__module__", None) or "?"
            raise ValueError(f"the forward calls `{where}.{getattr(target, '__name__', target)}`"
                             ", which the standalone file does not define")
        if name is None:
            name = f"_fn{len(gen.fn_globals)}"
            gen.fn_globals[name] = target
        parts = [arg_text(v) for v in a] + [f"{k}={arg_text(v)}" for k, v in (kwargs or {}).items()]
        return _Text(f"{name}({', '.join(parts)})")

    out = low.function(args, [_Text(v) for v in in_vars], call)
    return out.text if isinstance(out, _Text) else arg_text(out)


def _torch_name(target) -> str | None:
    """`torch.clamp`, `torch.nn.functional.pad`: the dotted name by which the file's `import
    torch` reaches `target`, or None. (Only already imported modules are looked at.)"""
    import sys

    module, name = getattr(target, "__module__", None), getattr(target, "__name__", None)
    if not module or not name:
        return None
    for owner in (module, "torch"):
        if (owner == "torch" or owner.startswith("torch.")) and \
                getattr(sys.modules.get(owner), name, None) is target:
            return f"{owner}.{name}"
    return None


# --------------------------------------------------------------------------- the result
@dataclass
class Generated:
    cls: str  # the network's class name
    classes: list[tuple[str, list]]  # block classes, then the network's
    layers: dict[str, LayerInfo]  # IR name -> info, every computed layer
    module_paths: dict[str, str]  # IR name -> module path
    fn_globals: dict[str, object] = field(default_factory=dict)
    runtime: tuple[str, ...] = ()  # runtime.py classes used
    literal_kernel: bool = False


def _info(ir, nid: int, data: dict) -> LayerInfo:
    spec = ops.lookup(data["op"])
    label = spec.label(data["args"]) if spec else data["op"]
    return LayerInfo(data["name"], label, data["span"].location(),
                     tuple(tuple(s) for s in ir.input_shapes(nid)), data["op"])


def generate(ir, network_lines, standalone: bool) -> Generated:
    """The classes of `ir`; `network_lines(cls, init_lines)` gives the lines of the network
    class's head (docstring, `input_shape`, ...) and the statements after its children are
    built (initialisation)."""
    gen = _Gen(ir, standalone)
    root = gen.run()
    name = class_name(ir.name)
    while name in gen.names:
        name += "_"
    head, tail = network_lines(name)
    out = [f"class {name}(nn.Module):", *head,
           "    def __init__(self):", "        super().__init__()"]
    out += gen.init_lines(root.init, 8)
    out += ["        " + t for t in tail]
    out.append("")
    out += gen.place_forward(name, gen.forward(root.scope, root.stmts), 4, "")
    gen.classes.append((name, out))
    layers = {data["name"]: _info(ir, nid, data) for nid, data in ir.nodes()}
    runtime, kernel = set(), False
    for nid, data in ir.nodes():
        if data["op"] == "input":
            continue
        low = gen._low(nid)
        if low.module is not None:
            call = low.module(data["args"])
            if call.runtime:
                runtime.add(call.cls)
            kernel = kernel or call.kernel is not None
    return Generated(name, gen.classes, layers, gen.paths(), gen.fn_globals,
                     tuple(sorted(runtime)), kernel)
