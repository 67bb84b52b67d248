"""Analyses of a checked IR: parameters (weights and biases apart), buffers, MACs,
activation memory, and for conv/pool chains the receptive field and effective stride.

MACs follow the reference convention: conv and linear only, one multiply-add = 1 MAC
(`torch.utils.flop_counter` FLOPs / 2). Activation memory is the float32 size of every
layer's output for one sample (the input included), what a forward pass keeps for backward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import ops
from ..ir import IR

BYTES_PER_ELEMENT = 4  # float32


@dataclass(frozen=True)
class Totals:
    params: int
    trainable_params: int
    weights: int
    biases: int
    buffers: int
    macs: int
    activation_bytes: int


def run(ir: IR) -> Totals:
    """Annotates every node with `params`, `weights`, `biases`, `buffers`, `trainable`,
    `macs`, `rf` and `jump`; returns the network's totals (over nodes with known shapes)."""
    weights = biases = buffers = frozen = macs = act = 0
    live = ir.live()  # a branch the output does not depend on never runs: no MACs in the total
    for nid, data in ir.nodes():
        spec = ops.get(data["op"])
        ins = ir.input_shapes(nid)
        shape = data["shape"]
        known = shape is not None and all(s is not None for s in ins)
        counts = spec.counts(data["args"], ins, shape) if known else ops.NO_COUNTS
        m = spec.macs(data["args"], ins, shape) if known else 0
        data.update(params=counts.params, weights=counts.weights, biases=counts.biases,
                    buffers=counts.buffers, trainable=counts.trainable, macs=m)
        _receptive_field(ir, nid, data)
        weights += counts.weights
        biases += counts.biases
        buffers += counts.buffers
        frozen += counts.frozen
        macs += m if nid in live else 0
        if shape is not None:
            act += math.prod(shape) * BYTES_PER_ELEMENT
    totals = Totals(weights + biases, weights + biases - frozen, weights, biases, buffers, macs,
                    act)
    ir.attrs["totals"] = totals
    return totals


def _receptive_field(ir: IR, nid: int, data: dict) -> None:
    """rf_out = rf_in + (F - 1) * D * jump_in; jump_out = jump_in * S (per spatial dim).

    Merges take the widest field among their inputs; layers that mix every position
    (flatten, linear, global or adaptive pooling) see the whole input (rf None)."""
    shape = data["shape"]
    if data["op"] == "input":
        n = len(shape) - 1 if shape else 0
        data["rf"], data["jump"] = ((1,) * n, (1,) * n) if n else (None, None)
        return
    preds = [ir.node(p) for p in ir.inputs(nid)]
    fields = [(p.get("rf"), p.get("jump")) for p in preds]
    if not fields or any(f[0] is None for f in fields) or shape is None:
        data["rf"], data["jump"] = None, None
        return
    if len(fields) == 1:  # the common case, without the per-dimension max
        rf, jump = fields[0]
    else:
        rf = tuple(max(f[0][i] for f in fields) for i in range(len(fields[0][0])))
        jump = tuple(max(f[1][i] for f in fields) for i in range(len(fields[0][1])))
    args = data["args"]
    op = data["op"]
    if op in ("conv", "maxpool", "avgpool") and not args.get("global"):
        k, s, d = args["kernel"], args["stride"], args.get("dilation", (1,) * len(rf))
        rf = tuple(rf[i] + (k[i] - 1) * d[i] * jump[i] for i in range(len(rf)))
        jump = tuple(jump[i] * s[i] for i in range(len(jump)))
    elif op in ("flatten", "linear", "adaptive_avgpool") or args.get("global") or \
            len(shape) - 1 != len(rf):
        data["rf"], data["jump"] = None, None
        return
    data["rf"], data["jump"] = rf, jump
