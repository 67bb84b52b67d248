"""Compiler data in protocol terms: spans as ranges and locations, diagnostics as the
protocol's diagnostics (code, range, severity, the help in the message, the labels and notes
as related information, the code linked to its `archdsl explain` entry), paths as URIs."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp

from .._version import __version__
from ..codes import CATALOGUE, explain
from ..diagnostics import Diagnostic
from ..source import Span
from .text import Lines

SOURCE = "archdsl"
# `at net.arch:6`, `called at lib/blocks.arch:10`: where a note points
_NOTE_PLACE = re.compile(r"(?<![\w./-])([\w./-]+\.arch):(\d+)\b")


def uri_to_path(uri: str) -> str | None:
    """The file system path of a `file:` URI (None for other schemes: `untitled:`...)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return os.path.realpath(unquote(parsed.path))


def path_to_uri(path: str) -> str:
    return Path(os.path.abspath(path)).as_uri()


class Positions:
    """Converts offsets of any text the compiler read into protocol positions, keeping one line
    index per text (by identity: a check's source files hold their texts)."""

    MAX_CACHED = 64

    def __init__(self, encoding: str = "utf-16"):
        self.encoding = encoding
        self._lines: dict[int, Lines] = {}

    def lines(self, text: str) -> Lines:
        found = self._lines.get(id(text))
        if found is not None and found.text is text:
            return found
        if len(self._lines) >= self.MAX_CACHED:
            self._lines.clear()
        made = self._lines[id(text)] = Lines(text)
        return made

    def position(self, text: str, offset: int) -> lsp.Position:
        line, char = self.lines(text).position(offset, self.encoding)
        return lsp.Position(line=line, character=char)

    def range(self, text: str, start: int, end: int) -> lsp.Range:
        return lsp.Range(start=self.position(text, start), end=self.position(text, end))

    def span_range(self, span: Span) -> lsp.Range:
        return self.range(span.source.text, span.start, span.end)

    def offset(self, text: str, pos: lsp.Position) -> int:
        return self.lines(text).offset(pos.line, pos.character, self.encoding)


class Converter:
    """Diagnostics of one check as protocol diagnostics. `uri_for(path)` is the URI of a file as
    messages name it (`span.source.path`); `text_of(path)` its text, for the notes that point
    into it."""

    def __init__(self, positions: Positions, uri_for, text_of, explain_links: bool = True):
        self.pos = positions
        self.uri_for = uri_for
        self.text_of = text_of
        self.explain_links = explain_links

    def location(self, span: Span) -> lsp.Location:
        return lsp.Location(uri=self.uri_for(span.source.path), range=self.pos.span_range(span))

    def diagnostic(self, d: Diagnostic, at: Span | None = None, prefix: str = "") -> lsp.Diagnostic:
        """`d` as shown at `at` (default: its own span)."""
        where = at or d.span
        rng = self.pos.span_range(where) if where is not None else _START
        related = []
        if d.span is not None and d.label:
            related.append(lsp.DiagnosticRelatedInformation(self.location(d.span), d.label))
        for lab in d.labels:
            related.append(lsp.DiagnosticRelatedInformation(self.location(lab.span),
                                                            lab.message))
        for note in d.notes:
            place = self._note_location(note) or (self.location(d.span) if d.span else None)
            if place is not None:
                related.append(lsp.DiagnosticRelatedInformation(place, f"note: {note}"))
        if at is not None and d.span is not None and at is not d.span:
            related.insert(0, lsp.DiagnosticRelatedInformation(self.location(d.span),
                                                               "the error is here"))
        message = prefix + d.message + (f"\nhelp: {d.help}" if d.help else "")
        href = explain_uri(d.code) if self.explain_links else None
        return lsp.Diagnostic(
            range=rng, message=message, severity=_SEVERITY.get(d.severity,
                                                               lsp.DiagnosticSeverity.Error),
            code=d.code, source=SOURCE,
            code_description=lsp.CodeDescription(href=href) if href else None,
            related_information=related or None)

    def _note_location(self, note: str) -> lsp.Location | None:
        """Where a note such as "input 16x5x5 comes from `pool2` at net.arch:6" points: that
        line, from its first non-blank character."""
        found = None
        for m in _NOTE_PLACE.finditer(note):
            found = m  # the last place named is the most specific
        if found is None:
            return None
        display, line = found.group(1), int(found.group(2))
        text = self.text_of(display)
        if text is None:
            return None
        lines = self.pos.lines(text)
        if not 1 <= line <= len(lines):
            return None
        content = lines.line_text(line - 1)
        start = lines.starts[line - 1] + len(content) - len(content.lstrip())
        return lsp.Location(uri=self.uri_for(display), range=self.pos.range(text, start,
                                                          lines.ends[line - 1]))


_START = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0))
_SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning,
             "note": lsp.DiagnosticSeverity.Information}


def explain_folder() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "archdsl", __version__, "explain")


_WRITTEN: dict[str, str | None] = {}


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def explain_uri(code: str) -> str | None:
    """A `file:` URI of the code's `archdsl explain` text, written once into the user's cache
    folder (what the diagnostic's code links to); None for a code the catalogue lacks or when
    the folder cannot be written."""
    if code not in CATALOGUE:
        return None
    if code in _WRITTEN:
        return _WRITTEN[code]
    path = os.path.join(explain_folder(), f"{code}.md")
    uri: str | None = path_to_uri(path)
    try:
        text = "# " + explain(code)
        if _read(path) != text:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
    except OSError:
        uri = None
    _WRITTEN[code] = uri
    return uri
