"""Go to definition and find references: blocks and networks across files (through imports,
as the loader resolves them), imports to their files, values and parameters inside the block
or network that binds them."""

from __future__ import annotations

import os

from lsprotocol import types as lsp

from .. import syntax as s
from ..diagnostics import Diagnostics
from ..loader import Loader, LoadOptions
from ..locate import block_mentions, value_mentions, walk
from ..source import Span
from .analysis import Analysis, real_path
from .files import workspace_files
from .target import Target, target_at
from .workspace import View, Workspace


def _target(ws: Workspace, uri: str, position: lsp.Position) -> tuple[View, Target] | None:
    view = ws.view(uri)
    if view is None:
        return None
    offset = view.to_analysis(ws.pos.offset(view.doc.text, position))
    if offset is None:
        return None
    t = target_at(view.analysis.module, offset)
    return (view, t) if t is not None else None


def location(ws: Workspace, view: View, span: Span) -> lsp.Location | None:
    """A span of some check as a location in the current texts (None if edited away)."""
    a = view.analysis
    if a.owns(span):
        mapped = view.doc_span(span)
        if mapped is None:
            return None
        return lsp.Location(uri=view.doc.uri, range=ws.pos.range(view.doc.text, *mapped))
    return lsp.Location(uri=ws.uri_for(span.source.path), range=ws.pos.span_range(span))


def resolve_import(ws: Workspace, a: Analysis, imp: s.Import) -> str | None:
    """The real path an import names, as the loader looks for it (relative to the file, then
    along the search path)."""
    base = os.path.dirname(a.path) if a.path else os.getcwd()
    for d in (base, *ws.settings.search_path):
        cand = os.path.join(d, imp.path)
        if imp.path.endswith(".arch") and os.path.isfile(cand):
            return os.path.realpath(cand)
    return None


# ---------------------------------------------------------------------------- definition
def definition(ws: Workspace, uri: str, position: lsp.Position) -> list[lsp.Location] | None:
    found = _target(ws, uri, position)
    if found is None:
        return None
    view, t = found
    a = view.analysis
    module = a.module
    if t.kind == "import":
        path = resolve_import(ws, a, t.node)
        if path is None:
            return None
        start = lsp.Position(line=0, character=0)
        return [lsp.Location(uri=ws.uri_of_path(path), range=lsp.Range(start=start, end=start))]
    if t.kind in ("block", "definition"):
        defn = t.node if t.kind == "definition" else module.namespace.get(t.name)
        if defn is None:
            return None
        loc = location(ws, view, defn.name_span)
        return [loc] if loc else None
    if t.kind == "value" and t.defn is not None:
        span = _value_definition(t.defn, t.name, t.node.span.start)
        loc = location(ws, view, span) if span is not None else None
        return [loc] if loc else None
    if t.kind == "arg" and isinstance(t.call, s.Call) and t.node.name is not None:
        defn = module.namespace.get(t.call.ident)
        if defn is not None:
            for p in defn.params:
                if p.name == t.node.name:
                    loc = location(ws, view, _param_name(p))
                    return [loc] if loc else None
    return None


def _param_name(p: s.Param) -> Span:
    return Span(p.span.source, p.span.start, p.span.start + len(p.name))


def _value_definition(defn: s.Definition, name: str, at: int) -> Span | None:
    """Where `name`, used at offset `at`, is bound: the closest `name = ...` before it, else
    the parameter, else the first binding (a use before any binding is an error anyway)."""
    binds = [n.name_span for n in walk(defn.body) if isinstance(n, s.Bind) and n.name == name]
    before = [sp for sp in binds if sp.start <= at]
    if before:
        return max(before, key=lambda sp: sp.start)
    for p in defn.params:
        if p.name == name:
            return _param_name(p)
    return binds[0] if binds else None


# ---------------------------------------------------------------------------- references
def references(ws: Workspace, uri: str, position: lsp.Position,
               include_declaration: bool = True) -> list[lsp.Location] | None:
    found = _target(ws, uri, position)
    if found is None:
        return None
    view, t = found
    module = view.analysis.module
    if t.kind in ("block", "definition"):
        defn = t.node if t.kind == "definition" else module.namespace.get(t.name)
        if defn is None:
            return None
        return _definition_references(ws, view, defn, include_declaration)
    if t.kind in ("value", "param") and t.defn is not None:
        spans = value_mentions(t.defn, t.name)
        if not include_declaration:
            spans = [sp for sp in spans if not _is_binding(t.defn, sp)]
        return [loc for sp in spans if (loc := location(ws, view, sp)) is not None]
    return None


def _is_binding(defn: s.Definition, span: Span) -> bool:
    if any(p.span.start == span.start for p in defn.params):
        return True
    return any(isinstance(n, s.Bind) and n.name_span.start == span.start
               for n in walk(defn.body))


def _identity(defn: s.Definition) -> tuple[str, int, str]:
    return (real_path(defn.name_span.source.path), defn.name_span.start, defn.name)


def _definition_references(ws: Workspace, view: View, defn: s.Definition,
                           include_declaration: bool) -> list[lsp.Location]:
    """Every call of the block (or mention of the network) in the open documents and in the
    `.arch` files of the workspace folders, wherever the name resolves to this definition."""
    a = view.analysis
    own = a.path if a.owns(defn.name_span) else None
    target = (own or real_path(defn.name_span.source.path), defn.name_span.start, defn.name)
    out: list[lsp.Location] = []
    seen: set[tuple[str, int, int]] = set()

    def add(loc: lsp.Location | None) -> None:
        if loc is None:
            return
        key = (loc.uri, loc.range.start.line, loc.range.start.character)
        if key not in seen:
            seen.add(key)
            out.append(loc)

    if include_declaration:
        add(location(ws, view, defn.name_span))
    for mod, v, path in _modules(ws, view):
        d = mod.namespace.get(defn.name)
        if d is None:
            continue
        ident = _identity(d)
        if v is not None and v.analysis.owns(d.name_span):
            ident = (v.analysis.path or "", d.name_span.start, d.name)
        if ident != target:
            continue
        for n in block_mentions(mod, defn.name):
            sp = n.ident_span if isinstance(n, s.Call) else n.span
            if v is not None:
                add(location(ws, v, sp))
            else:
                add(lsp.Location(uri=ws.uri_of_path(path), range=ws.pos.span_range(sp)))
    return out


def _modules(ws: Workspace, view: View):
    """(module, its view or None, its real path) for the open documents and the workspace's
    files, each file once; imports resolved with the open buffers."""
    done: set[str] = set()
    for uri in list(ws.docs):
        v = view if uri == view.doc.uri else ws.view(uri)
        if v is None or v.analysis.module is None:
            continue
        if v.analysis.path:
            done.add(v.analysis.path)
        yield v.analysis.module, v, v.analysis.path
    for path in workspace_files(ws.roots):
        if path in done:
            continue
        done.add(path)
        loader = Loader(Diagnostics(), LoadOptions(search_path=ws.settings.search_path,
                                                   read=lambda p: ws.file_text(p) or ""))
        try:
            mod = loader.load_file(path, path)
        except (OSError, RecursionError, ValueError):
            continue
        if mod is not None:
            yield mod, None, path
