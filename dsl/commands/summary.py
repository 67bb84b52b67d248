"""`archdsl summary FILE|ZOO`: the per-layer table (or JSON / Markdown)."""

from __future__ import annotations

import json

from ..summary import empty_json, render
from . import SUMMARIES
from .common import EXIT_INPUT, UsageError, add_target, load, report


def add_parser(sub):
    p = sub.add_parser("summary", help=SUMMARIES["summary"],
                       description="Print one row per layer: module path, kind with K/F/S/P, "
                                   "output shape (batch left out), parameters, MACs, receptive "
                                   "field and effective stride; totals at the bottom.")
    add_target(p)
    p.add_argument("--depth", type=int, metavar="N",
                   help="collapse each scope at depth N (1 = top level: `layer1`) into one row, "
                        "with everything inside it")
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table",
                   help="json: the table as data, with `partial` and the diagnostics when "
                        "the file has errors")
    return p


def run(args) -> int:
    if args.depth is not None and args.depth < 1:
        raise UsageError(f"--depth must be 1 or more, got {args.depth}")
    result = load(args, args.target)
    status = report(result)
    diags = result.diagnostics.items
    if result.ir is not None and "totals" in result.ir.attrs:
        print(render(result.ir, depth=args.depth, fmt=args.format, diagnostics=diags))
    elif args.format == "json":  # no network at all: still JSON, partial, with the errors
        print(json.dumps(empty_json(diags), indent=2))
    return status if result.ir is not None else EXIT_INPUT
