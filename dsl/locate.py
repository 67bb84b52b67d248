"""Queries on the syntax tree for tools such as the language server: the children of a node in
source order, every node of a tree, the nodes under an offset, and where a block or a bound
value is mentioned.

These read the dataclasses of `syntax.py` generically (each field that holds a node or a list
of nodes is a child), so a new syntax node needs no change here. Walks are iterative: the
parser already bounds the depth (`parser.MAX_NESTING`), but nothing here relies on it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from . import syntax as s
from .source import Span

Node = s.Expr | s.Item | s.Arg | s.Param | s.Definition | s.Import | s.Module
_NODE_TYPES = (s.Expr, s.Item, s.Arg, s.Param, s.Definition, s.Import)
_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls)
                      if f.name not in ("module", "namespace"))
        _FIELDS[cls] = names
    return names


def children(node) -> list:
    """The syntax nodes directly under `node`, in source order."""
    out = []
    for name in _child_fields(type(node)):
        v = getattr(node, name)
        if isinstance(v, _NODE_TYPES):
            out.append(v)
        elif isinstance(v, list):
            out.extend(x for x in v if isinstance(x, _NODE_TYPES))
    out.sort(key=lambda n: n.span.start)
    return out


def walk(node) -> Iterator:
    """`node` and every node below it, parents before children, in source order."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        todo.extend(reversed(children(n)))


def path_at(module: s.Module, offset: int) -> list:
    """The nodes whose text covers `offset`, outermost first (the definition, its body, the
    item, the call, the argument...). A node covers the offsets from its first character to
    just after its last, so a cursor right after `relu` is on `relu`. Where two siblings touch
    (`a;b`, `(a)`), the one that starts at `offset` wins."""
    out: list = []
    level = module.definitions + module.imports
    while True:
        inside = [n for n in level if n.span.start <= offset <= n.span.end]
        if not inside:
            return out
        node = max(inside, key=lambda n: n.span.start)
        out.append(node)
        level = children(node)


def definition_at(module: s.Module, offset: int) -> s.Definition | None:
    for d in module.definitions:
        if d.span.start <= offset <= d.span.end:
            return d
    return None


def block_mentions(module: s.Module, name: str) -> list:
    """Every item of `module` that calls or names `name` as a layer (`Ref`, `Call`), in order.
    Whether `name` means a block there is the caller's question (`module.namespace`)."""
    out = []
    for d in module.definitions:
        for n in walk(d.body):
            if isinstance(n, (s.Ref, s.Call)) and n.ident == name:
                out.append(n)
    return out


def value_mentions(defn: s.Definition, name: str) -> list[Span]:
    """The spans where the value `name` is bound or used inside one definition: its parameter,
    each `name = ...`, and each `name` in an expression or as an item. Values are local to the
    block or network that binds them (each block instance has its own), so the definition is
    the whole scope."""
    spans = [Span(p.span.source, p.span.start, p.span.start + len(name))
             for p in defn.params if p.name == name]
    for n in walk(defn.body):
        if isinstance(n, s.Bind) and n.name == name:
            spans.append(n.name_span)
        elif isinstance(n, (s.Name, s.Ref)) and n.ident == name:
            spans.append(n.span)
    spans.sort(key=lambda sp: sp.start)
    return spans


def leading_comment(defn: s.Definition) -> str:
    """The `#` comment lines directly above a definition (no blank line between), without
    their `#`: what a block's hover shows as its documentation."""
    text = defn.span.source.text
    end = text.rfind("\n", 0, defn.span.start) + 1  # start of the definition's line
    lines: list[str] = []
    while end > 0:
        start = text.rfind("\n", 0, end - 1) + 1
        line = text[start:end - 1].strip()
        if not line.startswith("#"):
            break
        lines.append(line[1:].strip() if line[1:2] == " " or len(line) == 1 else line[1:])
        end = start
    return "\n".join(reversed(lines))
