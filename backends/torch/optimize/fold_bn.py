"""Fold each batch norm into the conv before it (inference only).

In eval mode a batch norm is the affine map y = (x - mean) / sqrt(var + eps) * gamma + beta
per channel. After a conv, that map folds into the conv's weight and bias:

    scale = gamma / sqrt(var + eps)
    W'[c] = W[c] * scale[c]        b'[c] = (b[c] - mean[c]) * scale[c] + beta[c]

Pre: `model` is in eval mode (a module is traced into its flat fx graph
first). Post: every `call_module` batch norm whose
input is a conv used by nothing else is gone (node and module); that conv now has a bias; the
function computed is the same up to float rounding.
"""

from __future__ import annotations

import torch
from torch import fx, nn

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def fold(conv: nn.Module, bn: nn.Module) -> nn.Module:
    """A new conv computing bn(conv(x)) with bn's running statistics."""
    w = conv.weight.detach()
    scale = torch.rsqrt(bn.running_var.to(w.dtype) + bn.eps)
    shift = -bn.running_mean.to(w.dtype) * scale
    if bn.affine:
        scale = scale * bn.weight.detach()
        shift = shift * bn.weight.detach() + bn.bias.detach()
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(shift)
    out = type(conv)(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                     padding=conv.padding, dilation=conv.dilation, groups=conv.groups,
                     bias=True, padding_mode=conv.padding_mode, device=w.device, dtype=w.dtype)
    with torch.no_grad():
        out.weight.copy_(w * scale.reshape(-1, *([1] * (w.dim() - 1))))
        out.bias.copy_(bias * scale + shift)
    out.weight.requires_grad_(conv.weight.requires_grad)
    return out.eval()


def _foldable(model: fx.GraphModule, node: fx.Node) -> fx.Node | None:
    """The conv node feeding batch-norm `node`, if the pair can be folded."""
    if node.op != "call_module" or not isinstance(model.get_submodule(node.target), _NORMS):
        return None
    bn = model.get_submodule(node.target)
    if not bn.track_running_stats or bn.running_mean is None:
        return None  # batch statistics even in eval mode: not an affine map
    src = node.args[0] if len(node.args) == 1 and not node.kwargs else None
    if not isinstance(src, fx.Node) or src.op != "call_module" or len(src.users) != 1:
        return None
    return src if isinstance(model.get_submodule(src.target), _CONVS) else None


def _replace(model: nn.Module, target: str, module: nn.Module) -> None:
    parent, _, leaf = target.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, leaf, module)


def run(model: nn.Module) -> fx.GraphModule:
    if model.training:
        raise ValueError("fold_bn needs a model in eval mode (it uses the running statistics)")
    if not isinstance(model, fx.GraphModule):  # a compiled network: its flat graph
        model = fx.symbolic_trace(model)
    folded = 0
    for node in list(model.graph.nodes):
        conv_node = _foldable(model, node)
        if conv_node is None:
            continue
        conv = model.get_submodule(conv_node.target)
        _replace(model, conv_node.target, fold(conv, model.get_submodule(node.target)))
        node.replace_all_uses_with(conv_node)
        model.graph.erase_node(node)
        model.delete_submodule(node.target)
        folded += 1
    if folded:
        model.graph.lint()
        model.recompile()
    return model
