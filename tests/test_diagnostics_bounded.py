"""Diagnostics stay readable and cheap whatever the input: at most `MAX_DIAGNOSTICS` of them,
with one note counting the rest, from every pass (the loader's and the parser's as well as
elaboration's); quoted input cut with an ellipsis; a long source line shown near its caret
only, exactly as the whole line would be shown; a label without a place never crashes."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

import archdsl
from archdsl import diagnostics as dg
from archdsl.diagnostics import (
    MAX_DIAGNOSTICS,
    Diagnostic,
    Diagnostics,
    Label,
    Omitted,
    clip_quoted,
    render,
    render_all,
)
from archdsl.source import SourceFile, Span
from tests.conftest import run_cli


def errors_of(src: str) -> list[Diagnostic]:
    try:
        archdsl.parse(src, filename="d.arch")
    except archdsl.ArchError as exc:
        return exc.diagnostics
    return []


# ---------------------------------------------------------------------------- the cap

def test_duplicate_definitions_are_capped_with_a_count(tmp_path):
    """200,000 duplicate definitions printed 200,000 errors (here 12,000: what the default
    work budget parses)."""
    n = 12_000
    src = "block a { relu }\n" * n + "network n {\n    input 8\n    relu\n}\n"
    found = errors_of(src)
    assert len(found) == MAX_DIAGNOSTICS + 1
    assert all(d.code == "E0208" for d in found[:-1])
    assert isinstance(found[-1], Omitted) and found[-1].count == n - 1 - MAX_DIAGNOSTICS
    text = render_all(found)
    assert text.endswith(f"note: {n - 1 - MAX_DIAGNOSTICS:,} more errors not shown (the first "
                         f"{MAX_DIAGNOSTICS} are above)\n\n{n - 1:,} errors found")
    with_err = archdsl.ArchError(found)
    assert f"(and {n - 2:,} more)" in with_err.headline
    assert str(with_err) == text  # what a notebook shows: the capped, rendered list
    p = tmp_path / "dups.arch"
    p.write_text(src)
    code, out, _ = run_cli("check", str(p), "--format", "json")
    listed = json.loads(out)
    assert code == 1 and len(listed) == MAX_DIAGNOSTICS + 1
    assert listed[-1]["severity"] == "note" and listed[-1]["omitted"] == n - 1 - MAX_DIAGNOSTICS


def test_control_characters_are_counted_not_listed():
    src = "network n {\n    input 8\n    relu\n}\n" + "\x01" * 5000
    found = errors_of(src)
    assert [d.code for d in found[:-1]] == ["E0101"] * 10
    assert found[-1].count == 4990


def test_elaboration_stops_at_the_cap():
    body = "\n    ".join(f"conv{i}: conv(0, 3x3)" for i in range(300))
    found = errors_of("network n {\n    input 3x8x8\n    " + body + "\n}\n")
    assert len(found) == MAX_DIAGNOSTICS
    assert found[-1].notes[-1].startswith("stopped after 100 errors")


def test_collector_keeps_one_of_each_and_counts_past_the_limit():
    src = SourceFile("x.arch", "abc\n")
    d = Diagnostics(limit=2)
    for i in range(5):
        for _ in range(3):  # the same diagnostic three times is one
            d.error("E0101", f"m{i}", Span(src, 0, 1))
    assert [x.message for x in d.items[:2]] == ["m0", "m1"]
    assert d.items[-1].count == 3 and d.full


# ---------------------------------------------------------------------------- clipping

def test_a_long_token_is_cut_in_every_message():
    """A ten-million-character token was echoed whole (here one million: the same code)."""
    name = "a" * 1_000_000
    for line in (name, f"relu({name})", f"conv({name}=1)", f"relu {name}", f"b = {name}"):
        found = errors_of("network n {\n    input 8\n    " + line + "\n}\n")
        assert found, line
        text = render_all(found)
        assert len(text) < 3000, (line, len(text))
        assert "..." in text


def test_clip_keeps_short_text_and_both_ends():
    assert clip_quoted("unknown layer kind `relux`") == "unknown layer kind `relux`"
    cut = clip_quoted("found `" + "x" * 500 + "y` here")
    assert cut.startswith("found `xxxx") and cut.endswith("y` here") and "..." in cut
    assert len(cut) < 100
    assert clip_quoted("z" * 1000).count("z") < 250


def test_label_without_a_place_is_dropped_not_a_crash():
    src = SourceFile("x.arch", "relu\n")
    diag = Diagnostic("E0209", "dup", Span(src, 0, 4), labels=[Label(None, "nowhere")])
    assert "nowhere" not in render(diag)


# ---------------------------------------------------------------------------- long lines

def _reference_snippet(span: Span, marker: str, message: str, gutter: int) -> list[str]:
    """The renderer's code before long lines were cut first: escape the whole line, then cut."""
    line = span.line
    raw = span.source.line_text(line)
    text, cols = dg._display(raw)
    start, width = dg._underline(span, line, marker)

    def at(i: int) -> int:
        return cols[i] if i <= len(raw) else cols[-1] + i - len(raw)

    start, end = at(start), at(start + width)
    width = max(1, end - start)
    window = dg.WINDOW
    if len(text) > window:
        lo = max(0, min(start - window // 3, len(text) - window))
        hi = lo + window
        text = ("..." if lo else "") + text[lo:hi] + ("..." if hi < len(text) else "")
        start = start - lo + (3 if lo else 0)
        width = max(1, min(width, window + 3 - start))
    pad = " " * gutter
    under = " " * start + marker * width + (f" {dg.visible(message)}" if message else "")
    return [f"  {line:>{gutter}} | {text}".rstrip(), f"  {pad} | {under}".rstrip()]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_long_lines_render_as_before(data):
    chars = st.sampled_from(["a", " ", "\t", "\x1b", "é", "\u200b", "😀", "x"])
    length = data.draw(st.integers(0, 3000))
    body = "".join(data.draw(st.lists(chars, min_size=length, max_size=length)))
    text = "net\n" + body + "\nend\n"
    start = data.draw(st.integers(4, 4 + len(body)))
    end = data.draw(st.integers(start, len(text)))
    span = Span(SourceFile("l.arch", text), start, end)
    assert dg._snippet(span, "^", "here", 1) == _reference_snippet(span, "^", "here", 1)


def test_many_diagnostics_on_one_huge_line_are_quick():
    """A one-line file of a megabyte with a hundred errors: each snippet escapes only the part
    near its caret (the whole line was escaped for each, a second per hundred kilobytes)."""
    import time

    text = "network n { input 3x8x8 " + " ".join(f"c{i}: conv(0, 3x3)" for i in range(150)) \
        + " " * 1_000_000 + "}"
    t0 = time.process_time()
    found = errors_of(text)
    render_all(found)
    assert len(found) == MAX_DIAGNOSTICS
    assert time.process_time() - t0 < 20  # generous: seconds before, a fraction now
