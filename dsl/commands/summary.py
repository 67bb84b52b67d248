"""`archdsl summary FILE|ZOO`: the per-layer table (or JSON / Markdown)."""

from __future__ import annotations

import json

from ..passes.counting import CONVENTIONS, UNITS, count
from ..passes.memory import OPTIMIZERS, estimate
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
    c = p.add_argument_group("counting (docs/counting.md)")
    c.add_argument("--convention", choices=tuple(CONVENTIONS), default="archdsl",
                   help="what the work column counts: archdsl (conv and linear MACs, "
                        "FlopCounterMode / 2; the default), or the figure torchinfo, fvcore or "
                        "ptflops gives")
    c.add_argument("--unit", choices=UNITS, default="macs",
                   help="MACs (multiply-accumulates) or FLOPs (2 x MACs)")
    c.add_argument("--memory", action="store_true",
                   help="add the memory estimate: parameters, gradients, optimizer state and "
                        "activations, for training and inference")
    c.add_argument("--batch", type=int, metavar="N",
                   help="batch size of the memory estimate (default 1; implies --memory)")
    c.add_argument("--optimizer", choices=OPTIMIZERS,
                   help="optimizer of the memory estimate: sgd (no state), momentum (SGD with "
                        "momentum), adam or adamw (default adam; implies --memory)")
    return p


def run(args) -> int:
    if args.depth is not None and args.depth < 1:
        raise UsageError(f"--depth must be 1 or more, got {args.depth}")
    if args.batch is not None and args.batch < 1:
        raise UsageError(f"--batch must be 1 or more, got {args.batch}")
    result = load(args, args.target)
    status = report(result, werror=args.werror)
    diags = result.diagnostics.items
    if result.ir is not None and "totals" in result.ir.attrs:
        ir = result.ir
        custom = (args.convention, args.unit) != ("archdsl", "macs")
        work = count(ir, args.convention, args.unit) if custom else None
        memory = None
        if args.memory or args.batch is not None or args.optimizer is not None:
            memory = estimate(ir, args.batch or 1, args.optimizer or "adam")
        print(render(ir, depth=args.depth, fmt=args.format, diagnostics=diags, work=work,
                     memory=memory))
    elif args.format == "json":  # no network at all: still JSON, partial, with the errors
        print(json.dumps(empty_json(diags), indent=2))
    return status if result.ir is not None else EXIT_INPUT
