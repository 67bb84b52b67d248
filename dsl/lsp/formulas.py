"""The size arithmetic of one checked layer, with its own numbers, for the hover: the lecture's
W2 = floor((W1 - F + 2P)/S) + 1 for a conv or a pool (the same `formula` the shape rules print
when they fail), the channel sum of a concat, the features of a flatten, the weights of a
linear or a conv. One entry per family or kind, like the backends' tables; a kind not listed
(a custom one) shows no formula."""

from __future__ import annotations

import math
from collections.abc import Callable

from ..ops.spatial import DIM_NAMES, formula
from ..values import fmt_shape

Lines = list[str]


def _num(n: int) -> str:
    return f"{n:,}"


def _window(data: dict, ins: list) -> Lines:
    args, out = data["args"], data["shape"]
    x = ins[0]
    if args.get("global"):
        return [f"global: one window over the whole {'x'.join(map(str, x[1:]))} map, so "
                f"{fmt_shape(out)}"]
    k, s = args.get("kernel"), args.get("stride")
    if not isinstance(k, tuple) or not isinstance(s, tuple):
        return []
    n = len(x) - 1
    names = DIM_NAMES.get(n)
    if names is None or len(k) != n:
        return []
    pad = args.get("pad")
    if pad == "same":
        return [f'{d}2 = {d}1 = {x[1 + i]} (pad="same", stride 1)' for i, d in enumerate(names)]
    d = args.get("dilation") or (1,) * n
    ceil = bool(args.get("ceil"))
    return [formula(names[i], x[1 + i], k[i], s[i], pad[i], d[i], ceil, out[1 + i])
            for i in range(n)]


def _conv(data: dict, ins: list) -> Lines:
    args = data["args"]
    lines = _window(data, ins)
    k = args["kernel"]
    g = args.get("groups", 1)
    c = args["in_channels"]
    kernel = "*".join(map(str, k))
    per = f"({c}/{g})" if g != 1 else f"{c}"
    weights = args["filters"] * (c // g) * math.prod(k)
    lines.append(f"D2 = K = {args['filters']}")
    bias = f" + {args['filters']}" if args.get("bias") else ""
    total = weights + (args["filters"] if bias else 0)
    if total == data.get("params"):  # never show a number the analysis disagrees with
        lines.append(f"params = K*C*F{'' if not bias else ' + K'} = {args['filters']}*{per}*"
                     f"{kernel}{bias} = {_num(total)}"
                     + ("" if args.get("trainable", True) else " (fixed, not trained)"))
    return lines


def _adaptive(data: dict, ins: list) -> Lines:
    size = data["args"].get("size")
    return [f"adaptive: the output size is given, {'x'.join(map(str, size))}, whatever the "
            f"input's ({'x'.join(map(str, ins[0][1:]))})"] if size else []


def _linear(data: dict, ins: list) -> Lines:
    a = data["args"]
    i, o = a["in_features"], a["features"]
    bias = f" + {o}" if a.get("bias") else ""
    total = i * o + (o if bias else 0)
    lines = [f"out = features = {o}"]
    if total == data.get("params"):
        lines.append(f"params = in*out{' + out' if bias else ''} = {i}*{o}{bias} = {_num(total)}")
    return lines


def _flatten(data: dict, ins: list) -> Lines:
    x = ins[0]
    return [f"features = {'*'.join(map(str, x))} = {_num(math.prod(x))}"]


def _concat(data: dict, ins: list) -> Lines:
    d = data["args"].get("dim", 0) % len(ins[0])
    what = "C" if d == 0 else f"dim {d}"
    return [f"{what} = " + " + ".join(str(s[d]) for s in ins) + f" = {data['shape'][d]}"]


def _add(data: dict, ins: list) -> Lines:
    return [f"{len(ins)} inputs of {fmt_shape(ins[0])}, summed element by element"]


def _norm(data: dict, ins: list) -> Lines:
    f = data["args"].get("features")
    if isinstance(f, int) and data.get("params") == 2 * f and f:
        return ["same shape as its input", f"params = 2*C = 2*{f} = {_num(2 * f)} (scale and "
                "shift per channel)"]
    return ["same shape as its input"]


_BY_KIND: dict[str, Callable[[dict, list], Lines]] = {
    "conv": _conv, "maxpool": _window, "avgpool": _window, "adaptive_avgpool": _adaptive,
    "linear": _linear, "flatten": _flatten, "concat": _concat, "add": _add,
    "batchnorm": _norm,
}
_SAME = ("activation", "dropout", "norm")


def size_formula(op: str, family: str, data: dict, ins: list) -> Lines:
    """The lines of arithmetic for one layer (node attributes `data`, input shapes `ins`)."""
    if data.get("shape") is None or not ins or any(x is None for x in ins):
        return []
    rule = _BY_KIND.get(op)
    try:
        if rule is not None:
            return rule(data, ins)
    except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError):
        return []  # arguments of an unexpected form (a custom registration): no formula
    if family in _SAME and tuple(data["shape"]) == tuple(ins[0]):
        return ["same shape as its input"]
    return []
