"""Resizing: `upsample` (torch.nn.functional.interpolate) and `crop` (a centre crop).

Both can take their output size from another tensor, `like=skip`: the skip of a U-Net, the
input of a segmentation head. That tensor becomes the node's second input, and the backends
read its size at run time, so a compiled network takes other input sizes as the torch model it
mirrors does. The front end checks the sizes of the declared input.
"""

from __future__ import annotations

import math

from ..argspec import BOOL, DIMS, FLOAT, TENSOR, ArgProblem, ArgSpec, choice
from ..values import fmt_shape
from .registry import OpSpec, ShapeProblem, register
from .spatial import DIM_NAMES, expand, spatial_rank

# mode -> the spatial ranks torch accepts it for (None: any)
MODES = {"nearest": None, "nearest-exact": None, "linear": 1, "bilinear": 2, "bicubic": 2,
         "trilinear": 3, "area": None}
_ALIGNS = ("linear", "bilinear", "bicubic", "trilinear")


def _scale(v):
    """A scale factor: one positive number or one per spatial dimension."""
    vals = v if isinstance(v, (tuple, list)) else (v,)
    out = []
    for x in vals:
        x = FLOAT(x)
        if not x > 0:
            raise ArgProblem(f"a scale factor is positive, found {x:g}")
        out.append(float(x))
    return tuple(out)


_scale.__name__ = "scale (2 or 2x2)"


def _like(kind: str, args: dict, ins: list, n: int) -> tuple[int, ...]:
    ref = ins[args["like"]]
    if len(ref) != n + 1:
        raise ShapeProblem(
            f"{kind}(like=...) needs a tensor of the same rank as its input, found "
            f"{fmt_shape(ins[0])} and {fmt_shape(ref)}", code="E0302",
            inputs={0: f"gives {fmt_shape(ins[0])}", args["like"]: f"gives {fmt_shape(ref)}"},
            help="the size is read from the last dimensions of `like`, one per spatial "
                 "dimension of the input")
    return tuple(ref[1:])


def _sources(kind: str, args: dict, *names: str) -> None:
    given = [n for n in names if args.get(n) is not None]
    if len(given) != 1:
        forms = ", ".join(f"`{n}`" for n in names)
        found = ", ".join(f"`{n}`" for n in given) or "none"
        raise ShapeProblem(f"{kind} takes exactly one of {forms}, found {found}", code="E0210",
                           help=f"e.g. `{kind}({'2' if kind == 'upsample' else '64x64'})` or "
                                f"`{kind}(like=skip)`")


# ---------------------------------------------------------------- upsample
def _upsample_validate(a: dict) -> None:
    _sources("upsample", a, "scale", "size", "like")
    if a["align_corners"] is not None and a["mode"] not in _ALIGNS:
        raise ShapeProblem(f"align_corners applies to the modes {', '.join(_ALIGNS)}, not "
                           f"\"{a['mode']}\"", code="E0210",
                           help="drop align_corners, or pick a linear mode")


def _upsample_resolve(a: dict, ins):
    n = spatial_rank("upsample", ins[0])
    want = MODES[a["mode"]]
    if want is not None and want != n:
        forms = {1: "CxL", 2: "CxHxW", 3: "CxDxHxW"}
        raise ShapeProblem(f"upsample mode \"{a['mode']}\" needs a {forms[want]} input, found "
                           f"{fmt_shape(ins[0])}", code="E0302",
                           help={1: 'use mode="linear"', 2: 'use mode="bilinear"',
                                 3: 'use mode="trilinear"'}[n])
    out = dict(a, rank=n)
    if a["scale"] is not None:
        out["scale"] = expand(a["scale"], n, "scale", "upsample")
    if a["size"] is not None:
        out["size"] = expand(a["size"], n, "size", "upsample")
    return out


def _upsample_shape(a: dict, ins):
    n = a["rank"]
    x = ins[0]
    if a["like"] is not None:
        return (x[0], *_like("upsample", a, ins, n))
    if a["size"] is not None:
        return (x[0], *a["size"])
    # torch: floor(in * scale) per dimension (recompute_scale_factor=None)
    out = tuple(math.floor(w * s) for w, s in zip(x[1:], a["scale"], strict=True))
    if min(out) < 1:
        names = DIM_NAMES[n]
        raise ShapeProblem(
            f"upsample by {'x'.join(f'{s:g}' for s in a['scale'])} makes {fmt_shape(x)} empty",
            notes=[f"{d}2 = floor({d}1 * scale) = floor({w} * {s:g}) = {o}"
                   for d, w, s, o in zip(names, x[1:], a["scale"], out, strict=True)],
            help="a scale below 1 shrinks; use a pool to shrink, or a larger scale")
    return (x[0], *out)


def _upsample_describe(a: dict) -> str:
    if a.get("like") is not None:
        how = "like"
    elif a.get("size") is not None:
        how = "x".join(map(str, a["size"]))
    else:
        how = "x" + "x".join(f"{s:g}" for s in a["scale"]) if a.get("scale") else "?"
    return f"upsample {how} {a['mode']}"


UPSAMPLE = register(OpSpec(
    "upsample", "reshape",
    args=(ArgSpec("scale", _scale, None, positional=True, aliases=("scale_factor",),
                  doc="multiply each spatial size (torch's floor(in * scale))"),
          ArgSpec("size", DIMS, None, aliases=("output_size",), doc="the output's spatial size"),
          ArgSpec("like", TENSOR, None,
                  doc="take the spatial size of this tensor, read at run time"),
          ArgSpec("mode", choice(*MODES), "nearest"),
          ArgSpec("align_corners", BOOL, None,
                  doc="for linear modes, as torch (default None = false)")),
    validate=_upsample_validate, resolve=_upsample_resolve, shape=_upsample_shape,
    describe=_upsample_describe, arity=(1, 2), extra={"layout": "keep"},
    doc="Resizes the spatial dimensions (torch.nn.functional.interpolate).",
))


# ---------------------------------------------------------------- crop
def _crop_validate(a: dict) -> None:
    _sources("crop", a, "size", "like")


def _crop_resolve(a: dict, ins):
    n = spatial_rank("crop", ins[0])
    out = dict(a, rank=n)
    if a["size"] is not None:
        out["size"] = expand(a["size"], n, "size", "crop")
    return out


def _crop_shape(a: dict, ins):
    n = a["rank"]
    x = ins[0]
    size = _like("crop", a, ins, n) if a["like"] is not None else a["size"]
    names = DIM_NAMES[n]
    bad = [(d, w, c) for d, w, c in zip(names, x[1:], size, strict=True) if c > w]
    if bad:
        raise ShapeProblem(
            f"crop to {'x'.join(map(str, size))} is larger than its {fmt_shape(x)} input",
            code="E0331", inputs={0: f"gives {fmt_shape(x)}"} | (
                {a["like"]: f"gives {fmt_shape(ins[a['like']])}"} if a["like"] else {}),
            notes=[f"{d}: crop {c} > input {w}" for d, w, c in bad],
            help="a crop only removes borders: crop the larger tensor to the smaller")
    return (x[0], *size)


def _crop_describe(a: dict) -> str:
    if a.get("like") is not None:
        return "crop like"
    return "crop " + "x".join(map(str, a["size"] or ()))


CROP = register(OpSpec(
    "crop", "reshape",
    args=(ArgSpec("size", DIMS, None, positional=True, doc="the output's spatial size"),
          ArgSpec("like", TENSOR, None,
                  doc="crop to this tensor's spatial size, read at run time")),
    validate=_crop_validate, resolve=_crop_resolve, shape=_crop_shape,
    describe=_crop_describe, arity=(1, 2), extra={"layout": "keep"},
    doc="Crops the spatial dimensions around the centre: offset (in - out) // 2 before, the "
        "rest after (the valid-conv U-Net's skip; torch.narrow per dimension).",
))
