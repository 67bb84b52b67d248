"""Regularisers that drop whole units: channel dropout for 1-D/2-D/3-D maps, alpha dropout
(for SELU networks) and stochastic depth (torchvision's `StochasticDepth`). Each is the
identity at inference and has no parameters."""

from __future__ import annotations

from ..argspec import BOOL, PROB, ArgSpec, choice
from .registry import OpSpec, register
from .spatial import spatial_rank

P = ArgSpec("p", PROB, 0.5, positional=True, doc="probability of zeroing a unit")
INPLACE = ArgSpec("inplace", BOOL, False, doc="overwrite the input (saves memory)")


def _channel_dropout(kind: str, n: int):
    def resolve(args, ins):
        spatial_rank(kind, ins[0], n, n)
        return args

    forms = {1: "CxL", 2: "CxHxW", 3: "CxDxHxW"}
    return register(OpSpec(
        kind, "dropout", args=(P, INPLACE), resolve=resolve,
        describe=lambda a: f"{kind} {a['p']:g}",
        doc=f"Zeroes whole channels of a {forms[n]} map at random while training.",
    ))


DROPOUT1D = _channel_dropout("dropout1d", 1)
DROPOUT2D = _channel_dropout("dropout2d", 2)
DROPOUT3D = _channel_dropout("dropout3d", 3)

ALPHA_DROPOUT = register(OpSpec(
    "alpha_dropout", "dropout", args=(P, INPLACE),
    describe=lambda a: f"alpha_dropout {a['p']:g}",
    doc="Dropout that keeps SELU's mean and variance (self-normalising networks).",
))

STOCHASTIC_DEPTH = register(OpSpec(
    "stochastic_depth", "dropout",
    args=(ArgSpec("p", PROB, positional=True, doc="probability of dropping the branch"),
          ArgSpec("mode", choice("row", "batch"), "row",
                  doc='"row": per sample; "batch": the whole batch at once')),
    describe=lambda a: f"stochastic_depth {a['p']:g}" + (" batch" if a["mode"] == "batch"
                                                          else ""),
    doc="Drops a residual branch at random while training, scaling the rest by 1/(1-p).",
))
