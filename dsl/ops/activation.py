"""Element-wise layers: activations, softmax, dropout, identity. None has parameters."""

from __future__ import annotations

from ..argspec import BOOL, FLOAT, INT, PROB, ArgSpec, choice
from ..values import fmt_shape
from .registry import OpSpec, ShapeProblem, dim_range, register

INPLACE = ArgSpec("inplace", BOOL, False, doc="overwrite the input (saves memory)")

for _kind, _doc in [
    ("relu", "max(0, x)"),
    ("relu6", "min(max(0, x), 6)"),
    ("tanh", "hyperbolic tangent"),
    ("sigmoid", "1 / (1 + exp(-x))"),
]:
    register(OpSpec(_kind, "activation", doc=_doc,
                    args=(INPLACE,) if _kind.startswith("relu") else ()))

register(OpSpec("gelu", "activation", doc="Gaussian error linear unit",
                args=(ArgSpec("approximate", choice("none", "tanh"), "none"),)))

register(OpSpec(
    "leaky_relu", "activation",
    args=(ArgSpec("slope", FLOAT, 0.01, positional=True, aliases=("negative_slope",)), INPLACE),
    describe=lambda a: f"leaky_relu {a['slope']:g}",
    doc="x if x > 0 else slope * x",
))


def _softmax_resolve(args, ins):
    rank = len(ins[0])
    d = args["dim"]
    if not -rank <= d < rank:
        raise ShapeProblem(f"softmax dim={d} is out of range for its {fmt_shape(ins[0])} input",
                           code="E0309", notes=[dim_range(rank)],
                           help="dimensions count from 0 = channels (the batch is left out)")
    return args


register(OpSpec(
    "softmax", "activation",
    args=(ArgSpec("dim", INT, 0, positional=True,
                  doc="the dimension that sums to 1; 0 = channels (batch left out)"),),
    resolve=_softmax_resolve,
    doc="exp(x) / sum(exp(x)) along one dimension",
))

register(OpSpec(
    "dropout", "dropout",
    args=(ArgSpec("p", PROB, 0.5, positional=True, doc="probability of zeroing a unit"), INPLACE),
    describe=lambda a: f"dropout {a['p']:g}",
    doc="Zeroes units at random while training; the identity at inference.",
))

register(OpSpec("identity", "reshape", doc="Passes its input through unchanged."))
