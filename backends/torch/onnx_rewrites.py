"""Modules exported in place of layers whose direct export ONNX (or onnxruntime) gets wrong.

Each rewrite computes exactly what the layer computes at the network's declared input size,
with the same parameters (the same `Parameter` objects, under the same names, so the file's
initializers keep their `state_dict` names). Modules are swapped in for the export
(`swaps`); pools are patched in the exported file (`patch_pools`):

- a ceil-mode pool whose last window would start in the right padding: PyTorch drops that
  window, ONNX's shape rule (`ceil((W + 2P - D(F-1) - 1)/S) + 1`, before opset 22) keeps it,
  so the file declared a 4x4 output that onnxruntime computes as 3x3 (and a `linear` after it
  did not load). PyTorch's size is then exactly the floor-mode size (a window is dropped only
  when the division is not exact, where ceil = floor + 1); the pool node's `ceil_mode` and
  `pads` give PyTorch's windows (`ceil_pool_fix`). Where floor mode states them in PyTorch
  itself (symmetric padding; a max pool after an explicit -inf pad) that pool is swapped in
  before the export (`pool_swap`), so that torch.onnx never sees ONNX's sizes; otherwise the
  pool node is rewritten in the file and the shapes inferred again;
- a conv with `pad="same"`: torch.onnx writes `auto_pad=SAME_UPPER`, which onnxruntime refuses
  with a dilation; it is exported with explicit padding (an extra `Pad` when the total is
  odd, which PyTorch puts at the end);
- `unflatten` and `pixel_unshuffle`: torch.onnx exports them as reshapes to computed shapes
  and forgets the sizes of the result, so a later layer that reads them (a channel shuffle,
  an LRN, an instance norm) failed; at a fixed input size they become reshapes of known sizes;
- an instance norm without an affine map, for the same reason as a batch norm's below;
- a batch norm without running statistics (`track=false`) normalises with the batch's own
  statistics in eval mode too; torch.onnx cannot export that with a dynamic batch (an
  internal assertion), so it is written as the reductions it is; one without an affine map
  fails once torch.onnx has lost the channel count (after `lrn`): both become `ExportNorm`.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from .module import module_path, submodule

_POOLS = ("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d")


def _sizes(n: int, k: int, s: int, p: int, d: int) -> tuple[int, int, int, int]:
    """(PyTorch's ceil-mode size, the floor-mode size, ONNX's ceil-mode size, span % stride)."""
    span = n + 2 * p - d * (k - 1) - 1
    floor, onnx = span // s + 1, -(-span // s) + 1
    torch_ = onnx - 1 if (onnx - 1) * s >= n + p else onnx  # PyTorch drops that window
    return torch_, floor, onnx, span % s


def ceil_pool_fix(module: nn.Module, in_shape) -> tuple[int, list[int]] | str | None:
    """For a ceil-mode pool whose ONNX size differs from PyTorch's: the ONNX `ceil_mode` and
    `pads` (begins, then ends) that give PyTorch's windows exactly; a reason when there are
    none; None when nothing needs fixing.

    Per dimension, PyTorch either drops ONNX's last window (its size is then the floor-mode
    size) or agrees, with or without a partial last window (size floor + 1). Without partial
    windows, floor mode is exact. With them, ceil mode stays and each dropping dimension loses
    `span % stride` of its end padding (the last window then ends at the padded end, as in
    PyTorch, so even average divisors agree); when that padding is too small, floor mode with
    extra end padding on the partial dimensions is exact for max pooling and for average
    pooling that does not count padding.
    """
    if type(module).__name__ not in _POOLS or not module.ceil_mode:
        return None
    rank = len(in_shape) - 1
    tup = lambda v: list(v) if isinstance(v, (tuple, list)) else [v] * rank  # noqa: E731
    k, s, p = tup(module.kernel_size), tup(module.stride), tup(module.padding)
    d = tup(getattr(module, "dilation", 1))
    dims = [_sizes(*a) for a in zip(in_shape[1:], k, s, p, d, strict=True)]
    if all(t == o for t, _, o, _ in dims):
        return None  # ONNX's rule gives PyTorch's sizes
    partial = [t > f for t, f, _, _ in dims]
    drop = [t < o for t, _, o, _ in dims]
    if not any(partial):
        return 0, p + p
    if all(p[i] >= dims[i][3] for i in range(rank) if drop[i]):
        return 1, p + [p[i] - dims[i][3] if drop[i] else p[i] for i in range(rank)]
    is_max = "Max" in type(module).__name__
    if is_max or not module.count_include_pad:
        spans = [a - 1 for a in (x + 2 * pp - dd * (kk - 1) for x, kk, pp, dd in
                                 zip(in_shape[1:], k, p, d, strict=True))]
        ends = [p[i] + ((dims[i][0] - 1) * s[i] - spans[i] if partial[i] else 0)
                for i in range(rank)]
        # onnxruntime refuses a pool whose padding is not smaller than its kernel; for max
        # pooling `patch_pools` then pads explicitly with -inf (a window of padding only is
        # not possible here: PyTorch's last window starts inside the input or left padding).
        if is_max or all(e < kk for e, kk in zip(ends, k, strict=True)):
            return 0, p + ends
        return ("PyTorch keeps a partial last window that ONNX can give an average pool only "
                "with more end padding than the kernel is long, which onnxruntime refuses")
    return ("PyTorch drops a last window that starts in the padding along one dimension and "
            "keeps a partial one along another, which ONNX's ceil mode can express here only "
            "for max pooling or without counting the padding")


def ceil_pool_fixes(ir, model: nn.Module) -> tuple[dict[str, tuple[int, list[int]]], list]:
    """({IR name: (ceil_mode, pads)} for the pools to patch in the file, [(nid, reason)] for
    those that cannot be)."""
    fixes, problems = {}, []
    live = ir.live()
    for nid, data in ir.nodes():
        if nid not in live or data["op"] not in ("maxpool", "avgpool"):
            continue
        module = submodule(model, data["name"])
        fix = ceil_pool_fix(module, ir.input_shapes(nid)[0])
        if isinstance(fix, str):
            problems.append((nid, fix))
        elif fix is not None and pool_swap(module, fix) is None:
            fixes[data["name"]] = fix
    return fixes, problems


def pool_swap(module: nn.Module, fix) -> nn.Module | None:
    """The module to export in place of a ceil-mode pool whose fix floor mode can state in
    PyTorch itself, so that torch.onnx traces PyTorch's sizes from the start (a file patched
    afterwards keeps ONNX's sizes in what torch.onnx built on them, e.g. a group norm's channel
    count after a flatten): the same pool in floor mode when its padding stays symmetric, a
    max pool after an explicit -inf `Pad` otherwise. None: the file is patched instead."""
    if not isinstance(fix, tuple) or fix[0] != 0:
        return None
    pads = fix[1]
    rank = len(pads) // 2
    if pads[:rank] == pads[rank:]:
        floor = copy.copy(module)
        floor.ceil_mode = False
        return floor
    if "Max" in type(module).__name__ and not module.return_indices:
        return ExplicitPadMaxPool(module, pads)
    return None


class ExplicitPadMaxPool(nn.Module):
    """A max pool in floor mode over its input padded with -inf by `pads` (begins, then ends,
    first dimension first): PyTorch's ceil-mode windows where they need more end padding than
    the pool itself can have."""

    def __init__(self, pool: nn.Module, pads: list[int]):
        super().__init__()
        rank = len(pads) // 2
        self.pool = getattr(F, f"max_pool{rank}d")
        self.kernel_size, self.stride, self.dilation = (pool.kernel_size, pool.stride,
                                                        pool.dilation)
        # F.pad takes the last dimension first
        self.pads = tuple(v for i in reversed(range(rank)) for v in (pads[i], pads[rank + i]))

    def forward(self, x):
        x = F.pad(x, self.pads, value=float("-inf"))
        return self.pool(x, self.kernel_size, self.stride, 0, self.dilation)


def patch_pools(data: bytes, fixes: dict, out_shapes, model=None) -> bytes:
    """The ONNX bytes with each fixed pool's `ceil_mode` and `pads` set, and the shapes
    inferred again (torch.onnx declared ONNX's sizes); `out_shapes` are the IR's shapes of the
    graph's outputs, in order (every output after a patched pool was declared ONNX's size)."""
    import onnx

    proto = onnx.load_from_string(data)
    for name, (ceil, pads) in fixes.items():
        path = module_path(model, name) if model is not None else name
        prefix = "/" + path.replace(".", "/") + "/"
        nodes = [n for n in proto.graph.node if n.op_type in ("MaxPool", "AveragePool")
                 and (n.name.startswith(prefix) or (prefix == "//" and "/" not in n.name[1:]))]
        if not nodes and list(fixes.values()).count((ceil, pads)) > 1:
            # torch.onnx merges equal pools of one tensor (two equal branches): its twin's
            # node gets the same fix; onnx_verify compares the file with the module anyway
            continue
        if len(nodes) != 1:
            raise LookupError(f"no single ONNX pool node for layer `{name}`")
        node = nodes[0]
        attrs = {a.name: a for a in node.attribute}
        attrs["ceil_mode"].i = ceil
        kernel = list(attrs["kernel_shape"].ints)
        explicit = node.op_type == "MaxPool" and any(v >= kernel[i % len(kernel)]
                                                     for i, v in enumerate(pads))
        implicit = [0] * len(pads) if explicit else pads
        if "pads" in attrs:
            del attrs["pads"].ints[:]
            attrs["pads"].ints.extend(implicit)
        else:
            node.attribute.append(onnx.helper.make_attribute("pads", implicit))
        if explicit:  # last: it rebuilds the node list, which copies `node`
            _pad_explicitly(proto, node, pads)
    del proto.graph.value_info[:]
    for output, shape in zip(proto.graph.output, out_shapes, strict=True):
        for dim, size in zip(output.type.tensor_type.shape.dim[1:], shape, strict=True):
            if dim.HasField("dim_value"):  # a size the file keeps dynamic stays a name
                dim.dim_value = size
    return onnx.shape_inference.infer_shapes(proto).SerializeToString()


def _pad_explicitly(proto, node, pads: list[int]) -> None:
    """Put a max pool's padding into a `Pad` node before it, filled with -inf (what max
    pooling's implicit padding means): onnxruntime's pools take only pads shorter than the
    kernel."""
    import numpy as np
    from onnx import helper, numpy_helper

    rank = len(pads) // 2
    full = [0, 0, *pads[:rank], 0, 0, *pads[rank:]]  # batch and channel dims unpadded
    base = node.name.rstrip("/") + "_explicit_pad"
    source, padded = node.input[0], base + "_output"
    dtype = helper.tensor_dtype_to_np_dtype(proto.graph.input[0].type.tensor_type.elem_type)
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 17)
    if opset >= 11:
        proto.graph.initializer.extend([
            numpy_helper.from_array(np.array(full, dtype=np.int64), base + "_pads"),
            numpy_helper.from_array(np.array(-np.inf, dtype=dtype), base + "_value")])
        pad = helper.make_node("Pad", [source, base + "_pads", base + "_value"], [padded],
                               name=base, mode="constant")
    else:
        pad = helper.make_node("Pad", [source], [padded], name=base, mode="constant",
                               pads=full, value=float("-inf"))
    node.input[0] = padded
    nodes = list(proto.graph.node)
    nodes.insert(nodes.index(node), pad)
    del proto.graph.node[:]
    proto.graph.node.extend(nodes)


class ExplicitPadConv(nn.Module):
    """`conv` with its `"same"` padding written out: `Pad` (odd totals) and symmetric pads."""

    def __init__(self, conv: nn.Module):
        super().__init__()
        n = conv.weight.dim() - 2
        self.weight, self.bias = conv.weight, conv.bias
        self.stride, self.dilation, self.groups = conv.stride, conv.dilation, conv.groups
        total = [d * (k - 1) for d, k in zip(conv.dilation, conv.kernel_size, strict=True)]
        self.padding = tuple(t // 2 for t in total)
        # F.pad takes the last dimension first; PyTorch puts an odd extra at the end
        self.extra = tuple(v for t in reversed(total) for v in (0, t % 2))
        self.conv = getattr(F, f"conv{n}d")

    def forward(self, x):
        if any(self.extra):
            x = F.pad(x, self.extra)
        return self.conv(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                         self.groups)


class ExportNorm(nn.Module):
    """A batch norm as torch.onnx can always export it: an inference-mode batch norm with every
    input given. Without running statistics (`track=false`) it normalises with the batch's own
    statistics, as the layer does in eval mode too, computed as reductions; without an affine
    map (`affine=false`) the scale and shift are constant ones and zeros (torch.onnx makes them
    itself only when it still knows the channel count, which it loses after some layers: lrn).
    Parameters and buffers keep their objects and names."""

    def __init__(self, bn: nn.Module):
        super().__init__()
        self.eps = bn.eps
        self.weight, self.bias = bn.weight, bn.bias
        self.register_buffer("running_mean", bn.running_mean)
        self.register_buffer("running_var", bn.running_var)
        self.ones = torch.ones(bn.num_features)  # plain tensors: constants in the file
        self.zeros = torch.zeros(bn.num_features)

    def forward(self, x):
        if self.running_mean is None:
            dims = [0, *range(2, x.dim())]
            mean = x.mean(dims).detach()  # this module only serves the export: no backward
            var = ((x - mean.reshape([1, -1] + [1] * (x.dim() - 2))) ** 2).mean(dims).detach()
        else:
            mean, var = self.running_mean, self.running_var
        weight = self.weight if self.weight is not None else self.ones
        bias = self.bias if self.bias is not None else self.zeros
        return F.batch_norm(x, mean, var, weight, bias, False, 0.0, self.eps)


class _LocalResponseNorm(torch.autograd.Function):
    """PyTorch's local response norm, exported as ONNX's own `LRN` node."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class ExportLRN(nn.Module):
    """A local response norm of a C x H x W tensor as ONNX's `LRN` node where the two agree
    (an odd size: ONNX centres an even window one channel later than PyTorch), else as
    PyTorch computes it with the channel axis made by `unsqueeze` rather than a `view` to the
    traced sizes. torch.onnx's own export views to sizes it reads from its shape inference,
    which it had lost after a reshape of dynamic sizes
    (fuzz seed 4, program 6090: onnxruntime refused the file)."""

    def __init__(self, lrn: nn.LocalResponseNorm):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = lrn.size, lrn.alpha, lrn.beta, lrn.k

    def forward(self, x):
        if self.size % 2 and x.dim() == 4:  # (onnxruntime's LRN takes N x C x H x W only)
            return _LocalResponseNorm.apply(x, self.size, self.alpha, self.beta, self.k)
        div = (x * x).unsqueeze(1)
        spatial = x.dim() - 2
        div = F.pad(div, (0, 0) * spatial + (self.size // 2, (self.size - 1) // 2))
        pool = F.avg_pool2d if spatial == 1 else F.avg_pool3d
        div = pool(div, (self.size,) + (1,) * spatial, stride=1).squeeze(1)
        return x / (div * self.alpha + self.k) ** self.beta


class ExportInstanceNorm(nn.Module):
    """An instance norm without an affine map, with constant ones and zeros for it: torch.onnx
    makes them itself only when it still knows the channel count, which it loses after a
    reshape. Buffers keep their objects and names."""

    def __init__(self, norm: nn.Module):
        super().__init__()
        self.eps, self.momentum = norm.eps, norm.momentum
        self.register_buffer("running_mean", norm.running_mean)
        self.register_buffer("running_var", norm.running_var)
        self.ones = torch.ones(norm.num_features)  # plain tensors: constants in the file
        self.zeros = torch.zeros(norm.num_features)

    def forward(self, x):
        # the export runs in eval mode: running statistics where they are tracked
        return F.instance_norm(x, self.running_mean, self.running_var, self.ones, self.zeros,
                               self.running_mean is None, self.momentum or 0.0, self.eps)


class ExportUnflatten(nn.Module):
    """`nn.Unflatten` as one reshape with the batch left to ONNX (`-1`): torch.onnx exports
    the module as a reshape to a shape it computes and then forgets the output's sizes, so a
    later layer that reads them (a channel shuffle, an LRN) was exported with the traced
    batch of 1 built in and failed on any other."""

    def __init__(self, unflatten: nn.Unflatten, in_shape):
        super().__init__()
        dim = unflatten.dim if unflatten.dim >= 0 else unflatten.dim + len(in_shape) + 1
        self.shape = (-1, *in_shape[:dim - 1], *unflatten.unflattened_size, *in_shape[dim:])

    def forward(self, x):
        return x.reshape(self.shape)


class ExportPixelUnshuffle(nn.Module):
    """`nn.PixelUnshuffle` as reshapes and a permute of known sizes: torch.onnx's export of the
    module forgets the channel count, which a later instance norm needs."""

    def __init__(self, unshuffle: nn.PixelUnshuffle, in_shape):
        super().__init__()
        r = unshuffle.downscale_factor
        c, h, w = in_shape
        self.split = (-1, c, h // r, r, w // r, r)
        self.merged = (-1, c * r * r, h // r, w // r)

    def forward(self, x):
        return x.reshape(self.split).permute(0, 1, 3, 5, 2, 4).reshape(self.merged)


def swaps(ir, model: nn.Module, dynamic: bool = False) -> list[tuple[str, nn.Module]]:
    """(IR name, module to export in its place) for every live layer that needs one;
    `dynamic`: the file keeps spatial sizes dynamic (no size may be built in)."""
    out = []
    live = ir.live()
    for nid, data in ir.nodes():
        if nid not in live or data["op"] in ("input", "identity", "add", "concat"):
            continue
        try:
            module = submodule(model, data["name"])
        except AttributeError:
            continue
        new = None
        if data["op"] in ("maxpool", "avgpool"):
            new = pool_swap(module, ceil_pool_fix(module, ir.input_shapes(nid)[0]))
        elif isinstance(module, nn.Unflatten) and not dynamic:
            new = ExportUnflatten(module, ir.input_shapes(nid)[0])
        elif isinstance(module, nn.LocalResponseNorm) and len(ir.input_shapes(nid)[0]) in (2, 3):
            new = ExportLRN(module)
        elif isinstance(module, nn.modules.instancenorm._InstanceNorm) and module.weight is None:
            new = ExportInstanceNorm(module)
        elif isinstance(module, nn.PixelUnshuffle) and not dynamic:
            new = ExportPixelUnshuffle(module, ir.input_shapes(nid)[0])
        elif isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)) and module.padding == "same":
            new = ExplicitPadConv(module)
        elif isinstance(module, nn.modules.batchnorm._BatchNorm) and (
                module.running_mean is None or module.weight is None):
            new = ExportNorm(module)
        if new is not None:
            out.append((data["name"], new))
    return out
