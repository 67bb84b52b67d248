"""Checks of each definition's text, made once per file as it is loaded (not per call): the
warnings about bound values, and the error of a parameter default that reads a later one.

Warnings (severity "warning": printed like errors, but `check` still passes unless --werror):

- W0001: a value bound with `y = ...` (or unpacked, `[a, b] = chunk(2)`) that nothing in its
  definition reads. A name starting with `_` is never reported.
- W0002: `conv1 = conv(...)` where `conv1: conv(...)` was meant: a binding of one layer or
  block call that is never read, or that is named like that layer's label (`conv1` for a
  `conv`). A binding does not name the layer: it is numbered in its scope.
- W0003: a value bound as `x` or `in`, which hides the current tensor or the block's input.

Error E0232: a parameter's default reads a parameter declared after it. Defaults are
evaluated in order, so the later one does not exist yet (the elaborator would say "unknown
name", about a name that the definition has).

A binding counts as read when its name appears anywhere in the definition as a value (in an
expression, as an item, in `return`), before or after it, under any condition: the checks are
of the text, so a binding read only on some calls is not reported.
"""

from __future__ import annotations

import dataclasses
import re

from . import ops
from . import syntax as s
from .diagnostics import Diagnostic, Diagnostics, Label
from .source import Span

# names the elaborator resolves before the parameters in a default (BASE_CONSTANTS, `in`, `x`)
_PREDEFINED = frozenset({"same", "valid", "fan_in", "fan_out", "in", "x"})
_HIDES = {"x": "the current tensor (what flows into each item)",
          "in": "the block's input (in a network, the network's input)"}
_NODES = (s.Expr, s.Item, s.Arg, s.Param)
_FIELDS: dict[type, tuple[str, ...]] = {}


def run(module: s.Module, diags: Diagnostics) -> None:
    """Check every definition of `module` (not those it imports: they are checked once, when
    their own file is loaded)."""
    for defn in module.definitions:
        _later_parameters(defn, diags)
        _bindings(defn, module, diags)


# ---------------------------------------------------------------------------- E0232
def _later_parameters(defn: s.Definition, diags: Diagnostics) -> None:
    """`block b(a = c, c = 1)`: `a`'s default reads `c`, declared after it."""
    index = {p.name: i for i, p in enumerate(defn.params)}
    for i, p in enumerate(defn.params):
        if p.default is None:
            continue
        for n in _walk(p.default):
            if not isinstance(n, s.Name) or n.ident in _PREDEFINED:
                continue
            j = index.get(n.ident)
            if j is None or j <= i:
                continue
            later = defn.params[j]
            diags.error("E0232", f"the default of `{p.name}` reads `{n.ident}`, a parameter "
                        f"declared after it", n.span, label=f"`{n.ident}` has no value yet",
                        labels=[Label(later.span, f"`{n.ident}` is declared here, after "
                                                  f"`{p.name}`")],
                        notes=["parameter defaults are evaluated in order, left to right: a "
                               "default reads only the parameters before it"],
                        help=f"declare `{n.ident}` before `{p.name}`")


# ---------------------------------------------------------------------------- W0001-W0003
def _bindings(defn: s.Definition, module: s.Module, diags: Diagnostics) -> None:
    binds: list[tuple[str, Span, s.Item]] = []  # name, where bound, the item that binds it
    used: set[str] = set()
    for n in _walk(defn.body):
        t = type(n)
        if t is s.Name or t is s.Ref or t is s.Call:  # `y(16)` is an error of its own
            used.add(n.ident)
        elif t is s.Bind:
            binds.append((n.name, n.name_span, n.item))
        elif t is s.Unpack:
            binds.extend((name, span, n) for name, span in zip(n.names, n.name_spans,
                                                                strict=True))
        elif t is s.ReturnStmt:
            used.update(n.names)
    for name, span, item in binds:
        if name in _HIDES:
            what = _HIDES[name]
            diags.add(_warning("W0003", f"the value `{name}` hides {what}", span,
                               label=f"from here on, `{name}` is this value",
                               help=f"name it otherwise (`h = ...`): `{name}` is {what}"))
            continue
        call = _layer_call(item, module)
        if call is not None and (name not in used or _named_like(name, call)):
            shown = f"{call.ident}(...)" if isinstance(call, s.Call) else call.ident
            fix = (f"to name the layer `{name}` (its module path and state_dict keys), write "
                   f"`{name}: {shown}`" if name not in used else
                   f"to name the layer as well, label it: `{name} = {name}: {shown}`; or give "
                   "the value another name")
            diags.add(_warning("W0002", f"`{name} = {shown}` binds a value; it does not name "
                               "the layer", span,
                               label="the layer is numbered in its scope" +
                                     ("; the value is never used" if name not in used else ""),
                               help=fix))
            continue
        if _names_a_value(item, defn):
            continue  # `w = width * 2`: elaboration says to write `let` (E0245)
        if name not in used and not name.startswith("_"):
            fix = (f"a piece that is not needed can be named `_{name}`"
                   if isinstance(item, s.Unpack) else
                   f"remove `{name} = `, or use the value (`{{ {name}; ... }}`, "
                   f"`add({name}, ...)`); a name starting with `_` is never reported")
            diags.add(_warning("W0001", f"the value `{name}` is never used", span,
                               label="bound here", help=fix))


def _names_a_value(item: s.Item, defn: s.Definition) -> bool:
    """Does `y = item` bind a constant, as `w = width * 2` (a parameter repeated) or
    `r = round(width / 3)` do? Elaboration answers those with its own error."""
    from .builtins import FUNCTIONS

    inner = item.item if isinstance(item, s.Repeat) else item
    if not isinstance(inner, (s.Ref, s.Call)):
        return False
    lets = {q.name for n in _walk(defn.body) if type(n) is s.LetStmt
            for p in n.targets for q in _pattern_names(p)}
    return inner.ident in {p.name for p in defn.params} | lets or (
        isinstance(inner, s.Call) and inner.ident in FUNCTIONS
        and ops.lookup(inner.ident) is None)


def _pattern_names(p: s.Pattern):
    if isinstance(p, s.PatName):
        yield p
    else:
        for q in p.items:
            yield from _pattern_names(q)


def _warning(code: str, message: str, span, **kw) -> Diagnostic:
    return Diagnostic(code, message, span, severity="warning", **kw)


def _layer_call(item: s.Item, module: s.Module) -> s.Call | s.Ref | None:
    """The call when `item` is one unlabelled layer or block call (what a label could name)."""
    if not isinstance(item, (s.Call, s.Ref)):
        return None
    spec = ops.lookup(item.ident)
    if spec is not None:
        return item if spec.kind != "input" and not ops.takes_values(spec) else None
    defn = module.namespace.get(item.ident)
    return item if defn is not None and defn.kind == "block" else None


def _named_like(name: str, call: s.Call | s.Ref) -> bool:
    """`conv1` for a `conv`, `bottleneck2` for a `bottleneck`: the kind, then a number."""
    return re.fullmatch(re.escape(call.ident) + r"_?\d+", name) is not None


def _walk(node):
    """`node` and every syntax node under it (order does not matter here)."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        names = _FIELDS.get(type(n))
        if names is None:
            names = _FIELDS[type(n)] = tuple(f.name for f in dataclasses.fields(n)
                                             if f.name not in ("module", "namespace", "span"))
        for name in names:
            v = getattr(n, name)
            if isinstance(v, _NODES):
                todo.append(v)
            elif type(v) is list:
                todo.extend(x for x in v if isinstance(x, _NODES))
