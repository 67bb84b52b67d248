"""`archdsl fmt FILE...`: rewrite `.arch` files in the canonical layout (docs/format.md).

`--check` changes nothing: it prints a unified diff for each file that is not formatted and
exits 1 (for CI). `-` reads standard input and writes the result to standard output. A file
with syntax errors is left untouched and its diagnostics are printed (exit 1).
"""

from __future__ import annotations

import difflib
import sys

from ..budget import MAX_WORK
from ..diagnostics import ArchError, render_all
from ..escape import visible
from ..fileio import (
    MAX_FILE_SIZE,
    NotAFile,
    TooLarge,
    decode_source,
    read_pipe,
    read_source,
    read_stream,
    write_atomic,
)
from ..format import format_text
from ..loader import not_utf8, too_large
from ..source import SourceFile
from . import SUMMARIES
from .common import EXIT_INPUT, EXIT_OK, STDIN, UsageError, is_stream


def add_parser(sub):
    p = sub.add_parser("fmt", help=SUMMARIES["fmt"],
                       description="Rewrite each file in the canonical layout, comments kept. "
                                   "The program does not change: it parses to the same tree. "
                                   "Use `-` for standard input (written to standard output).")
    p.add_argument("files", nargs="+", metavar="FILE", help="`.arch` files, or - for stdin")
    p.add_argument("--check", action="store_true",
                   help="change nothing; show a diff and exit 1 if a file is not formatted")
    lim = p.add_argument_group("limits")
    lim.add_argument("--max-file-size", type=int, default=MAX_FILE_SIZE, metavar="N",
                     help=f"bytes of one file (default {MAX_FILE_SIZE:,})")
    lim.add_argument("--max-work", type=int, default=MAX_WORK, metavar="N",
                     help=f"units of work for one file (default {MAX_WORK:,})")
    return p


def run(args) -> int:
    status = EXIT_OK
    for name in args.files:
        status = max(status, _one(name, args.check, args.max_file_size, args.max_work))
    return status


def _one(name: str, check: bool, max_size: int = MAX_FILE_SIZE, max_work: int = MAX_WORK) -> int:
    # `-`, or a pipe or terminal by its path (`/dev/stdin`, `<(...)`): read as a stream and
    # written to standard output, for there is no file to rewrite
    stdin = is_stream(name)
    shown = STDIN if name == "-" else visible(name)  # a name may hold escape sequences
    # no more than the size limit, checked before reading (`/dev/zero` never ends)
    try:
        if name == "-":
            data = read_stream(sys.stdin.buffer, max_size)
        elif stdin:
            data = read_pipe(name, max_size)
        else:
            data = read_source(name, max_size)
    except FileNotFoundError:
        raise UsageError(f"no such file: {name}") from None
    except NotAFile as exc:
        raise UsageError(f"{name} is {exc.strerror}") from None
    except TooLarge as exc:
        diag = too_large(shown, exc.size, exc.limit, exc.head.decode("utf-8", "replace"))
        print(render_all([diag]), file=sys.stderr)
        return EXIT_INPUT
    # strictly: rewriting a file must not turn undecodable bytes (even in a comment) into
    # replacement characters; the error is check's own (E0108), and a BOM is dropped
    text, undecodable = decode_source(data)
    if undecodable is not None:
        print(render_all([not_utf8(SourceFile(shown, text), undecodable)]), file=sys.stderr)
        print(f"{shown}: file left unchanged", file=sys.stderr)
        return EXIT_INPUT
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        out = format_text(text, shown, max_work=max_work)
    except ArchError as exc:
        print(render_all(exc.diagnostics), file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # a bug: the CLI reports it in one line, naming the file
        exc.arch_location = getattr(exc, "arch_location", shown)
        raise
    if check:
        if out == text and not bom:
            return EXIT_OK
        if out == text:
            print(f"would reformat {shown} (drop its byte-order mark)", file=sys.stderr)
            return EXIT_INPUT
        sys.stdout.writelines(difflib.unified_diff(
            text.splitlines(keepends=True), out.splitlines(keepends=True),
            f"{shown} (original)", f"{shown} (formatted)"))
        if not out.endswith("\n") or not text.endswith("\n"):
            sys.stdout.write("\n")
        print(f"would reformat {shown}", file=sys.stderr)
        return EXIT_INPUT
    if stdin:
        sys.stdout.write(out)
    elif out != text or bom:
        write_atomic(name, out, allow_arch=True)
        print(f"reformatted {shown}", file=sys.stderr)
    return EXIT_OK

