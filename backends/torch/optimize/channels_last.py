"""Lay 4-D tensors out channels-last (NHWC): conv weights, and the input as it arrives.

oneDNN's CPU convolutions (and cuDNN's tensor-core kernels) run NHWC natively; with both the
weights and the input in that layout, every conv, batch norm, pool and elementwise op keeps it,
and no layout conversion happens inside the network. Flatten and linear work on any layout.

Pre: an fx GraphModule. Post: same function; parameters and buffers of rank 4 are
channels-last, and a 4-D input is made channels-last before the first layer (other inputs pass
unchanged).
"""

from __future__ import annotations

import torch
from torch import fx


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """`x` in NHWC layout if it is 4-D, else `x` itself."""
    return x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x


def run(model: fx.GraphModule) -> fx.GraphModule:
    model.to(memory_format=torch.channels_last)
    graph = model.graph
    for ph in [n for n in graph.nodes if n.op == "placeholder"]:
        with graph.inserting_after(ph):
            conv = graph.call_function(to_channels_last, (ph,))
        ph.replace_all_uses_with(conv, delete_user_cb=lambda user, c=conv: user is not c)
    graph.lint()
    model.recompile()
    return model
