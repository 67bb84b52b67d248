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


class Scale(nn.Module):
    """`x * weight`: a learned factor of a given shape (LayerScale's gamma, a channel gate),
    every value initialised to `init`."""

    def __init__(self, shape, init=1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.full(tuple(shape), float(init)))

    def forward(self, x):
        return x * self.weight


class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth: in training, zero the input with probability `p` per
    sample (`mode="row"`) or for the whole batch (`"batch"`), scaling what survives by
    1/(1-p); the identity in eval mode or when p is 0."""

    def __init__(self, p, mode="row"):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
        if survival > 0.0:
            noise.div_(survival)
        return x * noise

    def extra_repr(self):
        return f"p={self.p}, mode={self.mode!r}"


# The channel layer norm returns its result in PyTorch's default layout, as permute and
# transpose do (lowering_source.py says why).
class ChannelLayerNorm(nn.LayerNorm):
    """Layer norm over the channels at each position of a channels-first map (N, C, *):
    torchvision's ConvNeXt `LayerNorm2d`, for any number of spatial dimensions."""

    def forward(self, x):
        n = x.ndim  # explicit orders (not movedim's -1): ONNX's Transpose takes no negatives
        x = x.permute(0, *range(2, n), 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, n - 1, *range(1, n - 1)).clone(memory_format=torch.contiguous_format)


class ChannelShuffle(nn.Module):
    """nn.ChannelShuffle as reshapes and a transpose (torchvision's `channel_shuffle`), which
    ONNX can express: the channels of `groups` groups interleaved."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        n, c = x.shape[0], x.shape[1]
        rest = x.shape[2:]
        x = x.reshape(n, self.groups, c // self.groups, *rest).transpose(1, 2)
        return x.reshape(n, c, *rest)

    def extra_repr(self):
        return f"groups={self.groups}"
