"""Normalisation layers: batch norm (1-D/2-D/3-D by rank), local response norm, group norm,
layer norm (over the last dimensions or the channels) and instance norm."""

from __future__ import annotations

import math

from ..argspec import BOOL, FLOAT, NONNEG_FLOAT, POS_INT, PROB, ArgSpec, choice
from ..values import fmt_shape
from .registry import NO_COUNTS, Counts, OpSpec, ShapeProblem, register
from .spatial import spatial_rank


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


# ---------------------------------------------------------------- group, layer, instance norm
def _groupnorm_resolve(args, ins):
    c, g = ins[0][0], args["groups"]
    if c % g:
        raise ShapeProblem(f"groupnorm with {g} groups needs channels divisible by {g}",
                           code="E0303", notes=[f"input channels {c} % {g} = {c % g}"],
                           help="choose a group count that divides the channels")
    per_group = c // g * math.prod(ins[0][1:])
    if per_group == 1:
        raise ShapeProblem(f"groupnorm with {g} groups of a {fmt_shape(ins[0])} input "
                           "normalises single values", code="E0307",
                           notes=[f"each group holds {c} / {g} channels x "
                                  f"{math.prod(ins[0][1:])} positions = 1 value, which "
                                  "normalises to 0 (and PyTorch refuses it for a batch of 1)"],
                           help="use fewer groups")
    return {**args, "features": c}


def _affine_counts(args, ins, out):
    c = args["features"]
    return Counts(c, c) if args["affine"] else NO_COUNTS


GROUPNORM = register(OpSpec(
    "groupnorm", "norm",
    args=(ArgSpec("groups", POS_INT, positional=True, aliases=("num_groups",),
                  doc="channel groups normalised together"),
          ArgSpec("eps", NONNEG_FLOAT, 1e-5, doc="added to the variance"),
          ArgSpec("affine", BOOL, True, doc="learn a scale and shift per channel")),
    resolve=_groupnorm_resolve, counts=_affine_counts,
    describe=lambda a: f"groupnorm {a['groups']}",
    doc="Group normalisation: statistics per sample over each group of channels; 2C params.",
))


def _layernorm_validate(args):
    if args["over"] == "channels" and args["dims"] != 1:
        raise ShapeProblem('`dims` counts trailing dimensions; `over="channels"` normalises the '
                           "channels alone", code="E0210", help="drop `dims`")


def _layernorm_resolve(args, ins):
    x = ins[0]
    if args["over"] == "channels":
        return {**args, "normalized": (x[0],)}
    k = args["dims"]
    if k > len(x):
        raise ShapeProblem(f"layernorm over the last {k} dimensions of a {fmt_shape(x)} input",
                           code="E0309", notes=[f"the input has {len(x)} (batch left out)"],
                           help=f"use dims={len(x)} or less")
    return {**args, "normalized": tuple(x[len(x) - k:])}


def _layernorm_counts(args, ins, out):
    n = math.prod(args["normalized"])
    if not args["affine"]:
        return NO_COUNTS
    return Counts(n, n if args["bias"] else 0)


LAYERNORM = register(OpSpec(
    "layernorm", "norm",
    args=(ArgSpec("over", choice("last", "channels"), "last",
                  doc='"last": the last `dims` dimensions, as torch\'s LayerNorm; "channels": '
                      "the channels at each position of a CxHxW map (ConvNeXt)"),
          ArgSpec("dims", POS_INT, 1, doc="how many trailing dimensions are normalised"),
          ArgSpec("eps", NONNEG_FLOAT, 1e-5, doc="added to the variance"),
          ArgSpec("affine", BOOL, True, aliases=("elementwise_affine",),
                  doc="learn a scale (and shift) per normalised element"),
          ArgSpec("bias", BOOL, True, doc="learn the shift too")),
    validate=_layernorm_validate, resolve=_layernorm_resolve, counts=_layernorm_counts,
    describe=lambda a: "layernorm" + (" channels" if a["over"] == "channels" else ""),
    doc="Layer normalisation per sample, over the last dimensions or over the channels.",
))


def _instancenorm_resolve(args, ins):
    x = ins[0]
    n = spatial_rank("instancenorm", x)
    if math.prod(x[1:]) == 1:
        raise ShapeProblem(f"instancenorm of a {fmt_shape(x)} input normalises single values",
                           code="E0307",
                           notes=["each channel of each sample has 1 position, which normalises "
                                  "to 0 (PyTorch refuses it in training)"],
                           help="normalise before the map shrinks to 1, or use batchnorm")
    return {**args, "features": x[0], "rank": n}


INSTANCENORM = register(OpSpec(
    "instancenorm", "norm",
    args=(ArgSpec("eps", NONNEG_FLOAT, 1e-5, doc="added to the variance"),
          ArgSpec("momentum", PROB, 0.1, doc="running statistics update rate"),
          ArgSpec("affine", BOOL, False, doc="learn a scale and shift per channel"),
          ArgSpec("track", BOOL, False, aliases=("track_running_stats",),
                  doc="keep running mean and variance (buffers)")),
    resolve=_instancenorm_resolve, counts=_bn_counts,
    describe=lambda a: "instancenorm",
    doc="Instance normalisation: each channel of each sample on its own; 1-D/2-D/3-D by rank.",
))
