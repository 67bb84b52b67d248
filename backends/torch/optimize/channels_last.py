"""Lay 2-D convolutions out channels-last (NHWC), where that is known to compute the same thing.

oneDNN's CPU convolutions (and cuDNN's tensor-core kernels) run NHWC natively: with a conv's
weight channels-last, the conv takes and gives NHWC tensors, and the batch norms, pools and
element-wise layers after it keep that layout, so no reorder happens between layers.

Not every conv. PyTorch's CPU channels-last path (oneDNN 3.x, torch 2.x) is wrong for some
configurations, found by the search in tests/optimize/test_channels_last_safety.py:

- padding at least as wide as the dilated kernel (so a window can lie in the padding alone),
  with a stride above 1 on a width of 1 or 2, reads out of bounds (segfaults, batch >= 2):
  `conv(2, 1x1, stride=1x2, pad=(0, 1), dilation=2)` on 2x1x1;
- one input channel, a one-wide output and a stride above 1 along it gives wrong numbers
  (off by 1 to 10^12): `conv(5, 4x3, stride=1x2, pad=1)` on 1x15x2.

So a conv is converted only inside a region where no disagreement was ever found
(`channels_last_safe`): a 2-D conv with at least two input channels whose padding in each
dimension is at most half its dilated kernel extent minus one (2P <= D(F-1): every window's
centre lies in the input, as in every conv of the zoo, `pad="same"` and `"valid"`). The rule
reads no input size, so it holds at every size the model is later run at. Every other 2-D conv
gets its input restrided to the default layout (`to_contiguous`, a no-op when it already has
it; found by tests/fuzz/valid.py: a 1x1 map after a channels-last layer passed `.contiguous()`
unchanged and segfaulted the next conv) and keeps its contiguous weight, so it runs PyTorch's
default kernel whatever layout reaches it.

Pre: an fx GraphModule. Post: the same function; each safe Conv2d is replaced by a copy with a
channels-last weight (the module it had may be shared with the model that was traced, which is
left as it was), each Conv2d's input is converted to the layout its weight has; other tensors
are unchanged.
"""

from __future__ import annotations

import torch
from torch import fx, nn

from .fold_bn import _replace


def channels_last_safe(conv: nn.Module) -> bool:
    """Whether PyTorch's channels-last kernels compute `conv` exactly: a 2-D conv with two or
    more input channels and 2P <= D(F-1) in each dimension (elsewhere they can crash or give
    wrong numbers on CPU)."""
    if type(conv) is not nn.Conv2d or conv.in_channels < 2 or conv.padding_mode != "zeros":
        return False
    if isinstance(conv.padding, str):  # "valid": none; "same": D(F-1) in all, half each side
        return True
    return all(2 * p <= d * (k - 1) for p, d, k in
               zip(conv.padding, conv.dilation, conv.kernel_size, strict=True))


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """`x` in NHWC layout if it is 4-D, else `x` itself."""
    return x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x


def to_contiguous(x: torch.Tensor) -> torch.Tensor:
    """`x` with the default (NCHW) strides. Not `x.contiguous()`: where sizes of 1 make a
    channels-last tensor count as contiguous (2x9x1x1 with strides 9, 1, 9, 9), that returns it
    as it is, and PyTorch still picks its channels-last kernel for it."""
    strides, step = [], 1
    for size in reversed(x.shape):
        strides.insert(0, step)
        step *= max(size, 1)
    return x if list(x.stride()) == strides else x.clone(memory_format=torch.contiguous_format)


def channels_last_copy(conv: nn.Module) -> nn.Module:
    """A new conv with `conv`'s settings and bias and a channels-last copy of its weight.
    `conv` itself is left as it is: it may belong to the model that was traced too, which must
    keep running as before (a channels-last weight there would send the model's unsafe convs
    down the channels-last path)."""
    new = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                    padding=conv.padding, dilation=conv.dilation, groups=conv.groups,
                    bias=False, padding_mode=conv.padding_mode, device="meta")
    new.weight = nn.Parameter(conv.weight.detach().contiguous(memory_format=torch.channels_last),
                              requires_grad=conv.weight.requires_grad)
    new.bias = conv.bias
    return new.train(conv.training)


def run(model: nn.Module) -> fx.GraphModule:
    if not isinstance(model, fx.GraphModule):  # a compiled network: its flat graph
        model = fx.symbolic_trace(model)
    graph = model.graph
    convs = [n for n in graph.nodes if n.op == "call_module"
             and type(model.get_submodule(n.target)) is nn.Conv2d]
    safe = {n for n in convs if channels_last_safe(model.get_submodule(n.target))}
    if not safe:
        return model  # no channels-last tensor anywhere: nothing to guard either
    for node in convs:
        if node in safe:
            _replace(model, node.target, channels_last_copy(model.get_submodule(node.target)))
        layout = to_channels_last if node in safe else to_contiguous
        with graph.inserting_before(node):
            fixed = graph.call_function(layout, (node.args[0],))
        node.replace_input_with(node.args[0], fixed)
    graph.lint()
    model.recompile()
    return model
