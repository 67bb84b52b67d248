"""`archdsl explain E0301`: what an error code means, with a wrong and a right example."""

from __future__ import annotations

from ..codes import CATALOGUE, explain
from . import SUMMARIES
from .common import EXIT_OK, UsageError


def add_parser(sub):
    p = sub.add_parser("explain", help=SUMMARIES["explain"],
                       description="Print the catalogue entry of an error code (as in "
                                   "`error[E0301]`): what it means, a wrong example and a right "
                                   "one. Without a code, list every code with its title.")
    p.add_argument("code", nargs="?", metavar="CODE", help="an error code such as E0301")
    return p


def run(args) -> int:
    if args.code is None:
        for entry in CATALOGUE.values():
            print(f"{entry.code}  {entry.title}")
        return EXIT_OK
    code = args.code.strip().upper()
    if code.isdigit():
        code = "E" + code.zfill(4)
    if code not in CATALOGUE:
        from ..argspec import suggest

        hint = suggest(code, CATALOGUE)
        raise UsageError(f"no error code `{args.code}`" +
                         (f" (did you mean `{hint}`?)" if hint else "") +
                         "; `archdsl explain` lists them all")
    print(explain(code), end="")
    return EXIT_OK
