"""The server's state without the protocol plumbing: open documents, their checks, the last
check of each document that parsed, and the diagnostics to publish for every file.

A check is redone only when something it read changed: the document's own text, or the text of
an open buffer it imports (an open buffer takes precedence over the file on disk, through the
loader's `read` hook). Features ask for a `View`: the check that answers for a document and the
maps between its offsets and the document's current text (the identity, unless the document
does not parse now and the last check that parsed is used, carried through the edits since).
Everything here is plain Python and testable in-process; `server.py` wires it to pygls.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from lsprotocol import types as lsp

from ..diagnostics import Diagnostic
from ..loader import read_text
from ..source import SourceFile, Span
from .analysis import Analysis, Settings, analyse, display_path, real_path
from .convert import Converter, Positions, path_to_uri, uri_to_path
from .text import Document, OffsetMap


@dataclass
class View:
    """The check that answers features for a document, and offsets between the two texts."""

    doc: Document
    analysis: Analysis
    omap: OffsetMap | None = None  # None: the check read the document's current text

    @property
    def current(self) -> bool:
        return self.omap is None

    def to_analysis(self, offset: int) -> int | None:
        return offset if self.omap is None else self.omap.backward(offset)

    def to_doc(self, offset: int) -> int | None:
        return offset if self.omap is None else self.omap.forward(offset)

    def doc_span(self, span: Span) -> tuple[int, int] | None:
        """A span of the analysis's text of this document, as offsets of the current text."""
        if self.omap is None:
            return span.start, span.end
        a, b = self.omap.forward(span.start), self.omap.forward(span.end, end=True)
        if a is None or b is None or b < a:
            return None
        return a, b


class Workspace:
    def __init__(self, settings: Settings | None = None, encoding: str = "utf-16",
                 log: Callable[[str], None] | None = None, roots: tuple[str, ...] = ()):
        self.settings = settings or Settings()
        self.pos = Positions(encoding)
        self.log = log
        self.roots = roots  # workspace folders, for workspace symbols and references
        self.docs: dict[str, Document] = {}
        self._paths: dict[str, str] = {}  # real path -> uri of an open document
        self._untitled: dict[str, str] = {}  # display name -> uri of a non-file document
        self._analyses: dict[str, Analysis] = {}
        self._good: dict[str, tuple[Analysis, OffsetMap]] = {}
        self._dropped: list[Analysis] = []  # replaced checks, released by `release()`
        self.checks = 0  # checks run so far; `generation` numbers them
        self._generation: dict[str, int] = {}

    @property
    def encoding(self) -> str:
        return self.pos.encoding

    # ------------------------------------------------------------------ documents
    def open(self, uri: str, text: str, version: int | None = None) -> None:
        self.docs[uri] = Document(uri, text, version)
        path = uri_to_path(uri)
        if path is not None:
            self._paths[path] = uri
        self._analyses.pop(uri, None)
        self._good.pop(uri, None)

    def change(self, uri: str, changes: list[tuple[tuple[int, int] | None,
                                                   tuple[int, int] | None, str]],
               version: int | None = None) -> None:
        """Apply content changes: (start, end, text) with (line, character) positions in the
        negotiated encoding, or (None, None, text) for the whole text."""
        doc = self.docs.get(uri)
        if doc is None:
            return
        good = self._good.get(uri)
        for start, end, new in changes:
            edit = doc.apply(start, end, new, self.encoding)
            if good is not None:
                good[1].add(edit)
        doc.version = version

    def close(self, uri: str) -> None:
        self.docs.pop(uri, None)
        for a in (self._analyses.pop(uri, None), (self._good.pop(uri, None) or (None,))[0]):
            if a is not None:
                self._dropped.append(a)
        for path, u in list(self._paths.items()):
            if u == uri:
                del self._paths[path]

    def uri_of_path(self, path: str) -> str:
        return self._paths.get(path) or path_to_uri(path)

    def uri_for(self, display: str) -> str:
        """The URI of a file as messages name it (a span's `source.path`)."""
        if display in self._untitled:
            return self._untitled[display]
        return self.uri_of_path(real_path(display))

    def buffer(self, path: str) -> str | None:
        """The text of an open document, by real path (None: not open)."""
        uri = self._paths.get(path)
        doc = self.docs.get(uri) if uri else None
        return doc.text if doc is not None else None

    def file_text(self, path: str) -> str | None:
        """An open buffer's text, else the file's on disk, else None."""
        found = self.buffer(path)
        if found is not None:
            return found
        try:
            return read_text(path)
        except OSError:
            return None

    # ------------------------------------------------------------------ checks
    def analysis(self, uri: str) -> Analysis | None:
        """The check of the document's current text (redone when anything it read changed)."""
        doc = self.docs.get(uri)
        if doc is None:
            return None
        have = self._analyses.get(uri)
        if have is not None and self._fresh(have, doc):
            return have
        path = uri_to_path(uri)
        made = analyse(uri, path, doc.text, doc.version, self.settings, self.buffer, self.log)
        if path is None:
            self._untitled[made.display] = uri
        if have is not None:
            self._dropped.append(have)
        self._analyses[uri] = made
        self.checks += 1
        self._generation[uri] = self.checks
        if made.parsed:
            old = self._good.get(uri)
            if old is not None:
                self._dropped.append(old[0])
            self._good[uri] = (made, OffsetMap())
        return made

    def release(self) -> int:
        """Free the checks replaced since the last call: their syntax trees are cycles
        (a definition points to its module), which only Python's cyclic collector would
        reclaim, and a collection over a large heap stalls the server for tens of
        milliseconds. Breaking the cycles lets reference counting free them at once. Called
        between requests (never while a feature may hold a view), by the server."""
        keep = {id(a) for a in self._analyses.values()} | {id(g[0]) for g in self._good.values()}
        dropped, self._dropped = self._dropped, []
        freed = 0
        for a in dropped:
            if id(a) not in keep and a.result is not None:
                freed += 1
                _break_cycles(a)
        return freed

    def generation(self, uri: str) -> int:
        """Which check the document's last one was (0: none yet); grows with every check."""
        return self._generation.get(uri, 0)

    def _fresh(self, a: Analysis, doc: Document) -> bool:
        if a.text is not doc.text and a.text != doc.text:
            return False
        for path, text in a.files.items():
            if path == a.path:
                continue
            now = self.buffer(path)
            if now is None:
                continue  # a file on disk: re-read when the client says it changed
            if now is not text and now != text:
                return False
        return True

    def invalidate(self, path: str | None = None) -> None:
        """Forget checks that read `path` (every check when None): a file changed on disk, or
        a buffer that shadowed it was closed."""
        for uri, a in list(self._analyses.items()):
            if path is None or path in a.files:
                self._dropped.append(self._analyses.pop(uri))

    def view(self, uri: str) -> View | None:
        a = self.analysis(uri)
        if a is None:
            return None
        doc = self.docs[uri]
        if not a.parsed:
            good = self._good.get(uri)
            if good is not None and good[0].path == a.path:
                return View(doc, good[0], good[1])
        return View(doc, a)

    def importers(self, path: str) -> list[Analysis]:
        """Checks of other open documents that read `path` as it is now (so their IR nodes in
        that file sit at the offsets of its current text)."""
        text = self.buffer(path)
        out = []
        for uri in list(self.docs):
            other_path = uri_to_path(uri)
            if other_path == path:
                continue
            a = self.analysis(uri)
            if a is not None and path in a.files and (text is None or a.files[path] == text):
                out.append(a)
        return out

    def dependents(self, uri: str) -> list[str]:
        """Open documents whose last check read this document (they need checking again)."""
        path = uri_to_path(uri)
        if path is None:
            return []
        return [u for u, a in self._analyses.items() if u != uri and path in a.files]

    # ------------------------------------------------------------------ diagnostics
    def diagnostics(self) -> dict[str, list[lsp.Diagnostic]]:
        """What to publish for every file touched by an open document's check: its own
        diagnostics, and those an importer's check found in it. A diagnostic in an imported
        file is shown there and, in the importing document, at the call (or import) that led
        to it."""
        out: dict[str, list[lsp.Diagnostic]] = {uri: [] for uri in self.docs}
        for uri in list(self.docs):
            a = self.analysis(uri)
            if a is None:
                continue
            conv = self.converter(a)
            for d in a.diagnostics:
                if d.span is None or a.owns(d.span):
                    out[uri].append(conv.diagnostic(d))
                    continue
                out.setdefault(self.uri_for(d.span.source.path), []).append(conv.diagnostic(d))
                site = self.call_site(a, d)
                out[uri].append(conv.diagnostic(
                    d, at=site, prefix=f"in {d.span.source.path}:{d.span.line}: "))
        return {uri: _unique(items) for uri, items in out.items()}

    def converter(self, a: Analysis) -> Converter:
        def text_of(display: str) -> str | None:
            if display == a.display:
                return a.text
            real = real_path(display)
            return a.files.get(real) or self.file_text(real)

        return Converter(self.pos, self.uri_for, text_of)

    def call_site(self, a: Analysis, d: Diagnostic) -> Span:
        """Where in document `a` the diagnostic `d` (in a file it imports) comes from: the
        outermost block call in the document around the failing layer, else the import."""
        span = d.span
        if a.ir is not None and span is not None:
            for _nid, data in a.ir.nodes():
                sp = data["span"]
                if sp.start == span.start and sp.end == span.end and \
                        sp.source.path == span.source.path:
                    for sc in data["scopes"]:
                        if a.owns(sc.span):
                            return sc.span
        module = a.result.module or a.module
        if module is not None and module.imports:
            target = real_path(span.source.path) if span is not None else None
            for imp in module.imports:
                base = os.path.dirname(a.path) if a.path else os.getcwd()
                if target and os.path.realpath(os.path.join(base, imp.path)) == target:
                    return imp.span
            return module.imports[0].span
        return Span(_source_of(a), 0, 0)


def _break_cycles(a: Analysis) -> None:
    """Unlink the modules of a check that is no longer used (see `Workspace.release`)."""
    modules = {}
    for m in (a.result.module, a.module):
        if m is not None:
            modules[id(m)] = m
            for d in m.namespace.values():
                if d.module is not None:
                    modules[id(d.module)] = d.module
    for m in modules.values():
        for d in m.definitions:
            d.module = None
        m.namespace.clear()
    a.result = None
    a.module = a.ir = None
    a._by_span = a._by_file = a._calls = None


def _source_of(a: Analysis) -> SourceFile:
    return SourceFile(a.display, a.text)


def _unique(items: list[lsp.Diagnostic]) -> list[lsp.Diagnostic]:
    seen, out = set(), []
    for d in items:
        key = (d.range.start.line, d.range.start.character, d.range.end.line,
               d.range.end.character, d.code, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


__all__ = ["View", "Workspace", "display_path"]
