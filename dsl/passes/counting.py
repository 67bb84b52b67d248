"""Counting conventions: how much work a layer is, as archdsl or another tool counts it.

Tools disagree about what a network "costs" because they count different things, not
because one is wrong. Each convention here is named after what it reproduces, documented
once, and tested against that tool's own number on the zoo (tests/test_counting.py, with the
tools when installed and with stored figures without them):

- `archdsl` (the default): multiply-accumulates of conv and linear; biases, norms, pools and
  activations are free. Reproduces `torch.utils.flop_counter.FlopCounterMode` / 2.
- `torchinfo`: every parameter once per use: a conv's weights and bias at every output
  position, any other layer's parameters once (a linear's bias, a batch norm's 2 per
  channel). Reproduces torchinfo 1.8's `summary(...).total_mult_adds`.
- `fvcore`: conv and linear without bias; batch norm 2 per element (affine, eval; 1 without
  affine; 5 or 4 without running statistics); 2-D adaptive average pooling 1 per input
  element. Reproduces fvcore 0.1.5's `FlopCountAnalysis(...).total()`.
- `ptflops`: conv and linear with their bias additions; batch norm 1 per element (2 affine);
  `relu` and `leaky_relu` outputs and pooling inputs 1 per element, twice (its module hook
  and its patched `torch.nn.functional` both count them); `relu6`, `gelu` and `softmax`
  outputs once (one of the two); other kinds nothing. Reproduces ptflops 0.7's
  `get_model_complexity_info(...)` with its defaults (the pytorch backend).

docs/counting.md has the figures side by side.

The unit is MACs (as every tool above reports) or FLOPs, which are always 2 x MACs: for the
`archdsl` convention that is exactly what FlopCounterMode reports; for the others it is the
usual reading of a MAC count (a tool's element-wise "MAC" is two FLOPs too).

A convention is data: a default rule and rules per layer kind. A rule for a kind that is not
registered (yet) is harmless, so kinds added later only need their row here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import ops
from ..ir import IR

UNITS = ("macs", "flops")


@dataclass(frozen=True)
class Layer:
    """What a counting rule sees of one node: its kind, resolved arguments, input and output
    shapes (batch left out, one sample), what it holds and its MACs."""

    op: str
    family: str
    args: dict
    ins: list[tuple[int, ...]]
    out: tuple[int, ...]
    counts: ops.Counts
    macs: int

    @property
    def in_elements(self) -> int:
        return sum(math.prod(s) for s in self.ins)

    @property
    def out_elements(self) -> int:
        return math.prod(self.out)

    @property
    def positions(self) -> int:
        """Output positions per channel (a conv's H x W; 1 for a vector)."""
        return math.prod(self.out[1:])

    @property
    def bias_adds(self) -> int:
        """One addition per output element of a layer with a bias per channel."""
        return self.counts.biases * self.positions


Rule = Callable[[Layer], int]


@dataclass(frozen=True)
class Convention:
    name: str
    summary: str  # one line: what it counts
    tool: str  # the figure it reproduces
    default: Rule
    rules: dict[str, Rule] = field(default_factory=dict)

    def count(self, layer: Layer) -> int:
        return self.rules.get(layer.op, self.default)(layer)


def _macs(x: Layer) -> int:
    return x.macs


def _torchinfo(x: Layer) -> int:
    # torchinfo's LayerInfo.calculate_macs: parameters named weight/bias times the output's
    # positions (batch included) for a module whose class name holds "Conv", else times the
    # batch; archdsl's conv family is what lowers to torch's Conv classes
    return x.counts.params * (x.positions if x.family == "conv" else 1)


def _fvcore_batchnorm(x: Layer) -> int:
    if not x.args.get("track", True):  # batch statistics even in eval: its "training" count
        return x.in_elements * (5 if x.args.get("affine", True) else 4)
    return x.in_elements * (2 if x.args.get("affine", True) else 1)


def _fvcore_adaptive(x: Layer) -> int:
    # only aten::adaptive_avg_pool2d has a handle in fvcore; 1-D and 3-D are not counted
    return x.in_elements if len(x.ins[0]) == 3 else 0


def _fvcore_avgpool(x: Layer) -> int:
    # a global average pool lowers to AdaptiveAvgPool(1) (backends/torch/lowering.py)
    return _fvcore_adaptive(x) if x.args.get("global") else 0


def _macs_and_bias(x: Layer) -> int:
    return x.macs + x.bias_adds


def _twice_out(x: Layer) -> int:
    return 2 * x.out_elements


def _once_out(x: Layer) -> int:
    return x.out_elements


def _twice_in(x: Layer) -> int:
    return 2 * x.in_elements


def _ptflops_batchnorm(x: Layer) -> int:
    return x.in_elements * (2 if x.args.get("affine", True) else 1)


def _ptflops_default(x: Layer) -> int:
    return x.macs + x.bias_adds if x.family in ("conv", "linear") else 0


CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention("archdsl", "multiply-accumulates of conv and linear layers",
               "torch's FlopCounterMode / 2", _macs),
    Convention("torchinfo", "every parameter once per use (conv: at every output position)",
               "torchinfo's total mult-adds", _torchinfo),
    Convention("fvcore", "conv and linear without bias, batch norm, 2-D adaptive pooling",
               "fvcore's FlopCountAnalysis total", _macs,
               {"batchnorm": _fvcore_batchnorm, "adaptive_avgpool": _fvcore_adaptive,
                "avgpool": _fvcore_avgpool,
                "upsample": lambda x: x.out_elements * (4 if x.args.get("mode") == "bilinear"
                                                        else 1),
                "layernorm": lambda x: x.in_elements * (5 if x.args.get("affine", True) else 4),
                "groupnorm": lambda x: x.in_elements * (5 if x.args.get("affine", True) else 4)}),
    Convention("ptflops", "conv and linear with bias, norms, ReLU-family and pools (twice)",
               "ptflops' get_model_complexity_info, default backend", _ptflops_default,
               {"batchnorm": _ptflops_batchnorm, "relu": _twice_out, "leaky_relu": _twice_out,
                "relu6": _once_out, "gelu": _once_out, "softmax": _once_out,
                "maxpool": _twice_in, "avgpool": _twice_in, "adaptive_avgpool": _twice_in}),
)}


def convention(name: str) -> Convention:
    """The convention called `name`; KeyError naming the known ones otherwise."""
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise KeyError(f"no counting convention `{name}`; known: "
                       + ", ".join(CONVENTIONS)) from None


@dataclass(frozen=True)
class Work:
    """A network's work under one convention and unit: per node id, and the total over the
    layers the output depends on (as the MAC total is)."""

    convention: str
    unit: str
    per_node: dict[int, int]
    total: int

    @property
    def label(self) -> str:
        head = "FLOPs" if self.unit == "flops" else "MACs"
        return head if self.convention == "archdsl" else f"{head} ({self.convention})"


def count(ir: IR, name: str = "archdsl", unit: str = "macs") -> Work:
    """The work of every node of an analysed IR (dsl/passes/analysis.py ran) under the
    convention `name`, in `unit` ("macs" or "flops" = 2 x MACs)."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    conv = convention(name)
    scale = 2 if unit == "flops" else 1
    live = ir.live()
    per_node: dict[int, int] = {}
    total = 0
    for nid, data in ir.nodes():
        ins = [p["shape"] for p in ir.input_nodes(nid)]
        if data["shape"] is None or None in ins or data["op"] == "input":
            per_node[nid] = 0
            continue
        spec = ops.get(data["op"])
        counts = ops.Counts(data.get("weights", 0), data.get("biases", 0),
                            data.get("buffers", 0), data.get("params", 0) - data.get(
                                "trainable", 0))
        layer = Layer(data["op"], spec.family, data["args"], ins, data["shape"], counts,
                      data.get("macs", 0))
        n = conv.count(layer) * scale
        per_node[nid] = n
        total += n if nid in live else 0
    return Work(name, unit, per_node, total)
