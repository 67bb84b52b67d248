"""Nearest-neighbour resizing exported as the rows and columns PyTorch picks.

PyTorch's `interpolate(mode="nearest")` reads source index `floor(dst * scale)` with
`scale = in / out` (or `1 / scale_factor`) in float32; torch.onnx exports it as a `Resize`
whose sizes (or scales) onnxruntime turns into `floor(dst / (out / in))`. The two roundings
differ where `dst * in / out` is an integer or close to one and the ratio is not a power of
two: 14 -> 4 rows, PyTorch reads row 7 for output row 2, onnxruntime row 6 (fuzz seed 3,
programs 1093, 3141 and 9795). That is no float32 noise but another pixel.

While a network is exported, `exact_nearest()` makes every nearest interpolation whose
source indices the two would round differently an `index_select` per spatial axis, with the
indices PyTorch's own kernel picks: a `Gather` of constants in the file, the same numbers
by construction. Where they agree the `Resize` stays. Only an export at
fixed sizes can do this (the indices depend on them); one with dynamic spatial axes
(`upsample(like=...)`) keeps the `Resize` and is checked as any export is.

The substitution lasts for the export only and replaces `torch.nn.functional.interpolate`
for that time: the generated forward calls it by that name. It computes what PyTorch
computes, so another thread calling `interpolate` meanwhile gets the same numbers.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch.nn import functional as F


def torch_indices(size_in: int, size_out: int, factor: float | None) -> np.ndarray:
    """The positions PyTorch's nearest kernel reads (ATen's `nearest_idx`): the same index
    for equal sizes, `dst >> 1` for twice the size, else `floor(dst * scale)` in float32
    with `scale = float32(1 / factor)` or `float32(in) / out`; at most `in - 1`.
    tests/torch/test_onnx_nearest.py holds this to the kernel itself."""
    dst = np.arange(size_out, dtype=np.int64)
    if size_out == size_in:
        return dst
    if size_out == 2 * size_in:
        return dst >> 1
    scale = (np.float32(1.0 / factor) if factor is not None and factor > 0
             else np.float32(size_in) / np.float32(size_out))
    return np.minimum(np.floor(dst.astype(np.float32) * scale), size_in - 1).astype(np.int64)


def onnxruntime_indices(size_in: int, size_out: int, factor: float | None) -> np.ndarray:
    """The positions onnxruntime's Resize (asymmetric coordinates, floor) reads:
    `floor(dst / scale)` in float32, `scale` being the factor or `float32(out) / in`."""
    scale = (np.float32(factor) if factor is not None and factor > 0
             else np.float32(size_out) / np.float32(size_in))
    dst = np.arange(size_out, dtype=np.float32)
    return np.minimum(np.floor(dst / scale), size_in - 1).astype(np.int64)


def _factors(scale_factor, recompute: bool | None, rank: int) -> list[float | None]:
    """Each spatial axis's factor as the kernel receives it (None: computed from sizes)."""
    if scale_factor is None or recompute:
        return [None] * rank
    if isinstance(scale_factor, (tuple, list)):
        return [float(f) for f in scale_factor]
    return [float(scale_factor)] * rank


def _exact(interpolate):
    def nearest(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
        out = interpolate(input, size=size, scale_factor=scale_factor, mode=mode,
                          align_corners=align_corners,
                          recompute_scale_factor=recompute_scale_factor, antialias=antialias)
        if mode != "nearest" or not isinstance(input, torch.Tensor):
            return out
        rank = input.dim() - 2
        factors = _factors(scale_factor, recompute_scale_factor, rank)
        sizes = [(int(input.shape[2 + a]), int(out.shape[2 + a])) for a in range(rank)]
        picks = [torch_indices(n_in, n_out, f)
                 for (n_in, n_out), f in zip(sizes, factors, strict=True)]
        if all(np.array_equal(p, onnxruntime_indices(n_in, n_out, f))
               for p, (n_in, n_out), f in zip(picks, sizes, factors, strict=True)):
            return out
        result = input
        for axis, p in enumerate(picks):
            # a constant of the trace: a Gather of these indices in the file
            result = result.index_select(2 + axis, torch.tensor(p.tolist(), dtype=torch.int64))
        return result

    return nearest


@contextlib.contextmanager
def exact_nearest(enabled: bool = True):
    """For the export: nearest interpolations whose indices onnxruntime would round otherwise
    become gathers of PyTorch's own indices (see the module's docstring)."""
    if not enabled:
        yield
        return
    original = F.interpolate
    F.interpolate = _exact(original)
    try:
        yield
    finally:
        F.interpolate = original
