"""`archdsl check FILE...`: parse and shape-check; silence and exit 0, or every error."""

from __future__ import annotations

import json
import sys

from . import SUMMARIES
from .common import EXIT_INPUT, EXIT_OK, add_target, failed, load


def add_parser(sub):
    p = sub.add_parser("check", help=SUMMARIES["check"],
                       description="Parse and shape-check each file. Prints nothing and exits 0 "
                                   "when all is well; otherwise prints every error and exits 1. "
                                   "Warnings are printed too, and fail the check only with "
                                   "--werror.")
    add_target(p, many=True)
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="json: diagnostics as a JSON list for editors and tools")
    return p


def run(args) -> int:
    status = EXIT_OK
    collected = []
    for target in args.targets:
        result = load(args, target, require_network=False)
        if args.format == "json":
            collected += [d.to_json() for d in result.diagnostics.items]
        elif result.diagnostics.items:
            from ..diagnostics import render_all

            print(render_all(result.diagnostics.items), file=sys.stderr)
        if failed(result, args.werror):
            status = EXIT_INPUT
    if args.format == "json":
        print(json.dumps(collected, indent=2))
    return status
