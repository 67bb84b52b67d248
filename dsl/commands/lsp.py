"""`archdsl lsp`: the language server for editors (stdio). See docs/editors.md."""

from __future__ import annotations

import sys
from dataclasses import fields

from . import SUMMARIES
from .common import EXIT_USAGE


def add_parser(sub):
    from ..elaborate import Limits

    p = sub.add_parser("lsp", help=SUMMARIES["lsp"],
                       description="Run the language server on stdin/stdout, for an editor "
                                   "to start (VS Code, Neovim, ...): diagnostics as you type, "
                                   "hover, definitions, references, symbols, completion, "
                                   "formatting, quick fixes and inlay hints. Needs the `lsp` "
                                   "extra: pip install 'archdsl[lsp]'.")
    p.add_argument("--stdio", action="store_true",
                   help="talk over stdin/stdout (the default; accepted for editors that pass it)")
    p.add_argument("-I", "--include", dest="search_path", action="append", default=[],
                   metavar="DIR", help="also look for imports in DIR (as for every command)")
    p.add_argument("--sandbox", action="store_true",
                   help="refuse imports outside each file's folder")
    p.add_argument("--check-timeout", type=float, default=10.0, metavar="S",
                   help="seconds one check may take before it is stopped (default 10; 0: "
                        "no limit)")
    p.add_argument("--debounce", type=int, default=150, metavar="MS",
                   help="milliseconds after the last keystroke before diagnostics are "
                        "published (default 150)")
    lim = p.add_argument_group("limits (the same as the other commands')")
    defaults = Limits()
    for f in fields(Limits):
        lim.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=int,
                         default=getattr(defaults, f.name), metavar="N",
                         help=f"default {getattr(defaults, f.name):,}")
    return p


def run(args) -> int:
    try:
        from ..lsp.server import serve
    except ImportError as exc:
        print(f"archdsl: error: `archdsl lsp` needs pygls and lsprotocol "
              f"({(exc.name or 'pygls').split('.')[0]} is "
              "missing): pip install 'archdsl[lsp]'", file=sys.stderr)
        return EXIT_USAGE
    from ..elaborate import Limits
    from ..lsp.analysis import Settings

    limits = Limits(**{f.name: getattr(args, f.name) for f in fields(Limits)})
    settings = Settings(search_path=tuple(args.search_path), sandbox=args.sandbox,
                        limits=limits, timeout=max(0.0, args.check_timeout))
    return serve(settings, max(0, args.debounce) / 1000)
