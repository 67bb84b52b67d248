"""`archdsl draw FILE|ZOO -o out.svg`: the network as a Graphviz diagram.

The DOT text is made in Python (archdsl.backends.graphviz); svg, png and pdf also need
Graphviz's `dot` program. Exit codes: 0 drawn; 1 errors in the input (a partial diagram is
still written when the shape check failed part-way) or `dot` missing or failing (the message
says how to install it; `.dot` output works without it); 2 usage.
"""

from __future__ import annotations

import sys

from ..fileio import OutputRefused, write_atomic
from . import SUMMARIES
from .common import EXIT_INPUT, UsageError, add_target, load, report, resolve_target


def add_parser(sub):
    p = sub.add_parser(
        "draw", help=SUMMARIES["draw"],
        description="Draw the network: a node per layer (name, kind with K/F/S/P, parameters), "
                    "edges labelled with the tensor shape, a box per block instance, + and ‖ "
                    "for add and concat. On a shape error, draws up to the failing layer with "
                    "the error as a note. svg/png/pdf need Graphviz's `dot`; dot text does not.")
    add_target(p)
    p.add_argument("-o", "--output", metavar="FILE",
                   help="output file; the format comes from its extension (.svg .png .pdf "
                        ".dot). Without it, DOT text (or --format) goes to stdout")
    p.add_argument("--format", choices=("svg", "png", "pdf", "dot"),
                   help="output format, overriding the extension")
    p.add_argument("--depth", type=int, metavar="N",
                   help="collapse blocks at depth N (1 = top level) into one node each; "
                        "consecutive identical blocks fold into one `block × n` node")
    p.add_argument("--focus", metavar="PATH",
                   help="draw only what is inside this block or group, e.g. inception3a "
                        "(--depth then counts from it)")
    p.add_argument("--merge-chains", action="store_true",
                   help="draw conv/linear → batchnorm → activation as one node")
    p.add_argument("--rankdir", choices=("TB", "LR"), default="TB",
                   help="top to bottom (default) or left to right")
    p.add_argument("--no-shapes", dest="shapes", action="store_false",
                   help="leave the tensor shapes off the edges")
    p.add_argument("--no-params", dest="params", action="store_false",
                   help="leave the parameter counts off the nodes")
    p.add_argument("--no-title", dest="title", action="store_false",
                   help="leave out the title with the totals")
    p.add_argument("--no-legend", dest="legend", action="store_false",
                   help="leave out the colour legend")
    return p


def run(args) -> int:
    from ..backends.graphviz import DotNotFound, RenderFailed, format_of, render, to_dot

    if args.depth is not None and args.depth < 1:
        raise UsageError(f"--depth must be 1 or more, got {args.depth}")
    try:
        fmt = format_of(args.output, args.format)
    except ValueError as exc:
        raise UsageError(f"{exc} (or use --format)") from None
    if args.output is None and fmt in BINARY and _is_terminal(sys.stdout):
        raise UsageError(f"{fmt.upper()} is binary: refusing to write it to a terminal; give "
                         f"-o FILE.{fmt} or redirect the output")
    _warn_contradiction(args.output, args.format)
    result = load(args, args.target)
    status = report(result, werror=args.werror)
    if result.ir is None:
        return EXIT_INPUT  # nothing was built: no diagram to draw
    try:
        text = to_dot(result.ir, depth=args.depth, rankdir=args.rankdir, shapes=args.shapes,
                      params=args.params, merge_chains=args.merge_chains, title=args.title,
                      legend=args.legend, focus=args.focus,
                      diagnostics=result.diagnostics.items)
    except ValueError as exc:  # --focus names nothing
        raise UsageError(str(exc)) from None
    try:
        data = render(text, fmt, warn=lambda w: print(f"warning: {w}", file=sys.stderr))
    except (DotNotFound, RenderFailed) as exc:
        print(f"archdsl: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    if args.output is None:
        if fmt in ("dot", "svg"):
            sys.stdout.write(data.decode("utf-8"))
        else:
            sys.stdout.buffer.write(data)
        return status
    try:
        write_atomic(args.output, text if fmt == "dot" else data,
                     inputs=(resolve_target(args.target)[0],))
    except OutputRefused as exc:
        raise UsageError(str(exc)) from None
    if status != 0:
        print(f"note: wrote a partial diagram to {args.output} (up to the first error)",
              file=sys.stderr)
    else:
        print(f"wrote {args.output}: {result.ir.name} as {fmt.upper()}", file=sys.stderr)
    return status


BINARY = ("png", "pdf")


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _warn_contradiction(output: str | None, fmt: str | None) -> None:
    """`-o net.png --format svg` writes SVG into a `.png` file: allowed, but said."""
    import os

    from ..backends.graphviz import FORMATS

    if not output or not fmt:
        return
    ext = os.path.splitext(output)[1].lower().lstrip(".")
    ext = "dot" if ext == "gv" else ext
    if ext in FORMATS and ext != fmt:
        print(f"warning: -o {output} says .{ext} but --format {fmt} writes {fmt.upper()}; "
              f"the file will hold {fmt.upper()}", file=sys.stderr)
