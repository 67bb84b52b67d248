"""What the lexer keeps whole or skips, found without the parser: strings, comments and
brackets (for the bracket check before parsing, and the formatter's comments), and the
characters a string or a comment may not hold.

One regular expression finds them all, left to right, so the scan is linear in the text: a
string runs to its closing quote or, unterminated, to the end of its line, exactly as the
grammar's `STRING: /"[^"\\n]*"/` and `COMMENT: /#[^\\n]*/` read them.

Strings hold visible characters only (`str.isprintable()`, and the space): no control
character, line or paragraph separator, bidi control or other invisible character. They have
no escapes, so such a character could only have been typed by accident or planted: an editor
shows a carriage return or U+2028 as a line break and a bidi control reorders the text around
it, so the file would mean something other than it shows. Comments may hold any text but line
breaks other than the newline (a carriage return is allowed just before it: CRLF files), bidi
controls and other control characters but the tab. Both are E0107, at the character.
"""

from __future__ import annotations

import re

from .escape import BIDI_CONTROLS, LINE_BREAKS

_LEXEMES = re.compile(r'#[^\n]*|"[^"\n]*"?|[{}()\[\]]')

_NAMES = {"\t": "tab", "\n": "newline", "\r": "carriage return", "\x0b": "vertical tab",
          "\x0c": "form feed", "\x1c": "file separator", "\x1d": "group separator",
          "\x1e": "record separator", "\x1f": "unit separator", "\x85": "next line",
          "\x7f": "delete"}


def lexemes(text: str, start: int = 0, end: int | None = None):
    """Yield (kind, start, end) for each string, comment and bracket in text[start:end], in
    order. kind: "string", "unterminated" (a string without its closing quote on its line),
    "comment", or the bracket itself."""
    n = len(text) if end is None else end
    for m in _LEXEMES.finditer(text, start, n):
        a, b = m.span()
        ch = text[a]
        if ch == "#":
            yield "comment", a, b
        elif ch == '"':
            yield ("string" if b - a >= 2 and text[b - 1] == '"' else "unterminated"), a, b
        else:
            yield ch, a, b


def bad_in_string(text: str, start: int, end: int) -> int | None:
    """Offset of the first character a string may not hold in text[start:end], or None."""
    if text[start:end].isprintable():  # the common case, at C speed
        return None
    for i in range(start, end):
        if not text[i].isprintable():
            return i
    return None


def bad_in_comment(text: str, start: int, end: int) -> int | None:
    """Offset of the first character a comment may not hold in text[start:end], or None."""
    body = text[start:end]
    if body.isprintable():
        return None
    for i in range(start, end):
        ch = text[i]
        if ch.isprintable() or ch == "\t":
            continue
        if ch == "\r" and i == end - 1 and (end == len(text) or text[end] == "\n"):
            continue  # the CR of a CRLF line ending
        if ch in LINE_BREAKS or ch in BIDI_CONTROLS or ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            return i
    return None


def describe(ch: str) -> tuple[str, str]:
    """(what the character is, as a phrase, what it does): ("line break U+000D (carriage
    return)", "an editor shows a line break here")."""
    import unicodedata  # the error path only

    code = f"U+{ord(ch):04X}"
    name = _NAMES.get(ch) or unicodedata.name(ch, "").lower() or "control character"
    if ch in LINE_BREAKS:
        return f"line break {code} ({name})", "an editor may show a line break here"
    if ch in BIDI_CONTROLS:
        return (f"bidi control {code} ({name})",
                "it reorders how the text around it is shown")
    return f"invisible character {code} ({name})", "not a visible character"
