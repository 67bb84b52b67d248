"""Memory estimate of a network for a batch: weights, gradients, optimizer state and
activations, for training and for inference. Arithmetic on the checked IR (float32, 4 bytes
an element), before anything is allocated; the front end never imports torch for it.

- **parameters**: every parameter, 4 bytes; **buffers**: running statistics (batch norm's
  `num_batches_tracked` is an int64, 8 bytes).
- **gradients** (training): one float32 per trainable parameter (`param.grad`).
- **optimizer state** (training), as torch.optim keeps it after its first step: `sgd` none;
  `momentum` (SGD with momentum) one buffer per trainable parameter; `adam` / `adamw` two
  (`exp_avg`, `exp_avg_sq`) and a float32 `step` per parameter tensor.
- **activations**: training keeps every layer's output of the batch for the backward pass
  (what torchinfo and archdsl's summary count; autograd's real saving differs by kind, within
  the same order); inference needs only the tensors alive at once, the peak over the layers in
  order of a value from the layer that makes it to the last layer that reads it.
- torchinfo's own "forward/backward pass size" is also given: twice (output and its gradient)
  the outputs of the layers that have parameters.

tests/torch/test_memory.py measures parameters, gradients and optimizer state in torch, and
compares the activations with torchinfo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..ir import IR

FLOAT = 4  # bytes of a float32
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")


@dataclass(frozen=True)
class Memory:
    batch: int
    optimizer: str
    parameters: int
    buffers: int
    gradients: int
    optimizer_state: int
    input: int
    activations_training: int
    activations_inference: int
    torchinfo_forward_backward: int

    @property
    def training(self) -> int:
        return (self.parameters + self.buffers + self.gradients + self.optimizer_state
                + self.input + self.activations_training)

    @property
    def inference(self) -> int:
        return self.parameters + self.buffers + self.activations_inference

    def to_json(self) -> dict:
        return {"batch": self.batch, "optimizer": self.optimizer,
                "parameters": self.parameters, "buffers": self.buffers,
                "gradients": self.gradients, "optimizer_state": self.optimizer_state,
                "input": self.input, "activations_training": self.activations_training,
                "activations_inference": self.activations_inference,
                "torchinfo_forward_backward": self.torchinfo_forward_backward,
                "training": self.training, "inference": self.inference}


def estimate(ir: IR, batch: int = 1, optimizer: str = "adam") -> Memory:
    """The estimate for an analysed IR (dsl/passes/analysis.py ran)."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {optimizer!r}")
    if batch < 1:
        raise ValueError(f"batch must be 1 or more, not {batch}")
    params = trainable = buffers = tensors = norms = 0
    outputs = with_params = 0
    for _nid, data in ir.nodes():
        params += data.get("params", 0)
        trainable += data.get("trainable", 0)
        buffers += data.get("buffers", 0)
        if data["op"] == "batchnorm" and data.get("buffers"):
            norms += 1  # num_batches_tracked: an int64 counted as one element
        if data.get("trainable"):
            # parameter tensors: a weight and a bias where there is one
            tensors += (data.get("weights", 0) > 0) + (data.get("biases", 0) > 0)
        if data["shape"] is not None and data["op"] != "input":
            n = math.prod(data["shape"])
            outputs += n
            with_params += n if data.get("params") else 0
    state = {"sgd": 0, "momentum": trainable * FLOAT,
             "adam": 2 * trainable * FLOAT + tensors * FLOAT}
    state["adamw"] = state["adam"]
    in_shape = ir.node(ir.input)["shape"] if ir.input is not None else None
    input_bytes = batch * math.prod(in_shape) * FLOAT if in_shape else 0
    return Memory(batch, optimizer, params * FLOAT, buffers * FLOAT + norms * (8 - FLOAT),
                  trainable * FLOAT, state[optimizer], input_bytes,
                  batch * outputs * FLOAT, batch * _peak(ir) * FLOAT,
                  2 * batch * with_params * FLOAT)


def _peak(ir: IR) -> int:
    """The most elements alive at once in a forward pass without gradients: node by node in
    order, a value lives from the node that makes it until the last node that reads it (the
    network's output until the end). Views (`flatten`, `identity`) are counted as copies: an
    upper bound."""
    last: dict[int, int] = {}
    order = [nid for nid, _ in ir.nodes()]
    for nid in order:
        for src in ir.inputs(nid):
            last[src] = max(last.get(src, nid), nid)
    size = {nid: math.prod(d["shape"]) if d["shape"] is not None else 0 for nid, d in ir.nodes()}
    alive: set[int] = set()
    peak = 0
    for nid in order:
        alive.add(nid)
        peak = max(peak, sum(size[n] for n in alive))
        alive -= {n for n in list(alive) if last.get(n, -1) <= nid and n != ir.output}
    return peak
