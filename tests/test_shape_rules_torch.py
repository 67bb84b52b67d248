"""The front end's sliding-window arithmetic against PyTorch itself, without the lowering.

For random (size, kernel, stride, padding, dilation, ceil mode, groups) one conv or pooling
layer is written as `.arch` text and also built directly as `nn.ConvNd` / `nn.MaxPoolNd` /
`nn.AvgPoolNd`. Where torch gives an output, the IR must give the same shape; where torch
raises (window too large, padding over half the window, `pad="same"` with a stride), the IR
must answer with a diagnostic (`ArchError`), never a shape and never a traceback.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import archdsl

torch = pytest.importorskip("torch")
nn = torch.nn
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _tuple(values):
    return "(" + ", ".join(map(str, values)) + ("," if len(values) == 1 else "") + ")"


@st.composite
def windows(draw):
    """One sliding-window layer: (kind, channels, sizes, kernel, stride, pad, dilation, ...)."""
    kind = draw(st.sampled_from(["conv", "conv", "maxpool", "avgpool"]))
    rank = draw(st.sampled_from([1, 2, 2, 2, 3]))
    hi = 6 if rank == 3 else 12
    sizes = tuple(draw(st.integers(1, hi)) for _ in range(rank))
    kernel = tuple(draw(st.integers(1, 8)) for _ in range(rank))
    stride = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    pad = tuple(draw(st.integers(0, 4)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(rank)) if kind != "avgpool" else \
        (1,) * rank
    if draw(st.booleans()):  # square windows hit the one-number spelling too
        kernel, stride, pad, dilation = ((t[0],) * rank for t in (kernel, stride, pad, dilation))
    ceil = kind != "conv" and draw(st.booleans())
    channels = draw(st.integers(1, 4))
    groups = draw(st.sampled_from([g for g in range(1, channels + 1) if channels % g == 0]))
    same = kind == "conv" and draw(st.integers(0, 5)) == 0
    return kind, channels, sizes, kernel, stride, pad, dilation, ceil, groups, same


def _arch(kind, channels, sizes, kernel, stride, pad, dilation, ceil, groups, same) -> str:
    args = [_tuple(kernel), f"stride={_tuple(stride)}",
            'pad="same"' if same else f"pad={_tuple(pad)}"]
    if kind == "conv":
        args = [str(2 * groups), *args, f"dilation={_tuple(dilation)}", f"groups={groups}"]
    elif kind == "maxpool":
        args.append(f"dilation={_tuple(dilation)}")
    if ceil:
        args.append("ceil=true")
    dims = "x".join(map(str, (channels, *sizes)))
    return f"network t {{ input {dims}\n {kind}({', '.join(args)}) }}"


def _torch_layer(kind, channels, sizes, kernel, stride, pad, dilation, ceil, groups, same):
    n = len(sizes)
    if kind == "conv":
        cls = getattr(nn, f"Conv{n}d")
        return cls(channels, 2 * groups, kernel, stride=stride, padding="same" if same else pad,
                   dilation=dilation, groups=groups)
    if kind == "maxpool":
        return getattr(nn, f"MaxPool{n}d")(kernel, stride=stride, padding=pad,
                                            dilation=dilation, ceil_mode=ceil)
    return getattr(nn, f"AvgPool{n}d")(kernel, stride=stride, padding=pad, ceil_mode=ceil)


def _torch_shape(case):
    _, channels, sizes, *_ = case
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = _torch_layer(*case)
            y = layer(torch.zeros(1, channels, *sizes))
    except (RuntimeError, ValueError):
        return None
    if y.numel() == 0:  # torch may return an empty map instead of raising
        return None
    return tuple(y.shape[1:])


def _ir_shape(text):
    try:
        net = archdsl.parse(text)
    except archdsl.ArchError:
        return None
    return net.output_shape


# ceil mode: the last window would start inside the right padding, so torch drops it
@example(("maxpool", 1, (5,), (2,), (2,), (1,), (1,), True, 1, False))
@example(("avgpool", 1, (4, 4), (3, 3), (2, 2), (1, 1), (1, 1), True, 1, False))
# maxpool's padding is bounded by half the window, not half the dilated window
@example(("maxpool", 1, (10, 10), (3, 3), (1, 1), (2, 2), (2, 2), False, 1, False))
# torch's 3-D average pooling alone refuses a window larger than the unpadded input
@example(("avgpool", 1, (1, 1, 1), (4, 1, 1), (1, 1, 1), (2, 0, 0), (1, 1, 1), False, 1, False))
# a window exactly as large as the padded input, and one larger
@example(("conv", 1, (3, 3), (5, 5), (1, 1), (1, 1), (1, 1), False, 1, False))
@example(("conv", 1, (3, 3), (3, 3), (1, 1), (0, 0), (2, 2), False, 1, False))
# "same" padding with an even kernel and with a stride
@example(("conv", 2, (5, 5), (4, 4), (1, 1), (0, 0), (2, 2), False, 2, True))
@example(("conv", 2, (5, 5), (3, 3), (2, 2), (0, 0), (1, 1), False, 1, True))
@settings(deadline=None)
@given(windows())
def test_window_shapes_agree_with_torch(case):
    text = _arch(*case)
    expected = _torch_shape(case)
    got = _ir_shape(text)
    if expected is None:
        assert got is None, f"torch rejects this layer but the IR gives {got}:\n{text}"
    else:
        assert got == expected, f"IR gives {got}, torch {expected}:\n{text}"


@settings(deadline=None)
@given(kind=st.sampled_from(["maxpool", "avgpool"]), rank=st.integers(1, 3),
       size=st.integers(1, 9), channels=st.integers(1, 3))
def test_global_pool_agrees_with_torch(kind, rank, size, channels):
    dims = "x".join(map(str, (channels, *(size,) * rank)))
    net = archdsl.parse(f"network t {{ input {dims}\n {kind}(global=true) }}")
    fn = getattr(torch.nn.functional, f"{'max' if kind == 'maxpool' else 'avg'}_pool{rank}d")
    y = fn(torch.zeros(1, channels, *(size,) * rank), kernel_size=(size,) * rank)
    assert net.output_shape == tuple(y.shape[1:])


@settings(deadline=None)
@given(rank=st.integers(1, 3), sizes=st.lists(st.integers(1, 9), min_size=3, max_size=3),
       out=st.lists(st.integers(1, 12), min_size=3, max_size=3))
def test_adaptive_pool_agrees_with_torch(rank, sizes, out):
    sizes, out = sizes[:rank], out[:rank]
    dims = "x".join(map(str, (2, *sizes)))
    net = archdsl.parse(f"network t {{ input {dims}\n adaptive_avgpool({_tuple(out)}) }}")
    layer = getattr(nn, f"AdaptiveAvgPool{rank}d")(tuple(out))
    assert net.output_shape == tuple(layer(torch.zeros(1, 2, *sizes)).shape[1:])
