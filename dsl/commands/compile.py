"""`archdsl compile FILE|ZOO -o OUT.py`: standalone PyTorch source (needs only torch)."""

from __future__ import annotations

import sys

from ..extras import require
from ..fileio import OutputRefused, check_output_path, write_atomic
from . import SUMMARIES
from .common import EXIT_INPUT, EXIT_OK, UsageError, add_target, load_checked, resolve_target


def add_parser(sub):
    p = sub.add_parser("compile", help=SUMMARIES["compile"],
                       description="Write one Python file that imports only torch and defines "
                                   "an nn.Module class named after the network, with the same "
                                   "state_dict keys as `Network.to_torch()`.")
    add_target(p)
    p.add_argument("-o", "--output", metavar="OUT.py",
                   help="where to write the source (default: standard output)")
    p.add_argument("--optimize", action="store_true",
                   help="also define optimize(model) for inference: batch norms folded into "
                        "the convs before them, channels-last (the class is unchanged)")
    return p


def check_output(args, what: str) -> None:
    """Refuse a bad output path before any work: a .arch file, the input itself."""
    if args.output in (None, "-"):
        return
    try:
        check_output_path(args.output, (resolve_target(args.target)[0],))
    except OutputRefused as exc:
        raise UsageError(f"{what}: {exc}") from None


def run(args) -> int:
    require("torch", "`archdsl compile`")
    check_output(args, "compile")
    net = load_checked(args, args.target)
    if net is None:
        return EXIT_INPUT
    from ..backends.torch import to_source

    src = to_source(net, optimize=args.optimize)
    if args.output in (None, "-"):
        sys.stdout.write(src)
        return EXIT_OK
    write_atomic(args.output, src, inputs=(resolve_target(args.target)[0],))
    print(f"wrote {args.output}: {net.name} ({net.params:,} parameters) as standalone PyTorch",
          file=sys.stderr)
    return EXIT_OK
