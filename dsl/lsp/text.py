"""Document text as the protocol sees it: lines ended by `\\n`, `\\r\\n` or `\\r` (and nothing
else: a form feed or U+2028 is an ordinary character), positions counted in the code units the
client and server agreed on (UTF-16 unless the client offers UTF-8 or UTF-32), incremental
changes, and a map of offsets through the edits made since an older version.

The compiler counts offsets in code points (Python string indices); everything here converts
between those and protocol positions, clamping what lies outside the text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_EOL = re.compile(r"\r\n|\r|\n")


def _units(segment: str, encoding: str) -> int:
    if encoding == "utf-32" or segment.isascii():
        return len(segment)
    if encoding == "utf-8":
        return len(segment.encode("utf-8", "surrogatepass"))
    return len(segment) + sum(1 for ch in segment if ord(ch) > 0xFFFF)


class Lines:
    """The line index of one text."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0, *(m.end() for m in _EOL.finditer(text))]
        # where each line's content ends (before its terminator)
        self.ends = [m.start() for m in _EOL.finditer(text)] + [len(text)]

    def __len__(self) -> int:
        return len(self.starts)

    def line_of(self, offset: int) -> int:
        offset = max(0, min(offset, len(self.text)))
        return bisect.bisect_right(self.starts, offset) - 1

    def position(self, offset: int, encoding: str = "utf-16") -> tuple[int, int]:
        """(line, character) of a code-point offset, both 0-based."""
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        start = self.starts[line]
        offset = min(offset, self.ends[line])
        return line, _units(self.text[start:offset], encoding)

    def offset(self, line: int, character: int, encoding: str = "utf-16") -> int:
        """The code-point offset of a position; past a line's end is its end, past the last
        line is the end of the text."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start, end = self.starts[line], self.ends[line]
        if character <= 0:
            return start
        segment = self.text[start:end]
        if encoding == "utf-32" or segment.isascii():
            return start + min(character, len(segment))
        count = 0
        for i, ch in enumerate(segment):
            if count >= character:
                return start + i
            count += _units(ch, encoding)
        return end

    def line_text(self, line: int) -> str:
        if not 0 <= line < len(self.starts):
            return ""
        return self.text[self.starts[line]:self.ends[line]]


@dataclass(frozen=True)
class Edit:
    """Text [start, end) of the old version replaced by `length` characters."""

    start: int
    end: int
    length: int


class OffsetMap:
    """Carries offsets between an old version of a text and the current one through the edits
    made in between. An offset names the character there (`forward`, `backward`), or, with
    `end=True`, the gap before it (the exclusive end of a span). A character that was replaced
    has no counterpart (None)."""

    def __init__(self) -> None:
        self.edits: list[Edit] = []

    def add(self, edit: Edit) -> None:
        self.edits.append(edit)

    def forward(self, offset: int, end: bool = False) -> int | None:
        """Old offset -> current offset."""
        for e in self.edits:
            if offset < e.start or (end and offset == e.start):
                continue
            if offset >= e.end:
                offset += e.length - (e.end - e.start)
            else:
                return None
        return offset

    def backward(self, offset: int) -> int | None:
        """Current offset (a character) -> old offset."""
        for e in reversed(self.edits):
            if offset < e.start:
                continue
            if offset >= e.start + e.length:
                offset -= e.length - (e.end - e.start)
            else:
                return None
        return offset


class Document:
    """One open document: its text, version, and the protocol's view of its lines."""

    def __init__(self, uri: str, text: str, version: int | None = None,
                 language: str = "arch"):
        self.uri = uri
        self.text = text
        self.version = version
        self.language = language
        self._lines: Lines | None = None

    @property
    def lines(self) -> Lines:
        if self._lines is None or self._lines.text is not self.text:
            self._lines = Lines(self.text)
        return self._lines

    def apply(self, start: tuple[int, int] | None, end: tuple[int, int] | None, new: str,
              encoding: str) -> Edit:
        """Apply one content change (a range and its new text, or no range: the whole text)."""
        if start is None or end is None:
            edit = Edit(0, len(self.text), len(new))
            self.text = new
            return edit
        a = self.lines.offset(*start, encoding)
        b = self.lines.offset(*end, encoding)
        if b < a:
            a, b = b, a
        self.text = self.text[:a] + new + self.text[b:]
        return Edit(a, b, len(new))
