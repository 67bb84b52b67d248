"""Merges: concat (Inception) stacks channels; add (ResNet) sums equal shapes."""

from __future__ import annotations

from ..argspec import INT, ArgSpec
from ..values import fmt_shape
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
    ref = ins[0]
    if any(tuple(s) != tuple(ref) for s in ins):
        shapes = [fmt_shape(s) for s in ins]
        help_ = None
        if all(len(s) == len(ref) for s in ins):
            if any(s[0] != ref[0] for s in ins) and all(s[1:] == ref[1:] for s in ins):
                help_ = ("project the shortcut to the same channels, e.g. "
                         f"`{{ conv({max(s[0] for s in ins)}, 1x1, bias=false); batchnorm }}`")
            elif any(s[1:] != ref[1:] for s in ins):
                help_ = "give the shortcut the same stride as the main path"
        raise ShapeProblem(
            "add needs equal shapes, found " + " and ".join(shapes), code="E0305",
            inputs={i: f"gives {fmt_shape(s)}" for i, s in enumerate(ins)},
            notes=["a residual add sums element by element: channels, height and width must "
                   "all agree"], help=help_)
    return tuple(ref)


CONCAT = register(OpSpec(
    "concat", "merge",
    args=(ArgSpec("dim", INT, 0, doc="0 = channels (the batch is left out)"),),
    shape=_concat_shape, arity=(1, None),
    doc="Stacks its inputs along the channels (Inception).",
))

ADD = register(OpSpec(
    "add", "merge", shape=_add_shape, arity=(2, None),
    doc="Sums inputs of equal shape element by element (ResNet's shortcut).",
))
