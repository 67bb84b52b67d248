"""Fully connected layers (over a vector, or the last dimension of a channels-last tensor)
and the reshape between a volume and a vector."""

from __future__ import annotations

import math

from ..argspec import BOOL, POS_INT, ArgSpec
from ..values import fmt_shape
from .registry import Counts, OpSpec, ShapeProblem, register


def _linear_resolve(args, ins):
    x = ins[0]
    maps = args.get("_maps", (True,))
    args = {k: v for k, v in args.items() if k != "_maps"}
    if len(x) != 1 and maps[0]:
        raise ShapeProblem(
            f"linear needs a vector, found a {fmt_shape(x)} volume", code="E0306",
            label=f"input has {len(x)} dimensions",
            notes=[f"flattening it would give {math.prod(x)} features",
                   "(linear applies over the last dimension of a tensor made channels-last "
                   "on purpose, e.g. after `permute`)"],
            help="add `flatten` before this layer")
    return {**args, "in_features": x[-1]}


LINEAR = register(OpSpec(
    "linear", "linear",
    args=(ArgSpec("features", POS_INT, positional=True, aliases=("out",),
                  doc="number of outputs"),
          ArgSpec("bias", BOOL, True, doc="add a learned bias per output")),
    resolve=_linear_resolve,
    shape=lambda a, ins: (*ins[0][:-1], a["features"]),
    counts=lambda a, ins, out: Counts(a["in_features"] * a["features"],
                                      a["features"] if a["bias"] else 0),
    macs=lambda a, ins, out: math.prod(ins[0]) * a["features"],
    extra={"layout_aware": True},
    describe=lambda a: f"linear {a['features']}",
    doc="Fully connected layer: in x out weights plus out biases; over the last dimension of a "
        "tensor that is not a feature map (after `permute`), as torch applies it.",
))

FLATTEN = register(OpSpec(
    "flatten", "reshape",
    shape=lambda a, ins: (math.prod(ins[0]),),
    doc="Volume to vector: CxHxW becomes C*H*W features.",
))
