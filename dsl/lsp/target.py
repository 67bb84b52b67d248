"""What the cursor is on: one syntax node read as a layer, a block call, an argument, a value,
a definition... Hover, go-to-definition and references all start here."""

from __future__ import annotations

from dataclasses import dataclass

from .. import ops
from .. import syntax as s
from ..locate import path_at

VALUE_CONSTANTS = ("same", "valid", "fan_in", "fan_out", "true", "false")


@dataclass
class Target:
    kind: str  # layer, block, merge, arg, value, attr, param, definition, import, input, init
    node: object  # the syntax node (for a layer or block: its Call or Ref)
    defn: s.Definition | None  # the enclosing definition
    call: s.Call | s.MergeCall | s.InputStmt | s.InitStmt | None = None  # around an `arg`
    arg_index: int | None = None  # the argument's position in `call.args`
    name: str = ""  # the word itself


def _inside(span, offset: int) -> bool:
    return span is not None and span.start <= offset <= span.end


def item_key(node) -> tuple[int, int]:
    """The span an IR node made by this item carries (a merge block: its keyword)."""
    sp = node.kind_span if isinstance(node, s.Merge) else node.span
    return sp.start, sp.end


def classify_ident(module: s.Module, defn: s.Definition | None, node) -> str:
    """What `conv`, `bottleneck` or `x` names as an item: layer, block, merge or value."""
    ident = node.ident
    if defn is not None and (any(p.name == ident for p in defn.params) or _binds(defn, ident)):
        return "value"
    spec = ops.lookup(ident)
    if spec is not None:
        return "merge" if spec.family == "merge" else "layer"
    if module.namespace.get(ident) is not None:
        return "block"
    return "unknown"


def _binds(defn: s.Definition, name: str) -> bool:
    from ..locate import walk

    return any(isinstance(n, s.Bind) and n.name == name for n in walk(defn.body))


def target_at(module: s.Module | None, offset: int) -> Target | None:
    if module is None:
        return None
    path = path_at(module, offset)
    if not path:
        return None
    defn = path[0] if isinstance(path[0], s.Definition) else None
    for depth in range(len(path) - 1, -1, -1):
        n = path[depth]
        found = _read(module, defn, path, depth, n, offset)
        if found is not None:
            return found
    return None


def _read(module, defn, path, depth, n, offset) -> Target | None:
    parent = path[depth - 1] if depth > 0 else None
    if isinstance(n, s.Import):
        return Target("import", n, None, name=n.path)
    if isinstance(n, s.Definition):
        if _inside(n.name_span, offset):
            return Target("definition", n, n, name=n.name)
        return None
    if isinstance(n, s.Param):
        if offset <= n.span.start + len(n.name):
            return Target("param", n, defn, name=n.name)
        return None
    if isinstance(n, s.Attr):
        if _inside(n.attr_span, offset):
            return Target("attr", n, defn, name=n.attr)
        return None
    if isinstance(n, s.Name):
        if n.ident in VALUE_CONSTANTS:
            return None  # read as part of the argument around it
        return Target("value", n, defn, name=n.ident)
    if isinstance(n, s.FuncCall) and _inside(n.func_span, offset):
        return Target("function", n, defn, name=n.func)
    if isinstance(n, s.Arg):
        call = parent if isinstance(parent, (s.Call, s.MergeCall, s.InputStmt,
                                             s.InitStmt)) else None
        if call is None:
            return None
        index = next(i for i, a in enumerate(call.args) if a is n)
        return Target("arg", n, defn, call=call, arg_index=index, name=n.name or "")
    if isinstance(n, s.Labeled):
        if _inside(n.label_span, offset):
            inner = n.item
            if isinstance(inner, (s.Call, s.Ref, s.Merge, s.MergeCall)):
                return _item_target(module, defn, inner, n.label)
            return Target("scope", n, defn, name=n.label)
        return None
    if isinstance(n, s.Bind):
        if _inside(n.name_span, offset):
            return Target("value", n, defn, name=n.name)
        return None
    if isinstance(n, (s.Call, s.Ref)):  # its name, or its brackets and commas
        return _item_target(module, defn, n)
    if isinstance(n, (s.Merge, s.MergeCall)):
        return Target("merge", n, defn, name=n.kind)
    if isinstance(n, s.InputStmt):
        return Target("input", n, defn, name="input")
    if isinstance(n, s.InitStmt):
        return Target("init", n, defn, name=n.func)
    return None


def _item_target(module, defn, node, label: str = "") -> Target:
    if isinstance(node, (s.Merge, s.MergeCall)):
        return Target("merge", node, defn, name=label or node.kind)
    kind = classify_ident(module, defn, node)
    return Target(kind, node, defn, name=node.ident)
