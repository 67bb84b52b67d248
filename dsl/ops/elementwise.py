"""Element-wise merges with broadcasting: mul, sub, div, max, min (and add with broadcast=true).

They follow torch's broadcasting rule on the whole tensor, batch included: the shapes are
lined up from the right and each pair of sizes must be equal or one of them 1 (the 1 is
stretched). The batch dimension is the same N for every input, so the inputs must have the
same rank (the batch lines up with the batch); a lower-rank input would put N against a
channel or a height. The note of a failure, and of nothing else, shows the rule worked through
for these shapes: which dimension, which sizes.

All are functions, not modules (`a * b`, `torch.maximum(a, b)`): no parameters; MACs are 0,
as torch's flop counter counts them.
"""

from __future__ import annotations

from ..argspec import BOOL, ArgSpec
from ..values import fmt_shape
from .registry import OpSpec, ShapeProblem, register

_DIM_NAMES = {1: ("features",), 2: ("channels", "length"), 3: ("channels", "height", "width"),
              4: ("channels", "depth", "height", "width")}


def _dim_name(rank: int, d: int) -> str:
    names = _DIM_NAMES.get(rank)
    return f"dim {d} ({names[d]})" if names else f"dim {d}"


def broadcast(kind: str, ins: list) -> tuple:
    """The shape torch's broadcasting gives `ins` (samples of equal rank), or a ShapeProblem
    naming every input and the first dimension where the sizes neither agree nor are 1."""
    rank = len(ins[0])
    shown = " and ".join(fmt_shape(s) for s in ins)
    if any(len(s) != rank for s in ins):
        raise ShapeProblem(
            f"{kind} broadcasts inputs of the same rank, found {shown}", code="E0330",
            inputs={i: f"gives {fmt_shape(s)} (rank {len(s)})" for i, s in enumerate(ins)},
            notes=["torch lines shapes up from the right, batch included: "
                   + " and ".join("Nx" + fmt_shape(s) for s in ins)
                   + " would put the batch N against a dimension of the other input"],
            help="give the smaller input singleton dimensions, e.g. `unflatten` or `reshape` "
                 "a vector of C to Cx1x1")
    steps = []
    for d in reversed(range(rank)):  # torch compares from the right
        sizes = [s[d] for s in ins]
        big = max(sizes)
        pair = f"{_dim_name(rank, d)}: " + " vs ".join(map(str, sizes))
        if any(n not in (1, big) for n in sizes):
            raise ShapeProblem(
                f"{kind} cannot broadcast {shown}", code="E0330",
                inputs={i: f"gives {fmt_shape(s)}" for i, s in enumerate(ins)},
                notes=["torch broadcasting lines the shapes up from the right ("
                       + " and ".join("Nx" + fmt_shape(s) for s in ins)
                       + "); each pair of sizes must be equal or one of them 1",
                       *steps, pair + " -> neither equal nor 1"],
                help="make the sizes agree, or make one of them 1 (a global pool gives Cx1x1)")
        steps.append(f"{pair} -> {big}")
    return tuple(max(s[d] for s in ins) for d in range(rank))


def _shape(kind: str):
    def rule(args, ins):
        return broadcast(kind, ins)

    return rule


# kind, arity, torch counterpart, doc
ELEMENTWISE = [
    ("mul", (2, None), "torch.mul", "Multiplies its inputs element by element, broadcasting "
                                    "(the gate of squeeze-and-excitation: CxHxW times Cx1x1)."),
    ("sub", (2, 2), "torch.sub", "The first input minus the second, broadcasting."),
    ("div", (2, 2), "torch.div", "The first input divided by the second, broadcasting."),
    ("max", (2, None), "torch.maximum", "The element-wise maximum of its inputs, broadcasting."),
    ("min", (2, None), "torch.minimum", "The element-wise minimum of its inputs, broadcasting."),
]

for _kind, _arity, _torch, _doc in ELEMENTWISE:
    register(OpSpec(_kind, "merge", shape=_shape(_kind), arity=_arity,
                    aliases={"max": ("maximum",), "min": ("minimum",)}.get(_kind, ()),
                    doc=f"{_doc} ({_torch})", extra={"torch": _torch}))

BROADCAST = ArgSpec("broadcast", BOOL, False,
                    doc="broadcast as mul does instead of requiring equal shapes")
