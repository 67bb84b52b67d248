"""Protocol positions and edits (dsl/lsp/text.py) against the protocol's own definitions,
written out independently in tests/lsp/conftest.py, on random texts with every kind of line
break and characters outside the Basic Multilingual Plane."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("lsprotocol", reason="needs the `lsp` extra")

from archdsl.lsp.text import Document, Edit, Lines, OffsetMap
from tests.lsp.conftest import lsp_position, offset_of

CHARS = st.sampled_from([*"ab (){}#\"x", "\n", "\r", "\r\n", "\x0c", "\u2028", "é", "🙂",
                         "\t", "中"])
TEXTS = st.lists(CHARS, max_size=40).map("".join)


def _compiler_line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column as the compiler counts them (lines end at `\\n` only)."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


@given(TEXTS, st.data())
def test_position_of_an_offset_follows_the_protocol(text, data):
    offset = data.draw(st.integers(0, len(text)))
    if text[offset - 1:offset + 1] == "\r\n":
        offset -= 1  # inside a `\r\n` pair is no position of its own
    lines = Lines(text)
    assert lines.position(offset, "utf-16") == lsp_position(text, *_compiler_line_col(text,
                                                                                      offset))


@given(TEXTS, st.data())
def test_offset_of_a_position_follows_the_protocol(text, data):
    lines = Lines(text)
    line = data.draw(st.integers(0, len(lines) - 1))
    content = lines.line_text(line)
    units = len(content.encode("utf-16-le")) // 2
    character = data.draw(st.integers(0, units))
    got = lines.offset(line, character, "utf-16")
    want = offset_of(text, line, character)
    if got != want:  # a position inside a surrogate pair: the character it splits
        assert got == want - 1 or got == want + 1
    assert lines.position(got, "utf-16")[0] == line


def test_only_protocol_line_breaks_count():
    text = "a\x0cb\u2028c\rd\r\ne\nf"
    lines = Lines(text)
    assert [lines.line_text(i) for i in range(len(lines))] == ["a\x0cb\u2028c", "d", "e", "f"]
    assert lines.position(text.index("f"), "utf-16") == (3, 0)
    assert lines.offset(99, 0) == len(text) and lines.offset(0, 99) == text.index("\r")


def test_encodings_count_code_units():
    lines = Lines("x🙂y")
    assert lines.position(2, "utf-16") == (0, 3)
    assert lines.position(2, "utf-32") == (0, 2)
    assert lines.position(2, "utf-8") == (0, 5)
    assert lines.offset(0, 3, "utf-16") == 2 and lines.offset(0, 5, "utf-8") == 2


@given(TEXTS, st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), TEXTS), max_size=5))
def test_incremental_changes_and_the_offset_map(text, edits):
    doc = Document("file:///x.arch", text)
    marked = list(range(len(text)))  # each original character, by its old offset
    current = list(text)
    omap = OffsetMap()
    for a, b, new in edits:
        a, b = sorted((min(a, len(current)), min(b, len(current))))
        lines = Lines(doc.text)
        start, end = lines.position(a), lines.position(b)
        edit = doc.apply(start, end, new, "utf-16")
        omap.add(edit)
        # `doc.apply` may move an offset out of a `\r\n` pair; apply what it did
        current[edit.start:edit.end] = list(new)
        marked[edit.start:edit.end] = [None] * len(new)
    assert doc.text == "".join(current)
    for now, old in enumerate(marked):
        if old is not None:
            assert omap.forward(old) == now
            assert omap.backward(now) == old


def test_a_full_change_replaces_everything():
    doc = Document("file:///x.arch", "abc")
    assert doc.apply(None, None, "xy", "utf-16") == Edit(0, 3, 2)
    assert doc.text == "xy"
