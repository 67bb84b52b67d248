"""Learned tensors: `scale`, an element-wise learned factor (LayerScale, a per-channel gate).

The layer holds one parameter of a given shape (by default one value per channel, Cx1x1 for a
CxHxW input), initialised to a constant, and multiplies its input by it with torch's
broadcasting. Its output has the input's shape: the parameter must broadcast into it.
"""

from __future__ import annotations

import math

from ..argspec import DIMS, FLOAT, ArgSpec
from ..values import fmt_shape
from .registry import Counts, OpSpec, ShapeProblem, register


def _resolve(args, ins):
    x = ins[0]
    shape = tuple(args["shape"]) if args["shape"] is not None else (x[0],) + (1,) * (len(x) - 1)
    # torch's broadcasting aligns the trailing dimensions; the output must stay the input's
    if len(shape) > len(x) or any(p not in (1, s) for p, s in
                                  zip(reversed(shape), reversed(x), strict=False)):
        pairs = ", ".join(f"{p} vs {s}" for p, s in zip(reversed(shape), reversed(x),
                                                         strict=False))
        raise ShapeProblem(
            f"scale of shape {fmt_shape(shape)} does not broadcast into its {fmt_shape(x)} input",
            code="E0325",
            notes=[f"broadcasting aligns the last dimensions: {pairs}; each scale size must "
                   "be 1 or equal the input's"] + (
                ["the scale may not have more dimensions than its input"]
                if len(shape) > len(x) else []),
            help=f"one factor per channel is {fmt_shape((x[0],) + (1,) * (len(x) - 1))}")
    return {**args, "shape": shape}


SCALE = register(OpSpec(
    "scale", "norm",
    args=(ArgSpec("init", FLOAT, 1.0, positional=True, doc="the initial value of every factor"),
          ArgSpec("shape", DIMS, None, doc="the parameter's shape (default Cx1x1...)")),
    resolve=_resolve,
    counts=lambda a, ins, out: Counts(math.prod(a["shape"])),
    describe=lambda a: "scale " + fmt_shape(a["shape"]) if a.get("shape") else "scale",
    aliases=("layer_scale",),
    doc="x * w: a learned factor w of a given shape, initialised to a constant.",
))
