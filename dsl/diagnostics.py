"""Diagnostics are data: a code, a message, a primary span, secondary labels, notes and help.

Passes collect them and never print; `render` draws them the way a good compiler does:

    net.arch:5:12: error[E0301]: kernel 7x7 does not fit in the 5x5 input of `conv2`
      5 |     conv2: conv(16, 7x7)
        |            ^^^^^^^^^^^^^ output width would be -1
      note: W2 = floor((W1 - F + 2P)/S) + 1 = floor((5 - 7 + 2*0)/1) + 1 = -1
      help: pad the input (pad=1) or use a smaller kernel
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .source import Span


@dataclass(frozen=True)
class Label:
    """A secondary span with a short remark, drawn under its own source line."""

    span: Span
    message: str


@dataclass
class Diagnostic:
    code: str
    message: str
    span: Span | None
    label: str = ""
    labels: list[Label] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    help: str | None = None
    severity: str = "error"

    def to_json(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "span": self.span.to_json() if self.span else None,
            "label": self.label,
            "labels": [{"span": lab.span.to_json(), "message": lab.message} for lab in self.labels],
            "notes": list(self.notes),
            "help": self.help,
        }


class ArchError(Exception):
    """Raised by the API when a file has errors; carries every diagnostic of the run."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        head = f"{first.span.location()}: {first.message}" if first and first.span else (
            first.message if first else "error")
        more = len(self.diagnostics) - 1
        super().__init__(head + (f" (and {more} more)" if more > 0 else ""))

    def render(self) -> str:
        return render_all(self.diagnostics)


class Diagnostics:
    """A collector that passes append to; `error()` builds and records one diagnostic."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []
        self._seen: set[tuple] = set()

    def add(self, diag: Diagnostic) -> Diagnostic:
        key = (diag.code, diag.message, diag.span.location() if diag.span else None)
        if key not in self._seen:
            self._seen.add(key)
            self.items.append(diag)
        return diag

    def error(self, code: str, message: str, span: Span | None, **kw) -> Diagnostic:
        return self.add(Diagnostic(code, message, span, **kw))

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)

    def raise_if_errors(self) -> None:
        if self.has_errors:
            raise ArchError(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)


def _underline(span: Span, line: int, char: str) -> tuple[int, int]:
    """Column range (0-based start, width) that `span` covers on `line`."""
    src = span.source
    sline, scol = src.line_col(span.start)
    eline, ecol = src.line_col(span.end)
    text = src.line_text(line)
    start = scol - 1 if sline == line else len(text) - len(text.lstrip())
    end = ecol - 1 if eline == line else len(text.rstrip())
    return start, max(1, end - start)


WINDOW = 120  # source lines longer than this are shown cut around the caret


def visible(text: str, keep: str = "") -> str:
    """`text` safe to print on a terminal: each non-printable character (an escape sequence
    would clear the screen) shown as `\\x1b`, `\\u200b`, ...; characters in `keep` pass."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in keep else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    o = ord(ch)
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"


def _display(text: str) -> tuple[str, list[int]]:
    """A source line as shown (tabs as one space, non-printables escaped) and, for each
    character offset 0..len(text), its column in the shown line, so carets stay aligned."""
    shown, cols = [], []
    col = 0
    for ch in text:
        cols.append(col)
        part = " " if ch == "\t" else ch if ch.isprintable() else _escape(ch)
        shown.append(part)
        col += len(part)
    cols.append(col)
    return "".join(shown), cols


def _snippet(span: Span, marker: str, message: str, gutter: int) -> list[str]:
    line = span.line
    raw = span.source.line_text(line)
    text, cols = _display(raw)
    start, width = _underline(span, line, marker)

    def at(i: int) -> int:  # shown column of character offset i (past the end: spaces)
        return cols[i] if i <= len(raw) else cols[-1] + i - len(raw)

    start, end = at(start), at(start + width)
    width = max(1, end - start)
    if len(text) > WINDOW:  # a minified or binary line: show the part around the caret
        lo = max(0, min(start - WINDOW // 3, len(text) - WINDOW))
        hi = lo + WINDOW
        text = ("..." if lo else "") + text[lo:hi] + ("..." if hi < len(text) else "")
        start = start - lo + (3 if lo else 0)
        width = max(1, min(width, WINDOW + 3 - start))
    pad = " " * gutter
    under = " " * start + marker * width + (f" {visible(message)}" if message else "")
    return [f"  {line:>{gutter}} | {text}".rstrip(), f"  {pad} | {under}".rstrip()]


def render(diag: Diagnostic) -> str:
    """One diagnostic as text: location header, source line with caret, notes and help."""
    where = f"{visible(diag.span.location())}: " if diag.span else ""
    out = [f"{where}{diag.severity}[{diag.code}]: {visible(diag.message)}"]
    spans = [diag.span] + [lab.span for lab in diag.labels] if diag.span else []
    gutter = max((len(str(s.line)) for s in spans), default=1)
    if diag.span is not None:
        out += _snippet(diag.span, "^", diag.label, gutter)
    for lab in diag.labels:
        if lab.span.path != (diag.span.path if diag.span else None):
            out.append(f"  --> {lab.span.location()}")
        out += _snippet(lab.span, "-", lab.message, gutter)
    out += [f"  note: {visible(note, keep=chr(10))}" for note in diag.notes]
    if diag.help:
        out.append(f"  help: {visible(diag.help, keep=chr(10))}")
    return "\n".join(out)


def render_all(diags: list[Diagnostic]) -> str:
    errors = sum(1 for d in diags if d.severity == "error")
    body = "\n\n".join(render(d) for d in diags)
    tail = f"{errors} error{'s' if errors != 1 else ''} found" if errors else ""
    return body + ("\n\n" + tail if tail else "")
