"""Normalisation layers: batch norm (1-D/2-D/3-D by rank) and local response norm."""

from __future__ import annotations

from ..argspec import BOOL, FLOAT, NONNEG_FLOAT, POS_INT, PROB, ArgSpec
from ..values import fmt_shape
from .registry import Counts, OpSpec, ShapeProblem, register


def _bn_resolve(args, ins):
    x = ins[0]
    if len(x) > 4:
        raise ShapeProblem(f"batchnorm takes up to 3 spatial dimensions, found {fmt_shape(x)}",
                           code="E0307")
    return {**args, "features": x[0], "rank": len(x) - 1}


def _bn_counts(args, ins, out):
    c = args["features"]
    affine = c if args["affine"] else 0
    buffers = 2 * c + 1 if args["track"] else 0
    return Counts(affine, affine, buffers)


BATCHNORM = register(OpSpec(
    "batchnorm", "norm",
    args=(ArgSpec("eps", NONNEG_FLOAT, 1e-5, doc="added to the variance"),
          ArgSpec("momentum", PROB, 0.1, doc="running statistics update rate"),
          ArgSpec("affine", BOOL, True, doc="learn a scale (gamma) and shift (beta)"),
          ArgSpec("track", BOOL, True, aliases=("track_running_stats",),
                  doc="keep running mean and variance (buffers)")),
    resolve=_bn_resolve,
    counts=_bn_counts,
    describe=lambda a: "batchnorm",
    doc="Batch normalisation per channel: 2C parameters, 2C+1 buffers.",
))


def _lrn_resolve(args, ins):
    if len(ins[0]) < 2:
        raise ShapeProblem(f"local response norm needs channels and at least one spatial "
                           f"dimension, found {fmt_shape(ins[0])}", code="E0307",
                           help="lrn normalises across the channels of a map: put it after a "
                                "conv or a pool, before `flatten`")
    return args


LRN = register(OpSpec(
    "lrn", "norm",
    args=(ArgSpec("size", POS_INT, 5, positional=True, doc="channels in each neighbourhood"),
          ArgSpec("alpha", FLOAT, 1e-4), ArgSpec("beta", FLOAT, 0.75), ArgSpec("k", FLOAT, 1.0)),
    resolve=_lrn_resolve,
    describe=lambda a: f"lrn {a['size']}",
    aliases=("local_response_norm",),
    doc="Local response normalisation across channels (AlexNet, GoogLeNet).",
))
