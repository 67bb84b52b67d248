"""Pooling: max and average windows (ceil mode, padding, global) and adaptive average pooling."""

from __future__ import annotations

from ..argspec import BOOL, DIMS, NONNEG_DIMS, ArgSpec
from .registry import OpSpec, ShapeProblem, register
from .spatial import describe_window, expand, sliding_shape, spatial_rank

# what a window argument is when not given; with `global=true` a given one is a mistake
_WINDOW_DEFAULTS = {"kernel": None, "stride": None, "pad": (0,), "dilation": (1,), "ceil": False}


def _validate(args):
    if args.get("global"):
        given = [k for k, v in _WINDOW_DEFAULTS.items() if k in args and args[k] != v
                 and not (k == "pad" and not any(args[k]))]
        if given:
            drop = " and ".join(f"`{k}`" for k in given)
            raise ShapeProblem(f"global pooling covers the whole map; drop {drop}",
                               code="E0210", label="`global=true` sets the window",
                               help=f"remove {drop}; to pool with a window instead, "
                                    "remove `global=true`")
        return
    if args.get("kernel") is None:
        raise ShapeProblem(f"{args['_kind']} needs a window size, as in `2x2`", code="E0203",
                           help="or write `global=true` to pool over the whole map")


def _resolve(kind):
    def resolve(args, ins):
        x = ins[0]
        n = spatial_rank(kind, x)
        out = dict(args)
        out["rank"] = n
        if args.get("global"):
            out.update(kernel=tuple(x[1:]), stride=tuple(x[1:]), pad=(0,) * n,
                       dilation=(1,) * n, ceil=False)
            return out
        k = expand(args["kernel"], n, "window", kind)
        out["kernel"] = k
        out["stride"] = k if args["stride"] is None else expand(args["stride"], n, "stride",
                                                                 kind)
        out["pad"] = expand(args["pad"], n, "padding", kind)
        out["dilation"] = expand(args.get("dilation", (1,)), n, "dilation", kind)
        for i in range(n):
            # PyTorch bounds the padding by the window itself, not the dilated window
            if out["pad"][i] * 2 > k[i]:
                raise ShapeProblem(
                    f"{kind} padding {out['pad'][i]} is more than half its {k[i]}-wide window",
                    notes=[f"PyTorch requires P <= F/2: {out['pad'][i]} > {k[i]}/2"],
                    help=f"use pad={k[i] // 2} or less", code="E0308")
        if kind == "avgpool" and n == 3 and any(x[1 + i] < k[i] for i in range(n)):
            # torch's avg_pool3d alone checks the unpadded input against the window
            raise ShapeProblem(
                f"avgpool window {'x'.join(map(str, k))} is larger than its "
                f"{'x'.join(map(str, x[1:]))} input",
                notes=["PyTorch's 3-D average pooling needs the input, before padding, to be "
                       "at least as large as the window"],
                help="use a smaller window", code="E0301")
        return out

    return resolve


def _shape(kind):
    def shape(args, ins):
        x = ins[0]
        if args.get("global"):
            return (x[0],) + (1,) * args["rank"]
        return sliding_shape(kind, x, x[0], args["kernel"], args["stride"], args["pad"],
                             args["dilation"], args["ceil"])

    return shape


def _describe(kind):
    def describe(args):
        if args.get("global"):
            return f"{kind} global"
        k = args["kernel"]
        if k is None:
            return kind
        s = args["stride"] if args["stride"] is not None else k
        extra = ["ceil"] if args["ceil"] else []
        d = tuple(args.get("dilation") or (1,))
        if any(x != 1 for x in d):  # a dilated window covers more than its size says
            extra.insert(0, "d" + (str(d[0]) if len(set(d)) == 1 else "x".join(map(str, d))))
        return f"{kind} " + describe_window(k, s, args["pad"], extra)

    return describe


def _pool(kind, extra_args=(), doc=""):
    args = (
        ArgSpec("kernel", DIMS, None, positional=True, aliases=("size",),
                doc="F: the window, `2x2` (or `2`)"),
        ArgSpec("stride", DIMS, None, aliases=("s",), doc="S: defaults to the window size"),
        ArgSpec("pad", NONNEG_DIMS, (0,), aliases=("padding", "p"), doc="P: padding per side"),
        ArgSpec("ceil", BOOL, False, aliases=("ceil_mode",),
                doc="round the output size up, as Caffe does"),
        ArgSpec("global", BOOL, False, doc="pool over the whole map (output 1x1)"),
        *extra_args,
    )
    spec = OpSpec(kind, "pool", args=args, resolve=_resolve(kind), shape=_shape(kind),
                  describe=_describe(kind), doc=doc,
                  validate=lambda a, kind=kind: _validate({**a, "_kind": kind}))
    return register(spec)


MAXPOOL = _pool("maxpool", (ArgSpec("dilation", DIMS, (1,)),),
                doc="Max pooling. Output size as for conv; no parameters.")
AVGPOOL = _pool("avgpool", (ArgSpec("count_include_pad", BOOL, True),),
                doc="Average pooling. `global=true` averages the whole map.")


def _adaptive_resolve(args, ins):
    n = spatial_rank("adaptive_avgpool", ins[0])
    return {**args, "size": expand(args["size"], n, "output size", "adaptive_avgpool"),
            "rank": n}


ADAPTIVE = register(OpSpec(
    "adaptive_avgpool", "pool",
    args=(ArgSpec("size", DIMS, positional=True, aliases=("output_size",),
                  doc="the output's spatial size, `7x7` or `1`"),),
    resolve=_adaptive_resolve,
    shape=lambda a, ins: (ins[0][0], *a["size"]),
    describe=lambda a: "adaptive_avgpool " + "x".join(map(str, a["size"])),
    doc="Average pooling to a fixed output size, whatever the input size.",
))


def _adaptive_max_resolve(args, ins):
    n = spatial_rank("adaptive_maxpool", ins[0])
    return {**args, "size": expand(args["size"], n, "output size", "adaptive_maxpool"),
            "rank": n}


ADAPTIVE_MAX = register(OpSpec(
    "adaptive_maxpool", "pool",
    args=(ArgSpec("size", DIMS, positional=True, aliases=("output_size",),
                  doc="the output's spatial size, `7x7` or `1`"),),
    resolve=_adaptive_max_resolve,
    shape=lambda a, ins: (ins[0][0], *a["size"]),
    describe=lambda a: "adaptive_maxpool " + "x".join(map(str, a["size"])),
    doc="Max pooling to a fixed output size, whatever the input size.",
))
