"""Helpers the compiled module needs at construction time.

They are used by `to_torch` and copied verbatim (with `inspect.getsource`) into the standalone
source that `to_source` writes, so both build the module tree the same way. They may only use
`torch` and `nn`.
"""

import torch
from torch import nn


def place(root: nn.Module, path: str, module: nn.Module) -> None:
    """Register `module` at a dotted path such as `layer1.0.conv1`, creating plain container
    modules (`nn.Module()`) for the scopes on the way. Registration order is call order, which
    is the order of `state_dict()`."""
    *scopes, leaf = path.split(".")
    for name in scopes:
        child = root._modules.get(name)
        if child is None:
            child = nn.Module()
            root.add_module(name, child)
        root = child
    root.add_module(leaf, module)


def literal_kernel(conv: nn.Module, kernel: list, frozen: bool) -> nn.Module:
    """Load a literal kernel (one channel's numbers) into every channel of a depthwise conv's
    weight; `frozen` keeps it out of training (requires_grad False)."""
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(kernel, dtype=conv.weight.dtype).expand_as(conv.weight))
    conv.weight.requires_grad_(not frozen)
    return conv
