"""What a string or a comment may hold (E0107, dsl/textscan.py), and that finding them is linear
in the text (issue 11: 1,000,000 strings on one line took minutes, each quote searching on to
the end of its line)."""

from __future__ import annotations

import time

import pytest

import archdsl
from archdsl import textscan
from archdsl.format import find_comments, format_text
from archdsl.parser import _check_delimiters
from archdsl.source import SourceFile
from tests.conftest import run_cli

NET = 'network n(s = "{}") {{\n    input 4\n    relu\n}}\n'
LINE_BREAKS = ["\r", "\x0c", "\u2028", "\u2029", "\x85", "\x1c", "\x1d", "\x1e", "\x0b"]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
        "\u2069", "\u200e", "\u200f", "\u061c"]
INVISIBLE = ["\t", "\u00a0", "\u200b", "\ufeff", "\u00ad", "\ue000"]


def _diags(text: str):
    try:
        archdsl.parse(text)
    except archdsl.ArchError as exc:
        return [(d.code, d.span.start if d.span else None) for d in exc.diagnostics]
    return []


@pytest.mark.parametrize("ch", LINE_BREAKS + BIDI + INVISIBLE, ids=ascii)
def test_a_string_holds_visible_characters_only(ch):
    text = NET.format(f"ab{ch}cd")
    # the loader refuses the C0/C1 controls but tab, CR and form feed anywhere in a file
    # (E0101); what it lets through, the string check catches, at the character itself
    code = "E0101" if ch in "\x0b\x1c\x1d\x1e\x85" else "E0107"
    assert _diags(text) == [(code, text.index(ch))]


def test_the_issue_reproducer_is_refused():
    text = ("network evil(s = \"x\r__import__('os').system('echo PWNED > pwned.txt')\r#\") "
            "{ input 4 relu }")
    assert _diags(text) == [("E0107", text.index("\r"))]


@pytest.mark.parametrize("ch", LINE_BREAKS[1:] + BIDI + ["\x1b"], ids=ascii)
def test_a_comment_holds_no_line_break_or_bidi_control(ch):
    text = f"network n {{\n    input 4  # a {ch} b\n    relu\n}}\n"
    code = "E0101" if ch in "\x0b\x1c\x1d\x1e\x85\x1b" else "E0107"
    assert _diags(text) == [(code, text.index(ch))]


def test_crlf_files_and_other_comment_text_are_fine():
    text = ("# caf\u00e9\u00a0\u200b\t\U0001f600\r\n"
            "network n {\r\n    input 4  # ok\r\n    relu\r\n}\r\n")
    assert archdsl.parse(text).params == 0
    bare = "network n {\n    input 4  # a bare \r in a comment\n    relu\n}\n"
    assert [c for c, _ in _diags(bare)] == ["E0107"]


def test_every_bad_string_is_reported_once():
    text = ('network n(a = "x\u2028y\u2028z", b = "\u202e", c = "ok") {\n'
            '    input 4\n    relu  # \u2066\n}\n')
    assert [c for c, _ in _diags(text)] == ["E0107"] * 3


def test_set_refuses_invisible_characters(tmp_path):
    p = tmp_path / "n.arch"
    p.write_text(NET.format("x"))
    for bad in ("y\n__import__('os')", "y\r#", "a\u2028b", "a\u202eb", "a\tb"):
        code, _, err = run_cli("check", str(p), "--set", f"s={bad}")
        assert code == 2 and "--set s: the value holds" in err, (bad, err)
    assert run_cli("check", str(p), "--set", "s=it's \\ \"fine\"")[0] == 0


def test_lexemes_match_the_grammar():
    text = 'a "b # c" # d "e"\n"unterminated # f\n{ ( [ "" ] ) }'
    kinds = [(k, text[a:b]) for k, a, b in textscan.lexemes(text)]
    assert kinds == [("string", '"b # c"'), ("comment", '# d "e"'),
                     ("unterminated", '"unterminated # f'), ("{", "{"), ("(", "("),
                     ("[", "["), ("string", '""'), ("]", "]"), (")", ")"), ("}", "}")]


def test_scanning_strings_and_comments_is_linear():
    """1,000,000 strings on one line (5 MB): the bracket check and the formatter's comment scan
    took minutes (quadratic); each is a fraction of a second now. The budget is generous."""
    n = 1_000_000
    text = "network n(a = [" + ", ".join(['"a"'] * n) + "]) { input 4 relu }  # end\n"
    source = SourceFile("big.arch", text)
    t0 = time.perf_counter()
    chars: list = []
    assert not _check_delimiters(source, archdsl.diagnostics.Diagnostics(), chars=chars)
    comments = find_comments(text)
    took = time.perf_counter() - t0
    assert not chars and [c.text for c in comments] == ["# end"]
    assert took < 10, f"took {took:.1f} s"


def test_the_formatter_keeps_comments_next_to_strings():
    text = 'network n(a = "#x", b = "y") {  # one\n    input 4\n    relu  # two "q"\n}\n'
    out = format_text(text)
    assert [c.text for c in find_comments(out)] == ["# one", '# two "q"']
