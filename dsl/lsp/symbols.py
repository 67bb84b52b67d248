"""The outline of a document (networks, blocks, their parameters, labelled layers and scopes,
bound values, nested as in the file) and the workspace's symbols (every network and block of
the open documents and of the `.arch` files under the workspace folders)."""

from __future__ import annotations

import os

from lsprotocol import types as lsp

from .. import ops
from .. import syntax as s
from ..diagnostics import Diagnostics
from ..loader import read_text
from ..parser import parse_module
from ..source import SourceFile
from ..values import fmt_shape
from .files import workspace_files
from .hover import definition_signature
from .nodes import call_instances, item_instances
from .workspace import View, Workspace

_K = lsp.SymbolKind


def document_symbols(ws: Workspace, uri: str) -> list[lsp.DocumentSymbol]:
    view = ws.view(uri)
    if view is None or view.analysis.module is None:
        return []
    module = view.analysis.module
    out = []
    for imp in module.imports:
        sym = _symbol(ws, view, f'import "{imp.path}"', _K.File, imp.span, imp.span, None, [])
        if sym:
            out.append(sym)
    for d in module.definitions:
        kids = []
        for p in d.params:
            sym = _symbol(ws, view, p.name, _K.TypeParameter, p.span, p.span,
                          p.span.text().strip() if p.default is not None else None, [])
            if sym:
                kids.append(sym)
        kids += _items(ws, view, d.body.items)
        sym = _symbol(ws, view, d.name, _K.Class if d.kind == "network" else _K.Function,
                      d.span, d.name_span, definition_signature(d), kids)
        if sym:
            out.append(sym)
    out.sort(key=lambda sym: (sym.range.start.line, sym.range.start.character))
    return out


def _items(ws: Workspace, view: View, items: list) -> list[lsp.DocumentSymbol]:
    out = []
    for it in items:
        out += _item(ws, view, it)
    return out


def _item(ws: Workspace, view: View, it) -> list[lsp.DocumentSymbol]:
    """Symbols for one item: a label or a binding is one (with what is inside as children);
    an unnamed group, list, merge, repetition or condition passes its contents up."""
    if isinstance(it, s.Labeled):
        inner = it.item
        kind, detail = _describe(ws, view, inner)
        sym = _symbol(ws, view, it.label, kind, it.span, it.label_span, detail,
                      _items(ws, view, _inside(inner)))
        return [sym] if sym else []
    if isinstance(it, s.Bind):
        kind, detail = _describe(ws, view, it.item)
        sym = _symbol(ws, view, it.name, _K.Variable, it.span, it.name_span, detail,
                      _items(ws, view, _inside(it.item)))
        return [sym] if sym else []
    return _items(ws, view, _inside(it))


def _inside(it) -> list:
    if isinstance(it, (s.Group, s.ItemList)):
        return it.items
    if isinstance(it, s.Merge):
        return it.branches
    if isinstance(it, s.Repeat):
        return [it.item]
    if isinstance(it, s.If):
        return [it.then] + ([it.other] if it.other is not None else [])
    if isinstance(it, (s.Labeled, s.Bind)):
        return [it]
    return []


def _describe(ws: Workspace, view: View, inner) -> tuple[lsp.SymbolKind, str | None]:
    """The symbol kind of a labelled item, and its detail: the layer with its output shape."""
    if isinstance(inner, (s.Call, s.Ref)):
        spec = ops.lookup(inner.ident)
        if spec is not None:
            insts = item_instances(ws, view, inner)
            if insts and insts[0].known:
                return _K.Field, _with_shapes(spec.label(insts[0].data["args"]), insts)
            return _K.Field, inner.ident
        return _K.Module, _with_shapes(inner.ident, call_instances(ws, view, inner))
    if isinstance(inner, (s.Merge, s.MergeCall)):
        return _K.Operator, inner.kind
    if isinstance(inner, s.Repeat):
        return _K.Array, "repeated"
    if isinstance(inner, s.If):
        return _K.Namespace, "if"
    return _K.Namespace, None


def _with_shapes(head: str, insts) -> str:
    """`conv 64 7x7 /2 p3 → 64x112x112`: what an item is, and the shapes it gives."""
    shapes: list[str] = []
    for i in insts:
        sh = fmt_shape(i.out_shape)
        if sh not in shapes:
            shapes.append(sh)
    if not shapes:
        return head
    return f"{head} → {' | '.join(shapes[:3])}" + (" | ..." if len(shapes) > 3 else "")


def _symbol(ws: Workspace, view: View, name: str, kind, span, selection, detail, children
            ) -> lsp.DocumentSymbol | None:
    whole = view.doc_span(span)
    sel = view.doc_span(selection)
    if whole is None or sel is None:
        return None  # edited since the check that answers (the document does not parse now)
    if not (whole[0] <= sel[0] and sel[1] <= whole[1]):
        sel = whole
    text = view.doc.text
    return lsp.DocumentSymbol(name=name or "?", kind=kind, range=ws.pos.range(text, *whole),
                              selection_range=ws.pos.range(text, *sel), detail=detail,
                              children=children or None)


# ---------------------------------------------------------------------------- workspace
_PARSED: dict[str, tuple[tuple[float, int], list[tuple[str, str, int, int]]]] = {}


def workspace_symbols(ws: Workspace, query: str) -> list[lsp.WorkspaceSymbol]:
    """Networks and blocks whose name contains the query's letters in order (any case)."""
    out = []
    seen = set()
    for uri in list(ws.docs):
        view = ws.view(uri)
        if view is None or view.analysis.module is None:
            continue
        if view.analysis.path:
            seen.add(view.analysis.path)
        for d in view.analysis.module.definitions:
            if _matches(query, d.name):
                mapped = view.doc_span(d.name_span)
                if mapped is not None:
                    out.append(_wsym(d.name, d.kind, uri,
                                     ws.pos.range(view.doc.text, *mapped)))
    for path in workspace_files(ws.roots):
        if path in seen:
            continue
        for name, kind, start, end, text in _definitions_of(path):
            if _matches(query, name):
                out.append(_wsym(name, kind, ws.uri_of_path(path), ws.pos.range(text, start, end)))
    return out


def _wsym(name, kind, uri, rng) -> lsp.WorkspaceSymbol:
    return lsp.WorkspaceSymbol(name=name, kind=_K.Class if kind == "network" else _K.Function,
                               location=lsp.Location(uri=uri, range=rng),
                               container_name=os.path.basename(uri))


def _definitions_of(path: str):
    """(name, kind, start, end, text) of each definition of a file on disk, cached by its
    modification time and size."""
    try:
        st = os.stat(path)
    except OSError:
        return []
    stamp = (st.st_mtime, st.st_size)
    hit = _PARSED.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    try:
        text = read_text(path)
    except OSError:
        return []
    module = parse_module(SourceFile(path, text), Diagnostics())
    found = [(d.name, d.kind, d.name_span.start, d.name_span.end, text)
             for d in module.definitions] if module is not None else []
    _PARSED[path] = (stamp, found)
    return found


def _matches(query: str, name: str) -> bool:
    q = query.lower()
    n = name.lower()
    i = 0
    for ch in n:
        if i < len(q) and ch == q[i]:
            i += 1
    return i == len(q)
