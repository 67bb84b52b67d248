"""`archdsl summary FILE|ZOO`: the per-layer table (or JSON / Markdown)."""

from __future__ import annotations

from ..summary import render
from .common import EXIT_INPUT, add_target, load, report


def add_parser(sub):
    p = sub.add_parser("summary", help="per-layer shapes, parameters and MACs",
                       description="Print one row per layer: module path, kind with K/F/S/P, "
                                   "output shape (batch left out), parameters, MACs, receptive "
                                   "field and effective stride; totals at the bottom.")
    add_target(p)
    p.add_argument("--depth", type=int, metavar="N",
                   help="collapse blocks nested deeper than N into one row each")
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    return p


def run(args) -> int:
    result = load(args, args.target)
    status = report(result)
    if result.ir is not None and "totals" in result.ir.attrs:
        print(render(result.ir, depth=args.depth, fmt=args.format))
    return status if result.ir is not None else EXIT_INPUT
