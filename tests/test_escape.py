"""The escaping functions (archdsl/escape.py), each against what reads its output back: Python's
own parser and tokenizer, bash, Graphviz's rules. The whole compiler is put through them in
tests/torch/test_hostile_source.py and tests/graphviz/test_hostile_dot.py."""

from __future__ import annotations

import ast
import io
import math
import shutil
import subprocess
import tokenize

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archdsl.escape import (
    BIDI_CONTROLS,
    LINE_BREAKS,
    dot_html,
    dot_str,
    py_comment,
    py_docstring,
    py_float,
    py_str,
    py_value,
    shell_word,
    visible,
)

# Every kind of character that has broken a generator somewhere: line breaks Python or an
# editor honours, bidi controls, quotes and backslashes, a PEP 263 declaration, a lone
# surrogate (an undecodable byte of a file name), shell syntax.
HOSTILE = [
    "\r", "\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029",
    "\u202e", "\u2066", "\u200f", "\x00", "\x1b[2J", "\t", '"', "'", '"""', "'''", "\\",
    "a\\", "\\x0d", "#", "coding: utf-7 +AAo-", "\udcff", "$(touch pwned)", "`touch pwned`",
    "é", "\U0001f600", "\u00a0", "\ufeff", "}", "{", "<b>&amp;</b>",
]
SAMPLES = [*HOSTILE, "".join(HOSTILE), "x\r__import__('os').system('echo PWNED')\r#"]
texts = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)


def _clean(text: str) -> bool:
    """Printable characters and nothing else: no line break, no bidi control."""
    return text.isprintable()


@pytest.mark.parametrize("text", SAMPLES, ids=ascii)
def test_py_str_reads_back_and_stays_on_one_line(text):
    lit = py_str(text)
    assert _clean(lit)
    assert ast.literal_eval(lit) == text
    assert len(ast.parse(f"x = {lit}\n").body) == 1


@given(texts)
def test_py_str_reads_back_for_any_text(text):
    lit = py_str(text)
    assert _clean(lit) and ast.literal_eval(lit) == text


@pytest.mark.parametrize("text", SAMPLES, ids=ascii)
def test_py_comment_stays_one_comment(text):
    line = f"x = 1  # {py_comment(text)}\ny = 2\n"
    assert _clean(line.replace("\n", ""))
    tokens = list(tokenize.generate_tokens(io.StringIO(line).readline))
    assert sum(t.type == tokenize.COMMENT for t in tokens) == 1
    assert [type(s).__name__ for s in ast.parse(line).body] == ["Assign", "Assign"]


@pytest.mark.parametrize("text", SAMPLES, ids=ascii)
def test_py_docstring_keeps_its_lines(text):
    doc = py_docstring([f"first {text}", "", f"last {text}"], indent="    ")
    src = f"def f():\n    {doc}\n"
    tree = ast.parse(src)
    assert len(tree.body) == 1 and len(tree.body[0].body) == 1
    assert ast.get_docstring(tree.body[0], clean=False) == \
        f"first {text}\n    \n    last {text}"
    assert all(_clean(line) for line in doc.split("\n"))


def test_py_value_numbers_read_back():
    for x in (0.1, -0.0, 1e-5, 1e308, 5e-324, float("inf"), float("-inf")):
        assert eval(py_value(x), {}) == x, x
        assert math.copysign(1, eval(py_value(x), {})) == math.copysign(1, x)
    assert math.isnan(eval(py_float(float("nan")), {}))
    assert "inf" not in py_value(1.5) and py_value(float("inf")) == 'float("inf")'


def test_py_value_containers_and_refusals():
    value = [(1, 2.5, None, True), ("a\r", [float("-inf")]), (7,)]
    assert eval(py_value(value), {}) == value
    assert py_value((7,)) == "(7,)" and py_value([]) == "[]"

    class Sneaky:
        def __repr__(self):
            return "__import__('os').system('echo PWNED')"

    with pytest.raises(TypeError):
        py_value(Sneaky())
    with pytest.raises(TypeError):
        py_value({"a": 1})


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("text", [t for t in SAMPLES if "\x00" not in t], ids=ascii)
def test_shell_word_reads_back_in_bash(text):
    word = shell_word(text)
    assert _clean(word)
    out = subprocess.run(["bash", "-c", f"printf '%s' {word}"], capture_output=True,
                         check=True).stdout
    assert out == text.encode("utf-8", "surrogateescape")


@pytest.mark.parametrize("text", SAMPLES, ids=ascii)
def test_dot_strings_and_labels_are_text_only(text):
    s = dot_str(text)
    assert _clean(s) and s.startswith('"') and s.endswith('"')
    inner = s[1:-1]
    # no quote ends it early, and every backslash is an escaped one (no \N, \G, \l of dot's)
    assert '"' not in inner.replace('\\"', "")
    assert "\\" not in inner.replace("\\\\", "").replace('\\"', "")
    h = dot_html(text)
    assert _clean(h) and not set(h) & set("<>\"'") and "&" not in h.replace("&amp;", "") \
        .replace("&lt;", "").replace("&gt;", "").replace("&quot;", "").replace("&#x27;", "")
    assert "\\" not in h.replace("\\\\", "")


def test_the_sets_of_characters():
    breaks = {ch for ch in map(chr, range(0x3000)) if len(f"a{ch}b".splitlines()) == 2}
    assert breaks == LINE_BREAKS
    assert all(not ch.isprintable() for ch in LINE_BREAKS | BIDI_CONTROLS)
    assert visible("a\u202eb") == "a\\u202eb" and visible("ok é") == "ok é"
