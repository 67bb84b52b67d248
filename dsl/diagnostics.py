"""Diagnostics are data: a code, a message, a primary span, secondary labels, notes and help.

Passes collect them and never print; `render` draws them the way a good compiler does:

    net.arch:5:12: error[E0301]: kernel 7x7 does not fit in the 5x5 input of `conv2`
      5 |     conv2: conv(16, 7x7)
        |            ^^^^^^^^^^^^^ output width would be -1
      note: W2 = floor((W1 - F + 2P)/S) + 1 = floor((5 - 7 + 2*0)/1) + 1 = -1
      help: pad the input (pad=1) or use a smaller kernel
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace

from .escape import char_escape, visible
from .source import Span

# At most this many diagnostics are kept in one run (gcc's -fmax-errors): a file that makes
# 200,000 of them (200,000 duplicate definitions) gets 100 and one note counting the rest.
MAX_DIAGNOSTICS = 100
# Input quoted in a message (`name`, "string") is cut to this many characters with an ellipsis:
# a ten-million-character name must not be echoed whole. Unquoted runs are cut at CLIP_WORD.
CLIP = 60
CLIP_WORD = 200
# quoted parts are matched in pairs from the left, whatever their length (a pattern asking for
# long ones only would pair the closing quote of one part with the opening of the next, and
# clip the prose between them), and cut when long
_QUOTED = re.compile(rf'`[^`\n]*`|"[^"\n]*"|[^\s`"]{{{CLIP_WORD + 1},}}')


def clip(text: str, limit: int = CLIP) -> str:
    """`text` cut to `limit` characters, its start and end kept around an ellipsis."""
    if len(text) <= limit:
        return text
    tail = limit // 4
    return f"{text[:limit - tail - 3]}...{text[-tail:]}"


def clip_quoted(text: str) -> str:
    """Every quoted part of a message (and any very long word) cut by `clip`. Applied to every
    diagnostic as it is made, so no message, however it was written, echoes a huge token."""
    if len(text) <= CLIP:
        return text
    if len(text) <= 4096:  # a failing item repeated by `* N` repeats its messages
        return _clip_quoted_cached(text)
    return _clip_quoted(text)


def _clip_quoted(text: str) -> str:
    def cut(m: re.Match) -> str:
        part = m.group()
        if part[0] in '`"':
            return part if len(part) <= CLIP + 2 else part[0] + clip(part[1:-1]) + part[-1]
        return clip(part, CLIP_WORD)

    return _QUOTED.sub(cut, text)


# messages of at most 4,096 characters only: the cache holds no huge token (4 MB at most)
_clip_quoted_cached = functools.lru_cache(maxsize=1024)(_clip_quoted)


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

    def __post_init__(self) -> None:
        self.message = clip_quoted(self.message)
        self.label = clip_quoted(self.label)
        self.notes = [clip_quoted(n) for n in self.notes]
        # a label without a place has nothing to point at (and the renderer needs one)
        self.labels = [lab if len(lab.message) <= CLIP else replace(
            lab, message=clip_quoted(lab.message)) for lab in self.labels if lab.span is not None]
        if self.help:
            self.help = clip_quoted(self.help)

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


class Omitted(Diagnostic):
    """The last entry of a run that found more than `MAX_DIAGNOSTICS` diagnostics: how many
    more errors (and warnings) there were. It has no code and no span; `render` draws it as a
    note."""

    def __init__(self, count: int = 0):
        super().__init__("", "", None, severity="note")
        self.count = count
        self.warnings = 0
        self._update()

    def add(self, n: int = 1, warnings: int = 0) -> None:
        self.count += n
        self.warnings += warnings
        self._update()

    def _update(self) -> None:
        parts = [_counted(self.count, "error")] if self.count or not self.warnings else []
        if self.warnings:
            parts.append(_counted(self.warnings, "warning"))
        self.message = (f"{' and '.join(parts).replace(' ', ' more ', 1)} not shown "
                        f"(the first {MAX_DIAGNOSTICS} are above)")

    def to_json(self) -> dict:
        return {**super().to_json(), "omitted": self.count,
                **({"omitted_warnings": self.warnings} if self.warnings else {})}


def _counted(n: int, what: str) -> str:
    return f"{n:,} {what}{'s' if n != 1 else ''}"


def error_count(diags: list[Diagnostic]) -> int:
    """Errors in a run, those left out by the cap included."""
    return sum(d.count if isinstance(d, Omitted) else d.severity == "error" for d in diags)


def warning_count(diags: list[Diagnostic]) -> int:
    """Warnings in a run, those left out by the cap included."""
    return sum(d.warnings if isinstance(d, Omitted) else d.severity == "warning" for d in diags)


class ArchError(Exception):
    """Raised by the API when a file has errors; carries every diagnostic of the run.

    `str(exc)` (what a traceback or a notebook shows) is every diagnostic rendered as the CLI
    prints it, source line and caret included; `exc.headline` is the first one in one line;
    `exc.diagnostics` is the data (`Diagnostic`: code, message, span, notes, help; each
    `.to_json()` as `archdsl check --format json` gives it)."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        # the headline is the first error: warnings before it do not stop anything
        first = next((d for d in self.diagnostics if d.severity == "error"),
                     self.diagnostics[0] if self.diagnostics else None)
        head = f"{first.span.location()}: {first.message}" if first and first.span else (
            first.message if first else "error")
        more = error_count(self.diagnostics) - 1
        self.headline = head + (f" (and {more:,} more)" if more > 0 else "")
        super().__init__(self.headline)

    def __str__(self) -> str:
        return self.render() if self.diagnostics else self.headline

    def render(self) -> str:
        return render_all(self.diagnostics)


class Diagnostics:
    """A collector that passes append to; `error()` builds and records one diagnostic.

    The same diagnostic (code, message, place) is kept once. Past `limit` distinct errors,
    each is only counted, in an `Omitted` entry at the end of `items`: every pass's diagnostics
    are capped here, in one place. Warnings have a cap of their own, also `limit`, so that a
    file with many warnings still has its errors reported, and elaboration (which stops when
    the errors are `full`) is not stopped by them."""

    def __init__(self, limit: int = MAX_DIAGNOSTICS) -> None:
        self.items: list[Diagnostic] = []
        self._seen: set[tuple] = set()
        self.limit = limit
        self._omitted: Omitted | None = None
        self.budget = None  # the run's work budget (dsl/budget.py), charged for each one
        self.errors_kept = 0  # errors (and notes) in `items`
        self.warnings_kept = 0

    def add(self, diag: Diagnostic, force: bool = False) -> Diagnostic:
        """Record `diag` once. `force` keeps it even past the limit (before the count of the
        others): the diagnostic that says why a run stopped must be seen."""
        if self.budget is not None:
            self.budget.spend("diagnostic")
        sp = diag.span
        key = (diag.code, diag.message, (sp.path, sp.start) if sp is not None else None)
        if key not in self._seen:
            self._seen.add(key)
            warning = diag.severity == "warning"
            kept = self.warnings_kept if warning else self.errors_kept
            if kept < self.limit or force:
                # before the count of the others, once there is one
                self.items.insert(len(self.items) - (self._omitted is not None), diag)
                if warning:
                    self.warnings_kept += 1
                else:
                    self.errors_kept += 1
            elif warning:
                self.skipped(0, warnings=1)
            else:
                self.skipped(1)
        return diag

    @property
    def last_error(self) -> Diagnostic | None:
        """The last error kept (not a warning, not the count of those left out)."""
        return next((d for d in reversed(self.items)
                     if d.severity != "warning" and not isinstance(d, Omitted)), None)

    def skipped(self, n: int, warnings: int = 0) -> None:
        """Count `n` diagnostics a pass found but did not build (or that are past the limit),
        and `warnings` warnings."""
        if n <= 0 and warnings <= 0:
            return
        if self._omitted is None:
            self._omitted = Omitted()
            self.items.append(self._omitted)
        self._omitted.add(max(n, 0), warnings)

    @property
    def full(self) -> bool:
        """Whether the limit of errors is reached: a pass may stop looking for more."""
        return self.errors_kept >= self.limit

    def error(self, code: str, message: str, span: Span | None, **kw) -> Diagnostic:
        return self.add(Diagnostic(code, message, span, **kw))

    def warning(self, code: str, message: str, span: Span | None, **kw) -> Diagnostic:
        return self.add(Diagnostic(code, message, span, severity="warning", **kw))

    def sort(self) -> None:
        """Put the diagnostics in source order, as a reader meets them: file by file (in the
        order the files first appear among them), by position within a file; the ones without
        a place first, the count of those left out last. Stable: diagnostics on one line keep
        the order they were made in. Elaboration makes them in the order it expands the
        network, which visits a block's body at its call, not at its definition."""
        files: dict[str, int] = {}
        for d in self.items:
            if d.span is not None:
                files.setdefault(d.span.path, len(files))

        def key(d: Diagnostic) -> tuple[int, int, int]:
            if isinstance(d, Omitted):
                return (2, 0, 0)
            if d.span is None:
                return (0, 0, 0)
            # by line: on one line, the order they were made in (the error that stopped the
            # run after the one it stopped at)
            return (1, files[d.span.path], d.span.line)

        self.items.sort(key=key)

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)

    @property
    def has_warnings(self) -> bool:
        return any(d.severity == "warning" or (isinstance(d, Omitted) and d.warnings)
                   for d in self.items)

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


def _display(text: str) -> tuple[str, list[int]]:
    """A source line as shown (tabs as one space, non-printables escaped) and, for each
    character offset 0..len(text), its column in the shown line, so carets stay aligned."""
    shown, cols = [], []
    col = 0
    for ch in text:
        cols.append(col)
        part = " " if ch == "\t" else ch if ch.isprintable() else char_escape(ch)
        shown.append(part)
        col += len(part)
    cols.append(col)
    return "".join(shown), cols


def _snippet(span: Span, marker: str, message: str, gutter: int) -> list[str]:
    line = span.line
    raw = span.source.line_text(line)
    start, width = _underline(span, line, marker)
    # A very long line (minified, binary, one huge token) is shown only near the caret, so
    # only that part is escaped: the work per diagnostic stays bounded. The cut keeps more
    # than the window on both sides, so what is shown is the same as for the whole line.
    cut_left = cut_right = False
    if len(raw) > 4 * WINDOW:
        a, b = max(0, start - WINDOW), min(len(raw), start + 3 * WINDOW)
        cut_left, cut_right = a > 0, b < len(raw)
        raw, start = raw[a:b], start - a
    text, cols = _display(raw)

    def at(i: int) -> int:  # shown column of character offset i (past the end: spaces)
        return cols[i] if i <= len(raw) else cols[-1] + i - len(raw)

    start, end = at(start), at(start + width)
    width = max(1, end - start)
    if len(text) > WINDOW or cut_left or cut_right:  # show the part around the caret
        lo = max(0, min(start - WINDOW // 3, len(text) - WINDOW))
        hi = lo + WINDOW
        left = bool(lo) or cut_left
        text = ("..." if left else "") + text[lo:hi] + (
            "..." if hi < len(text) or cut_right else "")
        start = start - lo + (3 if left else 0)
        width = max(1, min(width, WINDOW + 3 - start))
    pad = " " * gutter
    under = " " * start + marker * width + (f" {visible(message)}" if message else "")
    return [f"  {line:>{gutter}} | {text}".rstrip(), f"  {pad} | {under}".rstrip()]


def render(diag: Diagnostic) -> str:
    """One diagnostic as text: location header, source line with caret, notes and help."""
    if isinstance(diag, Omitted):
        return f"note: {diag.message}"
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
    errors, warnings = error_count(diags), warning_count(diags)
    body = "\n\n".join(render(d) for d in diags)
    parts = ([_counted(errors, "error")] if errors else []) + (
        [_counted(warnings, "warning")] if warnings else [])
    tail = f"{' and '.join(parts)} found" if parts else ""
    return body + ("\n\n" + tail if tail else "")
