"""Source files and spans: every syntax node and IR node points back into the text it came from."""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field
from itertools import accumulate, islice

from .escape import visible

_CHUNK = 1 << 20


@dataclass(frozen=True)
class SourceFile:
    """The text of one `.arch` file (or a string given to the API), with a line index.

    The index (where each line starts) is made the first time a line or column is asked for,
    which only diagnostics do, and is a compact array: 8 bytes a line, where a tuple of ints
    took about 36 (100 MB of newlines cost 4.9 GB)."""

    path: str
    text: str
    _line_starts: array | None = field(default=None, repr=False, compare=False)

    @property
    def _starts(self) -> array:
        starts = self._line_starts
        if starts is None:
            # each line's start is the previous one's plus its length and the newline; the
            # text is split a megabyte at a time, so no list of every line is ever held
            starts, text = array("q", [0]), self.text
            for base in range(0, len(text), _CHUNK):
                parts = text[base : base + _CHUNK].split("\n")
                steps = accumulate((len(p) + 1 for p in parts[:-1]), initial=base)
                starts.extend(islice(steps, 1, None))
            object.__setattr__(self, "_line_starts", starts)
        return starts

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        starts = self._starts
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(starts, offset) - 1
        return line + 1, offset - starts[line] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        starts = self._starts
        if line < 1 or line > len(starts):
            return ""
        start = starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    @property
    def line_count(self) -> int:
        return len(self._starts)


@dataclass(frozen=True)
class Span:
    """A half-open character range [start, end) in a source file."""

    source: SourceFile
    start: int
    end: int

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def line(self) -> int:
        return self.source.line_col(self.start)[0]

    @property
    def col(self) -> int:
        return self.source.line_col(self.start)[1]

    def location(self) -> str:
        """`path:line:col`, the prefix of every diagnostic. A path that holds a line break or
        another invisible character is shown escaped (`\\x0a`): a location is one line."""
        line, col = self.source.line_col(self.start)
        return f"{visible(self.source.path)}:{line}:{col}"

    def short(self) -> str:
        """`file.arch:line`, for notes that point elsewhere (escaped as `location` is)."""
        return f"{visible(self.source.path)}:{self.line}"

    def text(self) -> str:
        return self.source.text[self.start : self.end]

    def to(self, other: Span) -> Span:
        """The span that covers both self and other (same file)."""
        return Span(self.source, min(self.start, other.start), max(self.end, other.end))

    def __repr__(self) -> str:
        return f"Span({self.location()})"

    def to_json(self) -> dict:
        line, col = self.source.line_col(self.start)
        end_line, end_col = self.source.line_col(self.end)
        return {"file": self.path, "line": line, "col": col, "end_line": end_line,
                "end_col": end_col}
