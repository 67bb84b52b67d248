"""Fixtures for the language server's tests: a server over stdio, started in the project root
(so its messages name files as `archdsl check` run from there does), shared by a module."""

from __future__ import annotations

import os
import re

import pytest

from tests.conftest import ROOT
from tests.lsp.client import Client

_EOL = re.compile(r"\r\n|\r|\n")


@pytest.fixture(scope="session", autouse=True)
def _cache_folder(tmp_path_factory):
    """The explain pages the diagnostics link to go to a temporary cache, not the user's."""
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.fixture(scope="module")
def server():
    with Client(cwd=ROOT) as c:
        c.initialize(ROOT)
        yield c
        assert not c.errors_logged(), c.errors_logged()


def lsp_position(text: str, line: int, col: int) -> tuple[int, int]:
    """A compiler location (1-based line and column, lines ended by `\\n` alone, columns in
    code points) as the protocol's (line, UTF-16 character), from the protocol's definition:
    lines end at `\\n`, `\\r\\n` or `\\r`."""
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    offset = starts[line - 1] + col - 1 if line - 1 < len(starts) else len(text)
    offset = min(offset, len(text))
    before = text[:offset]
    ends = list(_EOL.finditer(before))
    lsp_line = len(ends)
    start = ends[-1].end() if ends else 0
    # an offset between `\r` and `\n` is on the line the pair ends
    if before.endswith("\r") and text[offset:offset + 1] == "\n":
        lsp_line -= 1
        start = ends[-2].end() if len(ends) > 1 else 0
        before = before[:-1]
    segment = before[start:]
    return lsp_line, len(segment.encode("utf-16-le")) // 2


def offset_of(text: str, line: int, character: int) -> int:
    """The code-point offset of a protocol position (UTF-16), from the definition."""
    starts = [0] + [m.end() for m in _EOL.finditer(text)]
    start = starts[line]
    count, i = 0, start
    while count < character and i < len(text) and text[i] not in "\r\n":
        count += len(text[i].encode("utf-16-le")) // 2
        i += 1
    return i


def apply_edits(text: str, edits: list[dict]) -> str:
    """Apply protocol TextEdits (non-overlapping) to a text."""
    spans = []
    for e in edits:
        r = e["range"]
        spans.append((offset_of(text, r["start"]["line"], r["start"]["character"]),
                       offset_of(text, r["end"]["line"], r["end"]["character"]), e["newText"]))
    for a, b, new in sorted(spans, reverse=True):
        text = text[:a] + new + text[b:]
    return text
