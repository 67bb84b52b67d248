"""Element-wise layers: activations, softmax, dropout, identity. None has parameters."""

from __future__ import annotations

from ..argspec import BOOL, FLOAT, INT, POS_INT, PROB, ArgSpec, choice
from ..values import fmt_shape
from .registry import Counts, OpSpec, ShapeProblem, check_dim, dim_range, register

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

register(OpSpec("identity", "reshape", doc="Passes its input through unchanged.",
                extra={"layout": "keep"}))


# ---------------------------------------------------------------- the modern activations
for _kind, _doc in [
    ("silu", "x * sigmoid(x) (swish)"),
    ("hardswish", "x * relu6(x + 3) / 6 (MobileNetV3)"),
    ("hardsigmoid", "relu6(x + 3) / 6"),
    ("mish", "x * tanh(softplus(x))"),
    ("selu", "scale * elu(x, alpha) with SELU's fixed constants"),
]:
    register(OpSpec(_kind, "activation", doc=_doc, args=(INPLACE,),
                    aliases=("swish",) if _kind == "silu" else ()))

ALPHA = ArgSpec("alpha", FLOAT, 1.0, positional=True, doc="the negative saturation value")
register(OpSpec("elu", "activation", args=(ALPHA, INPLACE),
                describe=lambda a: "elu" if a["alpha"] == 1.0 else f"elu {a['alpha']:g}",
                doc="x if x > 0 else alpha * (exp(x) - 1)"))


def _celu_validate(args):
    if args["alpha"] == 0:
        raise ShapeProblem("celu's alpha cannot be 0 (it divides by alpha)", code="E0210",
                           help="use a non-zero alpha, e.g. the default 1.0")


register(OpSpec("celu", "activation", args=(ALPHA, INPLACE), validate=_celu_validate,
                describe=lambda a: "celu" if a["alpha"] == 1.0 else f"celu {a['alpha']:g}",
                doc="max(0, x) + min(0, alpha * (exp(x / alpha) - 1))"))

register(OpSpec(
    "softplus", "activation",
    args=(ArgSpec("beta", FLOAT, 1.0, positional=True, doc="sharpness"),
          ArgSpec("threshold", FLOAT, 20.0, doc="above beta * x > threshold, the identity")),
    describe=lambda a: "softplus" if a["beta"] == 1.0 else f"softplus {a['beta']:g}",
    doc="log(1 + exp(beta * x)) / beta",
))


def _hardtanh_validate(args):
    lo, hi = args["min"], args["max"]
    if not lo < hi:
        raise ShapeProblem(f"hardtanh needs min < max, found min={lo:g}, max={hi:g}",
                           code="E0210", help="swap them, or widen the range")


register(OpSpec(
    "hardtanh", "activation",
    args=(ArgSpec("min", FLOAT, -1.0, positional=True, aliases=("min_val",)),
          ArgSpec("max", FLOAT, 1.0, positional=True, aliases=("max_val",)), INPLACE),
    validate=_hardtanh_validate,
    describe=lambda a: f"hardtanh {a['min']:g}..{a['max']:g}",
    doc="min(max(x, min), max)",
))


def _dim_resolve(kind):
    def resolve(args, ins):
        check_dim(kind, args["dim"], ins[0])
        return args

    return resolve


register(OpSpec(
    "log_softmax", "activation",
    args=(ArgSpec("dim", INT, 0, positional=True,
                  doc="the dimension normalised; 0 = channels (batch left out)"),),
    resolve=_dim_resolve("log_softmax"),
    doc="log(softmax(x)) along one dimension, computed stably",
))


def _prelu_validate(args):
    if args["per_channel"] and args["num_parameters"] not in (None, 1):
        raise ShapeProblem("give either `per_channel=true` or `num_parameters`, not both",
                           code="E0210", help="`per_channel=true` is num_parameters = channels")


def _prelu_resolve(args, ins):
    c = ins[0][0]
    n = c if args["per_channel"] else (args["num_parameters"] or 1)
    if n not in (1, c):
        raise ShapeProblem(
            f"prelu has {n} parameters, but its input has {c} channels",
            code="E0303", notes=[f"PyTorch's PReLU learns 1 slope, or one per channel ({c})"],
            help="use `num_parameters=1` or `per_channel=true`")
    return {**args, "num_parameters": n}


register(OpSpec(
    "prelu", "activation",
    args=(ArgSpec("num_parameters", POS_INT, None, doc="1, or the number of channels"),
          ArgSpec("init", FLOAT, 0.25, doc="the initial slope"),
          ArgSpec("per_channel", BOOL, False, doc="learn one slope per channel")),
    validate=_prelu_validate, resolve=_prelu_resolve,
    counts=lambda a, ins, out: Counts(a["num_parameters"]),
    describe=lambda a: "prelu" + (f" x{a['num_parameters']}"
                                  if a.get("num_parameters", 1) not in (None, 1) else ""),
    doc="x if x > 0 else a * x, the slope a learned (one, or one per channel)",
))


def _glu_shape(args, ins):
    x = ins[0]
    d = check_dim("glu", args["dim"], x)
    if x[d] % 2:
        raise ShapeProblem(f"glu halves dimension {args['dim']}, which has an odd size {x[d]}",
                           code="E0322", notes=[f"{x[d]} % 2 = 1"],
                           help="give that dimension an even size, e.g. with the layer before")
    return tuple(s // 2 if i == d else s for i, s in enumerate(x))


register(OpSpec(
    "glu", "activation",
    args=(ArgSpec("dim", INT, -1, positional=True, doc="the dimension halved (default last)"),),
    shape=_glu_shape,
    describe=lambda a: "glu" if a["dim"] == -1 else f"glu dim {a['dim']}",
    doc="a * sigmoid(b), where a and b are the two halves of `dim`",
))
