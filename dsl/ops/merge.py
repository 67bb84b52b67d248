"""Merges: concat (Inception) stacks channels; add (ResNet) sums equal shapes (or, with
`broadcast=true`, broadcasts as the element-wise merges of elementwise.py do)."""

from __future__ import annotations

from ..argspec import INT, ArgSpec
from ..values import fmt_shape
from .elementwise import BROADCAST, broadcast
from .registry import OpSpec, ShapeProblem, dim_range, register


def _concat_shape(args, ins):
    d = args["dim"]
    rank = len(ins[0])
    if any(len(s) != rank for s in ins):
        raise ShapeProblem(
            "concat needs inputs of the same rank, found "
            + ", ".join(fmt_shape(s) for s in ins), code="E0304",
            inputs={i: f"gives {fmt_shape(s)}" for i, s in enumerate(ins)})
    if not -rank <= d < rank:
        raise ShapeProblem(f"concat dim={d} is out of range for {fmt_shape(ins[0])} inputs",
                           code="E0309", notes=[dim_range(rank)],
                           help="dimensions count from 0 = channels (the batch is left out)")
    d %= rank
    ref = ins[0]
    bad = [i for i, s in enumerate(ins) if tuple(s[:d]) + tuple(s[d + 1:]) !=
           tuple(ref[:d]) + tuple(ref[d + 1:])]
    if bad:
        what = ("heights and widths" if d == 0 and rank == 3
                else "sizes outside the concat dimension")
        raise ShapeProblem(
            f"concat needs equal {what}: " + ", ".join(fmt_shape(s) for s in ins),
            code="E0304",
            inputs={i: f"gives {fmt_shape(s)}" for i, s in enumerate(ins)},
            notes=[f"concat along dimension {d} ({'channels' if d == 0 else 'dim ' + str(d)}) "
                   "keeps every other dimension"],
            help="give every branch the same stride and padding so their maps line up")
    total = sum(s[d] for s in ins)
    return tuple(total if i == d else ref[i] for i in range(rank))


def _add_shape(args, ins):
    if args.get("broadcast"):
        return broadcast("add", ins)
    ref = ins[0]
    if any(tuple(s) != tuple(ref) for s in ins):
        shapes = [fmt_shape(s) for s in ins]
        help_ = _add_help(ins) if all(len(s) == len(ref) for s in ins) else None
        raise ShapeProblem(
            "add needs equal shapes, found " + " and ".join(shapes), code="E0305",
            inputs={i: f"gives {fmt_shape(s)}" for i, s in enumerate(ins)},
            notes=["a residual add sums element by element: channels, height and width must "
                   "all agree (`add(a, b, broadcast=true)` broadcasts as torch does)"],
            help=help_)
    return tuple(ref)


def _add_help(ins) -> str | None:
    """The fix for an add of same-rank shapes, by what differs: channels, size, or both."""
    channels = len({s[0] for s in ins}) > 1
    size = len({tuple(s[1:]) for s in ins}) > 1
    width = max(s[0] for s in ins)
    stride = _stride_between(ins) if size else None
    shown = f", stride={stride}" if stride and stride > 1 else ""
    if channels and size:
        return ("the branches disagree in channels and size: project with a strided 1x1 conv, "
                f"e.g. `{{ conv({width}, 1x1{shown or ', stride=2'}, bias=false); batchnorm }}`")
    if channels:
        return ("project the shortcut to the same channels, e.g. "
                f"`{{ conv({width}, 1x1, bias=false); batchnorm }}`")
    if size:
        return "give the shortcut the same stride as the main path" + (
            f" (stride={stride})" if shown else "")
    return None


def _stride_between(ins) -> int | None:
    """The one integer factor between the largest and the smallest map, if there is one."""
    big = max(ins, key=lambda s: s[1:])[1:]
    small = min(ins, key=lambda s: s[1:])[1:]
    if any(b2 == 0 or b1 % b2 for b1, b2 in zip(big, small, strict=True)):
        return None
    factors = {b1 // b2 for b1, b2 in zip(big, small, strict=True)}
    return factors.pop() if len(factors) == 1 else None


CONCAT = register(OpSpec(
    "concat", "merge",
    args=(ArgSpec("dim", INT, 0, doc="0 = channels (the batch is left out)"),),
    shape=_concat_shape, arity=(1, None),
    doc="Stacks its inputs along the channels (Inception).",
))

ADD = register(OpSpec(
    "add", "merge", args=(BROADCAST,), shape=_add_shape, arity=(2, None),
    doc="Sums inputs of equal shape element by element (ResNet's shortcut); with "
        "`broadcast=true`, broadcasts as torch does.",
))
