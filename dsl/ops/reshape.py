"""Layers that move values without computing new ones: reshape and unflatten (a vector back to
a volume), permute and transpose, channel shuffle, pixel (un)shuffle, padding, and the mean over
chosen dimensions. Dimensions count without the batch (0 = channels), as everywhere in the
language; none has parameters."""

from __future__ import annotations

import math

from ..argspec import BOOL, DIMS, FLOAT, INT, POS_INT, ArgProblem, ArgSpec, choice
from ..values import Tensor, describe_value, fmt_shape, type_name
from .registry import OpSpec, ShapeProblem, check_dim, register
from .spatial import DIM_NAMES, spatial_rank


def INTS(v):
    """One or more integers (dims may be negative): `1`, `(1, 2, 0)`, `2x3`."""
    items = v if isinstance(v, (tuple, list)) and not isinstance(v, Tensor) else (v,)
    if not items:
        raise ArgProblem("expected one or more integers, found an empty tuple")
    out = []
    for x in items:
        if isinstance(x, bool) or not isinstance(x, int):
            raise ArgProblem(f"expected integers, found {type_name(x)} `{describe_value(x)}`")
        out.append(x)
    return tuple(out)


def NONNEG_INTS(v):
    out = INTS(v)
    if any(x < 0 for x in out):
        raise ArgProblem(f"expected sizes >= 0, found {describe_value(v)}")
    return out


def _count_note(x, shape) -> str:
    return (f"{fmt_shape(x)} holds {' * '.join(map(str, x))} = {math.prod(x)} values; "
            f"{fmt_shape(shape)} holds {' * '.join(map(str, shape))} = {math.prod(shape)}")


# ---------------------------------------------------------------- reshape / unflatten
def _reshape_shape(args, ins):
    x, shape = ins[0], tuple(args["shape"])
    if math.prod(x) != math.prod(shape):
        raise ShapeProblem(f"reshape cannot make {fmt_shape(shape)} of a {fmt_shape(x)} input",
                           code="E0321", notes=[_count_note(x, shape)],
                           help="the new shape must hold as many values as the input")
    return shape


RESHAPE = register(OpSpec(
    "reshape", "reshape",
    args=(ArgSpec("shape", DIMS, positional=True, variadic=True,
                  doc="the new shape, batch left out: 4x7x7 or 4, 7, 7"),),
    shape=_reshape_shape,
    describe=lambda a: "reshape " + fmt_shape(a["shape"]),
    aliases=("view",),
    doc="The same values in a new shape (a vector back to a volume); batch kept.",
))


def _unflatten_shape(args, ins):
    x = ins[0]
    d = check_dim("unflatten", args["dim"], x)
    sizes = tuple(args["sizes"])
    if math.prod(sizes) != x[d]:
        raise ShapeProblem(
            f"unflatten cannot split dimension {args['dim']} of size {x[d]} into "
            f"{fmt_shape(sizes)}", code="E0321",
            notes=[f"{' * '.join(map(str, sizes))} = {math.prod(sizes)}, not {x[d]}"],
            help="the sizes must multiply to the size of the dimension split")
    return (*x[:d], *sizes, *x[d + 1:])


UNFLATTEN = register(OpSpec(
    "unflatten", "reshape",
    args=(ArgSpec("sizes", DIMS, positional=True, aliases=("unflattened_size",),
                  doc="what the dimension becomes: 64x7x7"),
          ArgSpec("dim", INT, 0, doc="the dimension split; 0 = channels (batch left out)")),
    shape=_unflatten_shape,
    describe=lambda a: "unflatten " + fmt_shape(a["sizes"]),
    doc="One dimension split into several (nn.Unflatten): 3136 -> 64x7x7.",
))


# ---------------------------------------------------------------- permute / transpose
def _permute_resolve(args, ins):
    x = ins[0]
    dims = args["dims"]
    if len(dims) != len(x):
        last = ", ".join(map(str, (*range(1, len(x)), 0)))
        raise ShapeProblem(f"permute of a {fmt_shape(x)} input needs {len(x)} dims, found "
                           f"{len(dims)}", code="E0324",
                           notes=[f"dims {tuple(dims)} must order all {len(x)} dimensions "
                                  "(batch left out)"],
                           help=f"e.g. permute({last}) moves the "
                                "channels last" if len(x) > 1 else None)
    norm = tuple(check_dim("permute", d, x, "dim") for d in dims)
    if sorted(norm) != list(range(len(x))):
        raise ShapeProblem(f"permute dims {tuple(dims)} are not an order of the dimensions "
                           f"0 to {len(x) - 1}", code="E0324",
                           notes=[f"{tuple(dims)} names {sorted(norm)}; each dimension once"],
                           help="name each dimension exactly once")
    return {**args, "dims": norm}


PERMUTE = register(OpSpec(
    "permute", "reshape",
    args=(ArgSpec("dims", INTS, positional=True, variadic=True,
                  doc="the new order of the dimensions, batch left out: (1, 2, 0) or 1, 2, 0"),),
    resolve=_permute_resolve,
    shape=lambda a, ins: tuple(ins[0][d] for d in a["dims"]),
    describe=lambda a: "permute " + ",".join(map(str, a["dims"])),
    doc="Reorders the dimensions (channels-last: permute(1, 2, 0)); the batch stays first.",
))


def _transpose_shape(args, ins):
    x = list(ins[0])
    a = check_dim("transpose", args["dim0"], ins[0], "dim0")
    b = check_dim("transpose", args["dim1"], ins[0], "dim1")
    x[a], x[b] = x[b], x[a]
    return tuple(x)


TRANSPOSE = register(OpSpec(
    "transpose", "reshape",
    args=(ArgSpec("dim0", INT, positional=True), ArgSpec("dim1", INT, positional=True)),
    shape=_transpose_shape,
    describe=lambda a: f"transpose {a['dim0']},{a['dim1']}",
    doc="Swaps two dimensions (batch left out).",
))


# ---------------------------------------------------------------- shuffles
def _divides(kind, what, size, by, help):
    if size % by:
        raise ShapeProblem(f"{kind} needs {what} divisible by {by}, found {size}",
                           code="E0322", notes=[f"{size} % {by} = {size % by}"], help=help)


def _channel_shuffle_shape(args, ins):
    x = ins[0]
    if len(x) < 2:
        raise ShapeProblem(f"channel_shuffle needs channels and a map, found {fmt_shape(x)}",
                           code="E0302", help="shuffle before `flatten`")
    g = args["groups"]
    if x[0] % g:
        raise ShapeProblem(f"channel_shuffle with {g} groups needs channels divisible by {g}",
                           code="E0303", notes=[f"input channels {x[0]} % {g} = {x[0] % g}"],
                           help="choose a group count that divides the channels")
    return tuple(x)


CHANNEL_SHUFFLE = register(OpSpec(
    "channel_shuffle", "reshape",
    args=(ArgSpec("groups", POS_INT, positional=True, doc="the groups interleaved"),),
    shape=_channel_shuffle_shape,
    describe=lambda a: f"channel_shuffle {a['groups']}",
    doc="Interleaves the channels of `groups` groups (ShuffleNet).", extra={"layout": "map"},
))


def _pixel_shuffle_shape(args, ins):
    x = ins[0]
    spatial_rank("pixel_shuffle", x, 2, 2)
    r = args["factor"]
    _divides("pixel_shuffle", f"channels (a multiple of factor^2 = {r * r})", x[0], r * r,
             "the conv before it should make factor^2 times the channels wanted")
    return (x[0] // (r * r), x[1] * r, x[2] * r)


def _pixel_unshuffle_shape(args, ins):
    x = ins[0]
    spatial_rank("pixel_unshuffle", x, 2, 2)
    r = args["factor"]
    for i, name in ((1, "height"), (2, "width")):
        _divides("pixel_unshuffle", f"its {name}", x[i], r,
                 "give the input a size that the factor divides")
    return (x[0] * r * r, x[1] // r, x[2] // r)


register(OpSpec("pixel_shuffle", "reshape",
                args=(ArgSpec("factor", POS_INT, positional=True, aliases=("upscale_factor",),
                              doc="r"),),
                shape=_pixel_shuffle_shape,
                describe=lambda a: f"pixel_shuffle {a['factor']}",
                doc="(C*r*r)xHxW -> Cx(H*r)x(W*r) (sub-pixel convolution).",
                extra={"layout": "map"}))
register(OpSpec("pixel_unshuffle", "reshape",
                args=(ArgSpec("factor", POS_INT, positional=True, aliases=("downscale_factor",),
                              doc="r"),),
                shape=_pixel_unshuffle_shape,
                describe=lambda a: f"pixel_unshuffle {a['factor']}",
                doc="Cx(H*r)x(W*r) -> (C*r*r)xHxW, pixel_shuffle's inverse.",
                extra={"layout": "map"}))


# ---------------------------------------------------------------- mean over dims
def _mean_resolve(args, ins):
    x = ins[0]
    dims = tuple(sorted({check_dim("mean", d, x) for d in args["dims"]}))
    if not args["keepdim"] and len(dims) == len(x):
        raise ShapeProblem(f"mean over every dimension of {fmt_shape(x)} leaves no dimension",
                           code="E0309", help="keep one dimension, or write `keepdim=true`")
    return {**args, "dims": dims}


def _mean_shape(args, ins):
    x = ins[0]
    if args["keepdim"]:
        return tuple(1 if i in args["dims"] else s for i, s in enumerate(x))
    return tuple(s for i, s in enumerate(x) if i not in args["dims"])


MEAN = register(OpSpec(
    "mean", "pool",
    args=(ArgSpec("dims", INTS, positional=True, aliases=("dim",),
                  doc="the dimensions averaged, batch left out: (1, 2) = height and width"),
          ArgSpec("keepdim", BOOL, False, doc="keep them, of size 1")),
    resolve=_mean_resolve, shape=_mean_shape,
    describe=lambda a: "mean " + ",".join(map(str, a["dims"])),
    doc="The mean over chosen dimensions (torch.mean).", extra={"layout": "keep"},
))


# ---------------------------------------------------------------- pad
def _pad_resolve(args, ins):
    x = ins[0]
    mode = args["mode"]
    amounts = tuple(args["pad"])
    rank = len(x)
    n = rank - 1  # spatial dimensions
    if mode != "constant":
        spatial_rank(f'pad(mode="{mode}")', x)
    if mode != "constant" and args["value"] != 0:
        raise ShapeProblem('`value` is what `mode="constant"` pads with', code="E0210",
                           help="drop `value`, or use the constant mode")
    if len(amounts) == 1:
        amounts = amounts * (2 * max(n, 1))
    k = len(amounts) // 2
    limit = rank if mode == "constant" else n
    if len(amounts) % 2 or not 1 <= k <= limit or (mode != "constant" and k != n):
        forms = ("one number, or two per dimension from the last: (left, right, top, "
                 "bottom, ...)")
        need = (f"up to {2 * limit}" if mode == "constant" else f"{2 * n}")
        raise ShapeProblem(f"pad of a {fmt_shape(x)} input takes {need} amounts, found "
                           f"{len(args['pad'])}", code="E0302",
                           notes=[f"mode {mode!r} pads " + (
                               "any of the last dimensions" if mode == "constant" else
                               f"all {n} spatial dimension{'s' if n != 1 else ''}")],
                           help=f"give {forms}")
    words = {"L": "length", "D": "depth", "H": "height", "W": "width"}
    names = [words[d] for d in DIM_NAMES[n]] if 1 <= n <= 3 else []
    for j in range(k):
        dim = rank - 1 - j
        before, after = amounts[2 * j], amounts[2 * j + 1]
        size = x[dim]
        limit_ = {"reflect": size - 1, "circular": size}.get(mode)
        if limit_ is not None and max(before, after) > limit_:
            what = names[dim - 1] if dim >= 1 and names else f"dim {dim}"
            rule = "P < W" if mode == "reflect" else "P <= W"
            raise ShapeProblem(
                f"{mode} padding {max(before, after)} is too large for the input's {what} of "
                f"{size}",
                code="E0323", notes=[f"{mode} padding needs {rule}: "
                                     f"{max(before, after)} {'>=' if mode == 'reflect' else '>'}"
                                     f" {size}"],
                help='use less padding, or mode="replicate" or "constant"')
    return {**args, "pad": amounts}


def _pad_shape(args, ins):
    x = list(ins[0])
    amounts = args["pad"]
    for j in range(len(amounts) // 2):
        x[len(x) - 1 - j] += amounts[2 * j] + amounts[2 * j + 1]
    return tuple(x)


PAD = register(OpSpec(
    "pad", "reshape",
    args=(ArgSpec("pad", NONNEG_INTS, positional=True, aliases=("padding",),
                  doc="one amount for every side, or (left, right, top, bottom, ...) as "
                      "torch.nn.functional.pad"),
          ArgSpec("mode", choice("constant", "reflect", "replicate", "circular"), "constant"),
          ArgSpec("value", FLOAT, 0.0, doc="what the constant mode pads with")),
    resolve=_pad_resolve, shape=_pad_shape,
    describe=lambda a: "pad " + ",".join(map(str, a["pad"]))
    + ("" if a["mode"] == "constant" else f" {a['mode']}"),
    doc="Pads the last dimensions, per side (torch.nn.functional.pad).",
    extra={"layout": "keep"},
))
