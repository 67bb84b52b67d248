"""Transposed convolution (1-D/2-D/3-D by the input's rank): the decoder's way up.

PyTorch's `nn.ConvTranspose{1,2,3}d`, argument for argument. Its size rule, per spatial
dimension, is `W2 = (W1 - 1)*S - 2P + D*(F - 1) + output_pad + 1`; a failure shows it with the
numbers, as conv's shows its own.
"""

from __future__ import annotations

import math

from ..argspec import BOOL, DIMS, NONNEG_DIMS, POS_INT, ArgSpec
from .registry import Counts, OpSpec, ShapeProblem, register
from .spatial import DIM_NAMES, describe_window, expand, spatial_rank

KIND = "conv_transpose"


def transposed_out(size: int, k: int, s: int, p: int, d: int, op: int) -> int:
    """(W1 - 1)*S - 2P + D*(F - 1) + output_pad + 1."""
    return (size - 1) * s - 2 * p + d * (k - 1) + op + 1


def formula(dim: str, size: int, k: int, s: int, p: int, d: int, op: int) -> str:
    out = transposed_out(size, k, s, p, d, op)
    return (f"{dim}2 = ({dim}1 - 1)*S - 2P + D*(F - 1) + output_pad + 1 = "
            f"({size} - 1)*{s} - 2*{p} + {d}*({k} - 1) + {op} + 1 = {out}")


def resolve(args, ins):
    x = ins[0]
    n = spatial_rank(KIND, x)
    out = dict(args)
    for key, what in (("kernel", "kernel"), ("stride", "stride"), ("pad", "padding"),
                      ("dilation", "dilation"), ("output_pad", "output padding")):
        out[key] = expand(args[key], n, what, KIND)
    out["in_channels"] = x[0]
    out["rank"] = n
    g, c, f = args["groups"], x[0], args["filters"]
    if c % g or f % g:
        raise ShapeProblem(
            f"{KIND} with groups={g} needs input channels and filters divisible by {g}",
            notes=[f"input channels {c} % {g} = {c % g}, filters {f} % {g} = {f % g}"],
            help="choose a group count that divides both", code="E0303")
    for i in range(n):
        op, s, d = out["output_pad"][i], out["stride"][i], out["dilation"][i]
        if op >= max(s, d):
            raise ShapeProblem(
                f"{KIND} output padding {op} must be smaller than its stride or its dilation",
                code="E0320",
                notes=[f"PyTorch requires output_pad < max(S, D): {op} >= max({s}, {d})"],
                help="output padding picks one of the S sizes a strided conv maps to the same "
                     f"size; with stride {s} use output_pad={max(s, d) - 1} or less")
    return out


def shape(args, ins):
    x = ins[0]
    n = args["rank"]
    dims = DIM_NAMES[n]
    sizes = [transposed_out(x[1 + i], args["kernel"][i], args["stride"][i], args["pad"][i],
                            args["dilation"][i], args["output_pad"][i]) for i in range(n)]
    bad = [i for i in range(n) if sizes[i] < 1]
    if bad:
        i = bad[-1]
        raise ShapeProblem(
            f"{KIND} padding {'x'.join(map(str, args['pad']))} removes more than the "
            f"transposed convolution makes",
            notes=[formula(dims[j], x[1 + j], args["kernel"][j], args["stride"][j],
                           args["pad"][j], args["dilation"][j], args["output_pad"][j])
                   for j in bad],
            label=f"output {'width' if dims[i] == 'W' else dims[i]} would be {sizes[i]}",
            help="use less padding or a larger kernel", code="E0301")
    return (args["filters"], *sizes)


def counts(args, ins, out):
    weights = args["in_channels"] * (args["filters"] // args["groups"]) * math.prod(
        args["kernel"])
    return Counts(weights, args["filters"] if args["bias"] else 0)


def macs(args, ins, out):
    # every input value is multiplied into a kernel's worth of outputs per output channel of
    # its group (what torch's flop counter counts for a transposed conv)
    x = ins[0]
    return (math.prod(x[1:]) * args["in_channels"] * (args["filters"] // args["groups"])
            * math.prod(args["kernel"]))


def describe(args):
    def one(v):
        v = v if isinstance(v, tuple) else (v,)
        return v

    extra = []
    if any(d != 1 for d in one(args["dilation"])):
        extra.append(f"d{one(args['dilation'])[0]}")
    if args.get("groups", 1) != 1:
        extra.append(f"g{args['groups']}")
    if any(one(args["output_pad"])):
        extra.append(f"op{one(args['output_pad'])[0]}")
    return (f"conv_transpose {args['filters']} "
            + describe_window(one(args["kernel"]), one(args["stride"]), one(args["pad"]),
                              extra))


CONV_TRANSPOSE = register(OpSpec(
    KIND, "conv",
    args=(
        ArgSpec("filters", POS_INT, positional=True, doc="K: output channels"),
        ArgSpec("kernel", DIMS, positional=True, doc="F: the spatial extent, `2x2` (or `2`)"),
        ArgSpec("stride", DIMS, (1,), aliases=("s",), doc="S: the upsampling factor"),
        ArgSpec("pad", NONNEG_DIMS, (0,), aliases=("padding", "p"),
                doc="P: removed from each side of the output"),
        ArgSpec("output_pad", NONNEG_DIMS, (0,), aliases=("output_padding",),
                doc="added to one side of the output (< stride or dilation)"),
        ArgSpec("dilation", DIMS, (1,), doc="spacing between kernel taps"),
        ArgSpec("groups", POS_INT, 1, doc="split channels into independent groups"),
        ArgSpec("bias", BOOL, True, doc="add a learned bias per filter"),
    ),
    resolve=resolve, shape=shape, counts=counts, macs=macs, describe=describe,
    aliases=("deconv",),
    doc="Transposed convolution: W2 = (W1 - 1)*S - 2P + D*(F - 1) + output_pad + 1.",
))
