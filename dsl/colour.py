"""Colour on a terminal, as rustc and gcc do it: `--color auto|always|never`.

`auto` (the default) colours standard error when it is a terminal (and TERM is not `dumb`);
`FORCE_COLOR` or `CLICOLOR_FORCE` (set, not empty, not `0`) colour it even through a pipe;
`NO_COLOR` (set, not empty; https://no-color.org) turns colour off. The option wins over
the environment. Only standard error is coloured: what goes to standard output (tables,
DOT, source) is data.

Diagnostics are rendered as plain text (diagnostics.py) and painted here, line by line, from
their fixed layout: `path:line:col: error[E0301]: message`, the gutter `  5 |`, the carets,
`note:` and `help:`. So every diagnostic and every `archdsl: error:` line is coloured the
same way, whoever wrote it.
"""

from __future__ import annotations

import os
import re

CHOICES = ("auto", "always", "never")

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
RED = "\x1b[1;31m"
YELLOW = "\x1b[1;33m"
GREEN = "\x1b[1;32m"
CYAN = "\x1b[1;36m"
BLUE = "\x1b[1;34m"
SEVERITY = {"error": RED, "internal error": RED, "warning": YELLOW, "note": GREEN,
            "help": CYAN}

# `where: error[E0301]: message`, `archdsl: error: message`, `note: ...` at a line's start
_HEAD = re.compile(r"^(?P<where>(?:[^\s:][^:\n]*?:(?:\d+:\d+:)? )?)"
                   r"(?P<sev>internal error|error|warning|note|help)(?P<code>\[[EW]\d{4}\])?: "
                   r"(?P<msg>.*)$")
# the lines under a header: `  5 | source`, `    | ^^^^ label`, `  note: ...`, `  --> path`
_GUTTER = re.compile(r"^(?P<gutter>  +\d* \|)(?P<rest>.*)$")
_MARK = re.compile(r"^(?P<pad> *)(?P<marks>\^+|-+)(?P<label>.*)$")
_SUB = re.compile(r"^(?P<pad>  )(?P<sev>note|help): (?P<msg>.*)$")
_ARROW = re.compile(r"^(?P<pad>  )(?P<arrow>-->)(?P<rest>.*)$")


def enabled(choice: str | None, stream, environ=None) -> bool:
    """Whether to colour `stream` for `--color choice` (None: auto) and the environment."""
    env = os.environ if environ is None else environ
    if choice == "always":
        return True
    if choice == "never":
        return False
    for force in ("FORCE_COLOR", "CLICOLOR_FORCE"):
        if env.get(force, "") not in ("", "0"):
            return True
    if env.get("NO_COLOR", ""):
        return False
    if env.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def paint_line(line: str, carets: str = RED) -> str:
    """One line of diagnostic text with its colours (unchanged if it is not one of theirs).
    `carets` is the colour of the primary carets: that of the diagnostic's severity (red for
    an error, yellow for a warning, as rustc draws them); `severity_of` reads it from the
    diagnostic's first line."""
    m = _HEAD.match(line)
    if m:
        colour = SEVERITY[m["sev"]]
        where = f"{BOLD}{m['where']}{RESET}" if m["where"] else ""
        return f"{where}{colour}{m['sev']}{m['code'] or ''}{RESET}{BOLD}: {m['msg']}{RESET}"
    m = _SUB.match(line)
    if m:
        return f"{m['pad']}{SEVERITY[m['sev']]}{m['sev']}{RESET}: {m['msg']}"
    m = _ARROW.match(line)
    if m:
        return f"{m['pad']}{BLUE}{m['arrow']}{RESET}{m['rest']}"
    m = _GUTTER.match(line)
    if m:
        rest = m["rest"]
        if not m["gutter"].strip(" |"):  # no line number: the line of carets under a source
            mark = _MARK.match(rest)
            if mark:
                colour = carets if mark["marks"][0] == "^" else BLUE
                rest = f"{mark['pad']}{colour}{mark['marks']}{mark['label']}{RESET}"
        return f"{BLUE}{m['gutter']}{RESET}{rest}"
    return line


def carets_after(line: str, carets: str) -> str:
    """The colour of the carets below `line`: the severity's when it starts a diagnostic."""
    m = _HEAD.match(line)
    return SEVERITY[m["sev"]] if m and m["sev"] in ("error", "warning") else carets


def paint(text: str) -> str:
    """Every line of `text` painted (see `paint_line`)."""
    out, carets = [], RED
    for line in text.split("\n"):
        carets = carets_after(line, carets)
        out.append(paint_line(line, carets))
    return "\n".join(out)


class Painter:
    """A text stream that paints what is written to it, a whole line at a time: the start of
    a line is only known when the write before ended one. Everything else is the stream's."""

    def __init__(self, stream):
        self._stream = stream
        self._line_start = True
        self._carets = RED  # of the diagnostic being written

    def write(self, text: str):
        if not text:
            return 0
        first, nl, rest = text.partition("\n")
        if self._line_start:
            self._carets = carets_after(first, self._carets)
            first = paint_line(first, self._carets)
        out = first + nl
        if nl and rest:
            for i, line in enumerate(rest.split("\n")):
                self._carets = carets_after(line, self._carets)
                out += ("\n" if i else "") + paint_line(line, self._carets)
        self._line_start = text.endswith("\n")
        self._stream.write(out)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._stream, name)
