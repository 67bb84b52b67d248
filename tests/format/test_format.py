"""The formatter: canonical layout, comments kept, idempotent, meaning kept, and `archdsl fmt`
(in place, atomically; `--check` with a diff; `-` for stdin; broken files left alone)."""

from __future__ import annotations

import io
import shutil
import sys

import pytest

from archdsl.diagnostics import ArchError
from archdsl.fileio import decode_source
from archdsl.format import find_comments, format_text, tree_key
from archdsl.parser import parse_module
from archdsl.pipeline import run
from archdsl.source import SourceFile
from tests.conftest import ROOT, TESTS, run_cli
from tests.strategies_text import signature

ZOO = sorted((ROOT / "architectures").glob("*.arch"))
ERROR_FILES = sorted((TESTS / "errors").rglob("*.arch"))


def fmt(text: str) -> str:
    return format_text(text, "t.arch")


def _parses(text: str) -> bool:
    from archdsl.diagnostics import Diagnostics

    diags = Diagnostics()
    return parse_module(SourceFile("t.arch", text), diags) is not None and not diags.has_errors


# ---------------------------------------------------------------------------- the zoo

def test_zoo_is_formatted():
    """Keeps the zoo in the canonical layout: run `archdsl fmt architectures/*.arch`."""
    code, out, err = run_cli("fmt", "--check", *map(str, ZOO))
    assert code == 0, out + err


def test_formatting_the_zoo_keeps_every_network(tmp_path):
    for p in ZOO:
        shutil.copy(p, tmp_path / p.name)
    code, _, err = run_cli("fmt", *map(str, sorted(tmp_path.glob("*.arch"))))
    assert code == 0, err
    for p in ZOO:
        before = run(path=str(p), display=p.name, require_network=False)
        after = run(path=str(tmp_path / p.name), display=p.name, require_network=False)
        assert signature(before) == signature(after), p.name


@pytest.mark.parametrize("path", ZOO + ERROR_FILES, ids=lambda p: p.name)
def test_idempotent_and_same_tree(path):
    text = decode_source(path.read_bytes())[0]  # some are not UTF-8, one has a BOM
    if not _parses(text):
        with pytest.raises(ArchError):
            fmt(text)
        return
    once = fmt(text)
    assert fmt(once) == once
    assert [c.text for c in find_comments(once)] == [c.text for c in find_comments(text)]
    src = SourceFile("t.arch", text)
    from archdsl.diagnostics import Diagnostics

    assert tree_key(parse_module(src, Diagnostics())) == \
        tree_key(parse_module(SourceFile("t.arch", once), Diagnostics()))


# ---------------------------------------------------------------------------- the style

CASES = {
    "spacing and one item per line": (
        "network n{input 1x8x8\nconv( 4,3x3 ,stride = 2)\n  relu}",
        "network n {\n    input 1x8x8\n    conv(4, 3x3, stride=2)\n    relu\n}\n"),
    "items on one line stay joined": (
        "network n {\n  input 1x8x8\n  fc1: linear(120) tanh\n}",
        "network n {\n    input 1x8x8\n    fc1: linear(120); tanh\n}\n"),
    "definitions one blank line apart, comment attached": (
        "block a { relu }\n\n\n# about b\nblock b(w, s=1) { conv(w, 1x1) }",
        "block a {\n    relu\n}\n\n# about b\nblock b(w, s = 1) {\n    conv(w, 1x1)\n}\n"),
    "multi-line group": (
        "block a {\n  add { { conv(4, 1x1); relu\n  conv(4, 1x1) } {} }\n}",
        "block a {\n    add {\n        {\n            conv(4, 1x1); relu\n"
        "            conv(4, 1x1)\n        }; {}\n    }\n}\n"),
    "if/else over lines": (
        "block a(d) {\n  if d { relu }\n  else { tanh }\n}",
        "block a(d) {\n    if d {\n        relu\n    } else {\n        tanh\n    }\n}\n"),
    "multi-line list": (
        "block a {\n  s: [b(1, stride=2),\n  b(1) * 3]\n}",
        "block a {\n    s: [\n        b(1, stride=2),\n        b(1) * 3,\n    ]\n}\n"),
    "precedence": (
        "block a(w) { conv((w+1)*2, 3, pad=(((w))) - (1 - 2), groups=-(2**3)**2) }",
        "block a(w) {\n    conv((w + 1) * 2, 3, pad=w - (1 - 2), groups=-(2 ** 3) ** 2)\n}\n"),
    "tuples, floats, strings, attributes": (
        'block a { b(k=(1,), p=1e-4, m="fan_out", c=in.channels, x=(2).x) }',
        'block a {\n    b(k=(1,), p=1e-4, m="fan_out", c=in.channels, x=(2).x)\n}\n'),
    "trailing comments aligned": (
        "network n {\n  input 1x8x8 # in\n  conv(4, 3x3)      # c\n  relu\n}",
        "network n {\n    input 1x8x8   # in\n    conv(4, 3x3)  # c\n    relu\n}\n"),
    "comments in odd places": (
        "# top\nnetwork n { # open\n  input 1x8x8\n  # before close\n} # end\n# tail",
        "# top\nnetwork n {  # open\n    input 1x8x8\n    # before close\n}  # end\n# tail\n"),
    "kernel rows stay aligned": (
        "network n {\n input 1x8x8\n g: conv([[1, 2],\n [2, 1]] / 6)\n}",
        "network n {\n    input 1x8x8\n    g: conv([[1, 2],\n             [2, 1]] / 6)\n}\n"),
    "inline calls and the current tensor": (
        "network n {\n input 1x8x8\n features: { inline  stem(4 , k=x.channels)\n"
        "inline   stem * 2 ;conv(x.height*2,1x1) }\n}",
        "network n {\n    input 1x8x8\n    features: {\n        inline stem(4, k=x.channels)\n"
        "        inline stem * 2; conv(x.height * 2, 1x1)\n    }\n}\n"),
    "loops and constants": (
        "block a(s) {\n  let w=4*2;let (p,q),r=((1,2),3)\n"
        "  for i,(t,c) in enumerate(s){conv(c*t,1x1)}\n}",
        "block a(s) {\n    let w = 4 * 2; let (p, q), r = ((1, 2), 3)\n"
        "    for i, (t, c) in enumerate(s) { conv(c * t, 1x1) }\n}\n"),
    "a loop over lines": (
        "block a {\n  for i in range(2) {\n  relu\n  }\n}",
        "block a {\n    for i in range(2) {\n        relu\n    }\n}\n"),
    "computed labels": (
        "block a { for i in range(2) { layer{i+1}_x{ i*2 }c: relu } }",
        "block a {\n    for i in range(2) { layer{i + 1}_x{i * 2}c: relu }\n}\n"),
    "comprehensions": (
        "block a(s) { conv(sum([c*2 for (t,c) in s if t>1]), 1x1) }",
        "block a(s) {\n    conv(sum([c * 2 for (t, c) in s if t > 1]), 1x1)\n}\n"),
    "indexing and slicing": (
        'block a(s) { conv(s[0][ -1]+len(s[1 :])+"ab"[0:1].x+(1.5)[0], 1x1) }',
        'block a(s) {\n    conv(s[0][-1] + len(s[1:]) + "ab"[0:1].x + (1.5)[0], 1x1)\n}\n'),
    "a table one row per line": (
        "network n(classes = 10,\n  setting = [(1, 16),\n  (6, 24)]) {\n input 1x8x8\n}",
        "network n(\n    classes = 10,\n    setting = [(1, 16),\n               (6, 24)],\n"
        ") {\n    input 1x8x8\n}\n"),
    "empty": ("", ""),
}


@pytest.mark.parametrize("name", CASES)
def test_style(name):
    text, expected = CASES[name]
    assert fmt(text) == expected
    assert fmt(expected) == expected


def test_syntax_error_is_reported_not_formatted():
    with pytest.raises(ArchError) as info:
        fmt("network n { input 1x8x8 conv(4, }")
    assert info.value.diagnostics[0].span is not None


# ---------------------------------------------------------------------------- the command

UGLY = "network n{input 1x8x8\n  conv(4,3x3)   # keep me\nrelu}\n"
PRETTY = "network n {\n    input 1x8x8\n    conv(4, 3x3)  # keep me\n    relu\n}\n"


def test_fmt_rewrites_in_place(tmp_path):
    p = tmp_path / "n.arch"
    p.write_text(UGLY)
    code, _, err = run_cli("fmt", str(p))
    assert code == 0 and "reformatted" in err
    assert p.read_text() == PRETTY
    assert [f.name for f in tmp_path.iterdir()] == ["n.arch"]  # no temporary file left
    code, _, err = run_cli("fmt", str(p))
    assert code == 0 and err == ""


def test_fmt_check_shows_a_diff_and_changes_nothing(tmp_path):
    p = tmp_path / "n.arch"
    p.write_text(UGLY)
    code, out, _ = run_cli("fmt", "--check", str(p))
    assert code == 1
    assert "+    conv(4, 3x3)  # keep me" in out and out.startswith("---")
    assert p.read_text() == UGLY
    p.write_text(PRETTY)
    assert run_cli("fmt", "--check", str(p))[0] == 0


def test_fmt_stdin_to_stdout(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(UGLY.encode())))
    code, out, _ = run_cli("fmt", "-")
    assert code == 0 and out == PRETTY


def test_fmt_leaves_a_broken_file_alone(tmp_path):
    p = tmp_path / "bad.arch"
    broken = "network n {\n  input 1x8x8\n  conv(4,\n"
    p.write_text(broken)
    code, _, err = run_cli("fmt", str(p))
    assert code == 1 and "error[E0" in err and "bad.arch:" in err
    assert p.read_text() == broken


def test_fmt_refuses_text_that_is_not_utf8(tmp_path):
    p = tmp_path / "latin1.arch"
    data = "# caf\xe9\nnetwork n {input 1x8x8}\n".encode("latin-1")
    p.write_bytes(data)
    code, _, err = run_cli("fmt", str(p))
    assert code == 1 and "not UTF-8" in err
    assert p.read_bytes() == data


def test_fmt_missing_file_is_a_usage_error(tmp_path):
    assert run_cli("fmt", str(tmp_path / "nope.arch"))[0] == 2


def test_fmt_several_files_reports_the_worst(tmp_path):
    good, bad = tmp_path / "good.arch", tmp_path / "bad.arch"
    good.write_text(UGLY)
    bad.write_text("network {")
    code, _, _ = run_cli("fmt", str(good), str(bad))
    assert code == 1
    assert good.read_text() == PRETTY


def test_internal_formatter_bug_is_caught_before_writing(tmp_path, monkeypatch):
    """If the printer ever produced a different program, nothing is written (exit 3)."""
    import archdsl.format as f

    p = tmp_path / "n.arch"
    p.write_text(UGLY)
    monkeypatch.setattr(f._Printer, "_Ref", lambda self, it: self.w(it.ident + "x"))
    code, _, err = run_cli("fmt", str(p))
    assert code == 3 and "internal error" in err and "FormatterBug" in err
    assert p.read_text() == UGLY


def test_the_style_guide_example_is_formatted():
    """docs/format.md shows the style; its example must be what `archdsl fmt` writes."""
    import re

    doc = (ROOT / "docs" / "format.md").read_text()
    examples = [b for b in re.findall(r"^```\n(.*?)^```", doc, re.S | re.M) if "network" in b]
    assert examples
    for text in examples:
        assert fmt(text) == text
