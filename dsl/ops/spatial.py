"""Shared arithmetic for sliding windows (conv and pooling): the lecture's output-size formula,
per spatial dimension, with the notes shown when it fails."""

from __future__ import annotations

from ..argspec import ArgProblem
from ..values import fmt_shape
from .registry import ShapeProblem

DIM_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def expand(value, n: int, what: str, kind: str) -> tuple[int, ...]:
    """A size given once or per dimension, made into an n-tuple."""
    if isinstance(value, str):
        return value
    if len(value) == 1:
        return tuple(value) * n
    if len(value) != n:
        dims = "x".join(DIM_NAMES[n])
        raise ShapeProblem(
            f"{kind} {what} has {len(value)} dimensions but the input has {n} spatial "
            f"dimension{'s' if n != 1 else ''} ({dims})",
            help=f"give one number or {n} (as in {'x'.join(['3'] * n)})", code="E0302")
    return tuple(value)


def spatial_rank(kind: str, shape, lo: int = 1, hi: int = 3) -> int:
    n = len(shape) - 1
    if n < lo or n > hi:
        forms = {1: "CxL", 2: "CxHxW", 3: "CxDxHxW"}
        wanted = " or ".join(forms[k] for k in range(lo, hi + 1))
        raise ShapeProblem(
            f"{kind} needs a {wanted} input, found {fmt_shape(shape)}", code="E0302",
            label=f"input has {len(shape)} dimension{'s' if len(shape) != 1 else ''}",
            help="flatten turns a volume into a vector; a sliding window needs spatial "
                 "dimensions" if len(shape) == 1 else None)
    return n


def window_out(size: int, k: int, s: int, p: int, d: int = 1, ceil: bool = False) -> int:
    """floor((W1 + 2P - D(F-1) - 1)/S) + 1, which is the lecture's (W1 - F + 2P)/S + 1 at D=1.

    In ceil mode PyTorch rounds up but drops a last window that would start in the padding.
    """
    span = size + 2 * p - d * (k - 1) - 1
    if ceil:
        out = -(-span // s) + 1
        if (out - 1) * s >= size + p:
            out -= 1
        return out
    return span // s + 1


def formula(dim: str, size: int, k: int, s: int, p: int, d: int, ceil: bool, out: int) -> str:
    rnd = "ceil" if ceil else "floor"
    if d == 1:
        return (f"{dim}2 = {rnd}(({dim}1 - F + 2P)/S) + 1 = {rnd}(({size} - {k} + 2*{p})/{s}) + 1"
                f" = {out}")
    return (f"{dim}2 = {rnd}(({dim}1 + 2P - D*(F-1) - 1)/S) + 1 = "
            f"{rnd}(({size} + 2*{p} - {d}*({k}-1) - 1)/{s}) + 1 = {out}")


def sliding_shape(kind: str, in_shape, channels: int, k, s, p, d, ceil=False):
    """Output shape of a conv/pool; raises with the arithmetic when a dimension vanishes."""
    n = len(in_shape) - 1
    dims = DIM_NAMES[n]
    out = []
    bad = []
    for i in range(n):
        o = window_out(in_shape[1 + i], k[i], s[i], p[i], d[i], ceil)
        out.append(o)
        if o < 1:
            bad.append(i)
    if bad:
        i = bad[-1]
        ext = "x".join(str(x) for x in k)
        eff = [d[j] * (k[j] - 1) + 1 for j in range(n)]
        padded = "x".join(str(in_shape[1 + j] + 2 * p[j]) for j in range(n))
        what = "kernel" if kind == "conv" else "window"
        dil = f" (dilated to {'x'.join(map(str, eff))})" if any(x != 1 for x in d) else ""
        notes = [formula(dims[j], in_shape[1 + j], k[j], s[j], p[j], d[j], ceil, out[j])
                 for j in bad]
        raise ShapeProblem(
            f"{kind} {what} {ext}{dil} does not fit in its {padded} padded input",
            notes=notes, label=f"output {'width' if dims[i] == 'W' else dims[i]} would be "
                               f"{out[i]}",
            help="pad the input (`pad=...`), use a smaller kernel, or remove a downsampling "
                 "layer before this one", code="E0301")
    return (channels, *out)


def same_padding(k, d):
    """Total padding that keeps the size at stride 1 (PyTorch pads the odd extra at the end)."""
    return tuple(d[i] * (k[i] - 1) for i in range(len(k)))


def describe_window(k, s, p, extra=()) -> str:
    def one(t):
        return str(t[0]) if len(set(t)) == 1 else "x".join(map(str, t))

    parts = ["x".join(map(str, k)), f"/{one(s)}"]
    parts.append(f"p{one(p)}" if not isinstance(p, str) else p)
    return " ".join(parts + list(extra))


def as_problem(exc: ArgProblem) -> ShapeProblem:
    return ShapeProblem(exc.message, help=exc.help, code="E0204")
