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
    specs: dict[str, ops.OpSpec] = {}  # op -> its declaration, looked up once per kind
    for nid, data in ir.nodes():
        spec = specs.get(data["op"])
        if spec is None:
            spec = specs[data["op"]] = ops.get(data["op"])
        preds = ir.input_nodes(nid)
        ins = [p["shape"] for p in preds]
        shape = data["shape"]
        known = shape is not None and None not in ins
        counts = spec.counts(data["args"], ins, shape) if known else ops.NO_COUNTS
        m = spec.macs(data["args"], ins, shape) if known else 0
        # (item by item rather than `data.update(params=...)`: no keyword dict per node)
        data["params"] = counts.params
        data["weights"] = counts.weights
        data["biases"] = counts.biases
        data["buffers"] = counts.buffers
        data["trainable"] = counts.trainable
        data["macs"] = m
        _receptive_field(data, preds)
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


# Kinds after which a position's field is not a window of the input: those that mix every
# position or rearrange them (and the upsamplers, whose stride would be a fraction).
_WHOLE = frozenset({"flatten", "linear", "adaptive_avgpool", "adaptive_maxpool", "mean",
                    "permute", "transpose", "reshape", "unflatten", "glu", "conv_transpose",
                    "pixel_shuffle"})


def _receptive_field(data: dict, preds: list[dict]) -> None:
    """rf_out = rf_in + (F - 1) * D * jump_in; jump_out = jump_in * S (per spatial dim).

    Merges take the widest field among their inputs; layers that mix every position
    (flatten, linear, global or adaptive pooling, a mean) or rearrange them (permute,
    reshape, an upsampler) leave it unknown (rf None). `preds` are
    the attributes of the node's inputs, in input order."""
    shape = data["shape"]
    if data["op"] == "input":
        n = len(shape) - 1 if shape else 0
        data["rf"], data["jump"] = ((1,) * n, (1,) * n) if n else (None, None)
        return
    if len(preds) == 1:  # the common case, without the lists and the per-dimension max
        rf, jump = preds[0].get("rf"), preds[0].get("jump")
        if rf is None or shape is None:
            data["rf"], data["jump"] = None, None
            return
    else:
        rfs = [p.get("rf") for p in preds]
        if not rfs or None in rfs or shape is None:
            data["rf"], data["jump"] = None, None
            return
        # the widest per dimension (a merge's inputs have the same rank, so their fields too)
        rf = tuple(map(max, *rfs))
        jump = tuple(map(max, *[p.get("jump") for p in preds]))
    args = data["args"]
    op = data["op"]
    if op in ("conv", "maxpool", "avgpool") and not args.get("global"):
        k, s = args["kernel"], args["stride"]
        d = args["dilation"] if "dilation" in args else (1,) * len(rf)
        # k, s and d have one entry per spatial dimension, as rf and jump do
        rf = tuple([r + (kk - 1) * dd * j for r, kk, dd, j in zip(rf, k, d, jump, strict=True)])
        jump = tuple([j * ss for j, ss in zip(jump, s, strict=True)])
    elif op == "pixel_unshuffle":  # each output position holds an r x r window, stride r
        r = args["factor"]
        rf = tuple([x + (r - 1) * j for x, j in zip(rf, jump, strict=True)])
        jump = tuple([j * r for j in jump])
    elif op in _WHOLE or args.get("global") or len(shape) - 1 != len(rf):
        data["rf"], data["jump"] = None, None
        return
    data["rf"], data["jump"] = rf, jump
