"""Splitting: `chunk` and `split` (torch.chunk, torch.split) give several values in one line.

`[a, b] = chunk(2)` makes one IR node per piece, each with a single output: the node's
arguments say which piece it is (`piece`, `start`, `length` along `dim`), so every value is
an ordinary named tensor and every backend sees one-output nodes (torch: `torch.narrow`).
The pieces are torch's: `chunk(c)` cuts pieces of ceil(n / c) (the last smaller, and fewer
than c pieces when they run out); `split(s)` pieces of s (the last smaller); `split((s1, s2,
...))` pieces of exactly those sizes, which must add up to n.
"""

from __future__ import annotations

from ..argspec import INT, POS_INT, ArgProblem, ArgSpec
from ..values import fmt_shape
from .registry import OpSpec, ShapeProblem, dim_range, register


def _sizes(v):
    if isinstance(v, (tuple, list)):
        if not v:
            raise ArgProblem("expected a size or a tuple of sizes, found an empty tuple")
        return tuple(POS_INT(x) for x in v)
    return POS_INT(v)


_sizes.__name__ = "int or tuple of ints"


def pieces(kind: str, args: dict, n: int) -> list[tuple[int, int]]:
    """(start, length) of each piece of a dimension of size `n`, as torch cuts it."""
    step = -(-n // args["chunks"]) if kind == "chunk" else args["sizes"]
    if isinstance(step, tuple):
        if sum(step) != n:
            raise ShapeProblem(
                f"split sizes {' + '.join(map(str, step))} = {sum(step)} do not add up to the "
                f"{n} of dimension {args['dim']}", code="E0332",
                notes=["torch.split with a list of sizes needs them to sum to the dimension"],
                help=f"make the sizes add up to {n}")
        starts = [sum(step[:i]) for i in range(len(step))]
        return list(zip(starts, step, strict=True))
    return [(s, min(step, n - s)) for s in range(0, n, step)]


def _resolve(kind: str):
    def resolve(args, ins):
        x = ins[0]
        rank = len(x)
        d = args["dim"]
        if not -rank <= d < rank:
            raise ShapeProblem(f"{kind} dim={d} is out of range for its {fmt_shape(x)} input",
                               code="E0309", notes=[dim_range(rank)],
                               help="dimensions count from 0 = channels (the batch is left out)")
        d %= rank
        cuts = pieces(kind, dict(args, dim=d), x[d])
        i = args.get("piece", 0)
        start, length = cuts[min(i, len(cuts) - 1)]
        return dict(args, dim=d, pieces=len(cuts), start=start, length=length)

    return resolve


def _shape(args, ins):
    x = ins[0]
    d = args["dim"]
    return tuple(args["length"] if i == d else s for i, s in enumerate(x))


def _describe(kind: str):
    def describe(a):
        how = a.get("chunks") if kind == "chunk" else a.get("sizes")
        if isinstance(how, tuple):
            how = "(" + ", ".join(map(str, how)) + ")"
        return f"{kind} {how} [{a.get('piece', 0)}]"

    return describe


DIM = ArgSpec("dim", INT, 0, doc="0 = channels (the batch is left out)")

CHUNK = register(OpSpec(
    "chunk", "reshape",
    args=(ArgSpec("chunks", POS_INT, positional=True, doc="how many pieces (torch.chunk)"),
          DIM),
    resolve=_resolve("chunk"), shape=_shape, describe=_describe("chunk"),
    doc="Cuts its input into pieces along a dimension (torch.chunk); unpack them: "
        "`[a, b] = chunk(2)`.",
    extra={"splits": True, "layout": "keep"},
))

SPLIT = register(OpSpec(
    "split", "reshape",
    args=(ArgSpec("sizes", _sizes, positional=True, aliases=("split_size_or_sections",),
                  doc="a piece size, or the size of each piece (torch.split)"),
          DIM),
    resolve=_resolve("split"), shape=_shape, describe=_describe("split"),
    doc="Cuts its input into pieces of given sizes along a dimension (torch.split); unpack "
        "them: `[a, b] = split((16, 48))`.",
    extra={"splits": True, "layout": "keep"},
))
