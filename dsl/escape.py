"""Escaping, one function per output target: whatever comes from an input (a name, a string, a
path, a number, a `--set` value) reaches a generated file only through here.

- Python string literal, `py_str`: `ast.literal_eval` gives the text back; one line.
- Python docstring, `py_docstring`: one line per line given; nothing in them can close it.
- Python comment text, `py_comment`: stays on its line.
- Python value (constructor arguments), `py_value`: reads back as the same value, `inf` and
  `nan` as `float("inf")`, `float("nan")`; a type not known to be plain data is refused.
- a shell word (the regenerate command in a generated file's header), `shell_word`: a POSIX
  shell (bash, for `$'...'`) reads it back as the same text.
- a DOT quoted string (ids, attribute values), `dot_str`; text inside a DOT HTML-like label,
  `dot_html`: no Graphviz escape, tag or entity can be formed from the input.

Every one of them shows a character that is not printable (`str.isprintable`: control
characters, line and paragraph separators, bidi controls, unassigned code points, lone
surrogates from undecodable file names) as an escape (`\\x0d`, `\\u2028`), so a generated file
holds only printable characters and `\\n`, which also keeps an editor from showing it otherwise
than Python reads it. The terminal follows the same rule, through `visible` here: summaries,
CLI messages, `Span.location` and rendered diagnostics.

ONNX: `to_onnx` writes no free text (no doc strings, producer `pytorch`); its node and tensor
names are the IR names, made of identifiers, digits and dots (tests/torch/test_hostile_source.py
checks every string of an exported model).
"""

from __future__ import annotations

import math

# shlex and numbers are imported where used: the front end imports this module for its
# constants (dsl/textscan.py) and should not pay for what only code generation needs.

# What str.splitlines() treats as a line break; \n is the only one the generator writes.
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
# Characters that reorder the text an editor shows (the "Trojan Source" characters).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")


def char_escape(ch: str) -> str:
    """`\\x0d`, `\\u2028`, `\\U0001f600`: one character as Python writes it in a literal."""
    o = ord(ch)
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"


def visible(text: str, keep: str = "") -> str:
    """`text` safe to print on a terminal: each non-printable character (an escape sequence
    would clear the screen) shown as its escape (`\\x0d`, `\\x1b`); those in `keep` pass
    (a rendered note keeps its own line breaks)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in keep else char_escape(ch) for ch in text)


# ---------------------------------------------------------------------------- Python

def _py_chars(text: str) -> str:
    out = []
    for ch in text:
        if ch == "\\" or ch == '"':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(char_escape(ch))
    return "".join(out)


def py_str(text: str) -> str:
    """A double-quoted Python string literal whose value is `text`.

    >>> print(py_str('say "hi"\\r'))
    "say \\"hi\\"\\x0d"
    """
    return '"' + _py_chars(str(text)) + '"'


def py_docstring(lines: list[str], indent: str = "") -> str:
    """A triple-quoted docstring with one line per item of `lines` (the generator's own line
    structure); each line is escaped, so text from an input cannot end it or add a line.
    Later lines get `indent`."""
    body = ("\n" + indent).join(_py_chars(line) for line in lines)
    return '"""' + body + '"""'


def py_comment(text: str) -> str:
    """Text for a `# ...` comment: printable characters only, so it stays on its line.

    (A PEP 263 `coding:` declaration counts only on a file's first two lines; the generator
    keeps those free of input text.)
    """
    return visible(str(text))


def py_float(x: float) -> str:
    """A float Python reads back exactly: `repr`, except `float("inf")`, `float("-inf")`,
    `float("nan")`, which `repr` writes as names that do not exist."""
    x = float(x)
    if math.isnan(x):
        return 'float("nan")'
    if math.isinf(x):
        return 'float("inf")' if x > 0 else 'float("-inf")'
    return repr(x)


def py_value(value) -> str:
    """A constructor argument as Python source: None, booleans, integers, floats, strings and
    (nested) tuples and lists of them; strings in double quotes, as fx prints them. Anything
    else is refused: its `repr` is not known to be Python that means the same value."""
    from numbers import Integral, Real

    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        return py_float(value)
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, (tuple, list)):
        inner = ", ".join(py_value(v) for v in value)
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    raise TypeError(f"cannot write a {type(value).__name__} as Python source: {value!r:.60}")


# ---------------------------------------------------------------------------- shell

def shell_word(text: str) -> str:
    """`text` as one word a POSIX shell reads back unchanged (`shlex.quote`); when it holds a
    character that cannot be shown, as bash's `$'...'` with escapes (`$'a\\nb'`)."""
    import shlex

    text = str(text)
    if text.isprintable():
        return shlex.quote(text)
    out = []
    for ch in text:
        o = ord(ch)
        if ch in "\\'":
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif o < 0x80:
            out.append(f"\\x{o:02x}")
        elif 0xDC80 <= o <= 0xDCFF:  # an undecodable byte of a file name (surrogateescape)
            out.append(f"\\x{o - 0xDC00:02x}")
        else:
            out.append(f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
    return "$'" + "".join(out) + "'"


# ---------------------------------------------------------------------------- DOT

def dot_str(text: str) -> str:
    """A DOT quoted string (an id or an attribute value). Backslashes are doubled, so none of
    Graphviz's own escapes (`\\N`, `\\G`, `\\l`) can be formed from the input."""
    shown = visible(str(text))
    return '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_html(text: str) -> str:
    """Text inside a Graphviz HTML-like label: `& < > " '` as entities, non-printables shown as
    escapes (XML has no entity for most control characters), and backslashes doubled: Graphviz
    expands `\\N` (the node's name) and its other escapes inside HTML labels too, after the
    entities (`&#92;N` is expanded as well)."""
    shown = visible(str(text))
    return (shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#x27;").replace("\\", "\\\\"))
