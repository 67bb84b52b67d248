"""Convolution, 1-D/2-D/3-D by the input's rank, and the fixed-kernel form whose weights are a
literal matrix in the file (the lecture's blur, sharpen and edge detectors)."""

from __future__ import annotations

import math

from ..argspec import BOOL, DIMS, MATRIX, PAD, POS_INT, ArgSpec, either
from ..values import fmt_shape
from .registry import Counts, OpSpec, ShapeProblem, register
from .spatial import describe_window, expand, sliding_shape, spatial_rank


def _literal_shape(m) -> tuple[int, ...]:
    dims = []
    while isinstance(m, list):
        dims.append(len(m))
        m = m[0]
    return tuple(dims)


def _literal(args):
    for key in ("filters", "kernel"):
        if isinstance(args.get(key), list):
            return args[key]
    return None


def validate(args):
    lit = _literal(args)
    if lit is not None:
        if isinstance(args.get("filters"), int) and isinstance(args.get("kernel"), list):
            raise ShapeProblem(
                "a literal kernel sets the filters itself; drop the filter count",
                code="E0210", help="a literal kernel is applied to each input channel "
                "separately, so the output has as many channels as the input")
        if args.get("groups", 1) != 1:
            raise ShapeProblem("a literal kernel is applied per channel; `groups` is implied",
                               code="E0210", help="remove `groups=...`")
        return
    missing = [k for k in ("filters", "kernel") if args.get(k) is None]
    if missing:
        raise ShapeProblem(
            f"conv needs {' and '.join(f'`{m}`' for m in missing)}", code="E0203",
            help="write it as `conv(64, 3x3)`: K filters, then the F x F extent")
    if args["stride"] and args["pad"] == "same" and any(s != 1 for s in args["stride"]):
        raise ShapeProblem('`pad="same"` needs stride 1 (PyTorch pads strided convs '
                           "explicitly)", code="E0210",
                           help="give the padding as a number, e.g. pad=1 for a 3x3 kernel")


def resolve(args, ins):
    x = ins[0]
    n = spatial_rank("conv", x)
    channels = x[0]
    lit = _literal(args)
    out = dict(args)
    if lit is not None:
        kshape = _literal_shape(lit)
        if len(kshape) != n:
            raise ShapeProblem(
                f"a {len(kshape)}-D literal kernel cannot slide over a {n}-D input "
                f"{fmt_shape(x)}", code="E0310",
                help=f"write the kernel with {n} level{'s' if n != 1 else ''} of brackets")
        out.update(filters=channels, kernel=kshape, groups=channels, weights=lit,
                   bias=bool(args["bias"]) if args["bias"] is not None else False,
                   trainable=bool(args["trainable"]))
    else:
        out.update(kernel=expand(args["kernel"], n, "kernel", "conv"), weights=None,
                   bias=True if args["bias"] is None else args["bias"], trainable=True)
    out["stride"] = expand(args["stride"], n, "stride", "conv")
    out["dilation"] = expand(args["dilation"], n, "dilation", "conv")
    pad = args["pad"]
    out["pad"] = (0,) * n if pad == "valid" else expand(pad, n, "padding", "conv")
    out["in_channels"] = channels
    out["rank"] = n
    g = out["groups"]
    if channels % g or out["filters"] % g:
        raise ShapeProblem(
            f"conv with groups={g} needs input channels and filters divisible by {g}",
            notes=[f"input channels {channels} % {g} = {channels % g}, "
                   f"filters {out['filters']} % {g} = {out['filters'] % g}"],
            help="choose a group count that divides both", code="E0303")
    return out


def shape(args, ins):
    x = ins[0]
    k, s, d = args["kernel"], args["stride"], args["dilation"]
    if args["pad"] == "same":
        return (args["filters"], *x[1:])
    return sliding_shape("conv", x, args["filters"], k, s, args["pad"], d)


def counts(args, ins, out):
    k = math.prod(args["kernel"])
    weights = args["filters"] * (args["in_channels"] // args["groups"]) * k
    biases = args["filters"] if args["bias"] else 0
    frozen = 0 if args["trainable"] else weights
    return Counts(weights, biases, 0, frozen)


def macs(args, ins, out):
    return math.prod(out) * (args["in_channels"] // args["groups"]) * math.prod(args["kernel"])


def describe(args):
    k = args["kernel"]
    if isinstance(k, list) or args.get("weights") is not None:
        shape_ = k if isinstance(k, tuple) else _literal_shape(k)
        return f"conv fixed {'x'.join(map(str, shape_))}"
    extra = []
    if "dilation" in args and any(x != 1 for x in args["dilation"]):
        extra.append(f"d{args['dilation'][0]}")
    if args.get("groups", 1) != 1:
        extra.append(f"g{args['groups']}")
    k = k if isinstance(k, tuple) else (k,)
    s = args["stride"] if isinstance(args["stride"], tuple) else (args["stride"],)
    return f"conv {args['filters']} " + describe_window(k, s, args["pad"], extra)


CONV = register(OpSpec(
    "conv", "conv",
    args=(
        ArgSpec("filters", either(POS_INT, MATRIX), None, positional=True,
                doc="K: the number of filters (output channels)"),
        ArgSpec("kernel", either(DIMS, MATRIX), None, positional=True,
                doc="F: the spatial extent, `5x5` (or `5`); or a literal kernel matrix"),
        ArgSpec("stride", DIMS, (1,), aliases=("s",), doc="S: the step between windows"),
        ArgSpec("pad", PAD, (0,), aliases=("padding", "p"),
                doc='P: zero padding per side; a number, a size, "same" or "valid"'),
        ArgSpec("dilation", DIMS, (1,), doc="spacing between kernel taps"),
        ArgSpec("groups", POS_INT, 1, doc="split channels into independent groups"),
        ArgSpec("bias", either(BOOL), None, doc="add a learned bias per filter (default true)"),
        ArgSpec("trainable", BOOL, False, doc="let a literal kernel be trained (default fixed)"),
    ),
    validate=validate, resolve=resolve, shape=shape, counts=counts, macs=macs,
    describe=describe,
    doc="Convolution. W2 = floor((W1 - F + 2P)/S) + 1, D2 = K; 1-D/2-D/3-D by input rank.",
))
