"""The layer kinds of issue 12, each held to torch itself (hypothesis).

For random valid arguments and input shapes, one layer is written as `.arch` text and, from the
same drawn numbers, built as the plain torch call it names (`nn.ConvTranspose2d(...)`,
`F.pad(...)`; for stochastic depth, torchvision's function as documented, copied below). Then:

- the IR's output shape is the shape torch produces;
- the IR's parameters and buffers are the numels of the torch module's;
- the IR's MACs are `FlopCounterMode`'s FLOPs / 2 / batch for conv-like and matmul-like kinds
  (conv_transpose, linear) and 0 for the rest, which torch counts as no FLOPs either;
- the compiled module's output equals the torch call's with the same weights (copied by
  `load_state_dict`, so the state_dict keys agree too), in eval mode and, for the random
  regularisers, in training mode with the same seed.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import archdsl

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
BATCH = 2


@dataclass
class Case:
    shape: tuple[int, ...]  # the input, batch left out
    text: str  # the layer as written in the file
    module: object  # the torch call: an nn.Module, or a function of the input
    counted: bool = False  # conv-like or matmul-like: FlopCounterMode counts its MACs
    random: bool = False  # a regulariser: compare in training mode too, seeded


def _t(values) -> str:
    return "(" + ", ".join(map(str, values)) + ("," if len(values) == 1 else "") + ")"


def _spatial(draw, rank, lo=1, hi=6):
    return tuple(draw(st.integers(lo, hi)) for _ in range(rank))


# ---------------------------------------------------------------- one strategy per kind
@st.composite
def conv_transpose(draw):
    n = draw(st.sampled_from([1, 2, 2, 3]))
    g = draw(st.integers(1, 3))
    cin, cout = g * draw(st.integers(1, 3)), g * draw(st.integers(1, 3))
    sizes = _spatial(draw, n, 1, 5 if n < 3 else 3)
    k = _spatial(draw, n, 1, 4)
    s = _spatial(draw, n, 1, 3)
    d = _spatial(draw, n, 1, 2)
    op = tuple(draw(st.integers(0, max(a, b) - 1)) for a, b in zip(s, d, strict=True))
    # padding that leaves an output: (W-1)*S + D*(F-1) + op + 1 - 2P >= 1
    p = tuple(draw(st.integers(0, ((w - 1) * ss + dd * (kk - 1) + o) // 2))
              for w, ss, dd, kk, o in zip(sizes, s, d, k, op, strict=True))
    bias = draw(st.booleans())
    text = (f"conv_transpose({cout}, {_t(k)}, stride={_t(s)}, pad={_t(p)}, output_pad={_t(op)}, "
            f"dilation={_t(d)}, groups={g}, bias={str(bias).lower()})")
    mod = getattr(nn, f"ConvTranspose{n}d")(cin, cout, k, stride=s, padding=p,
                                             output_padding=op, groups=g, bias=bias,
                                             dilation=d)
    return Case((cin, *sizes), text, mod, counted=True)


@st.composite
def pixel_shuffles(draw):
    r = draw(st.integers(1, 3))
    if draw(st.booleans()):
        c = draw(st.integers(1, 3)) * r * r
        return Case((c, *_spatial(draw, 2, 1, 4)), f"pixel_shuffle({r})", nn.PixelShuffle(r))
    c = draw(st.integers(1, 3))
    hw = tuple(r * draw(st.integers(1, 3)) for _ in range(2))
    return Case((c, *hw), f"pixel_unshuffle({r})", nn.PixelUnshuffle(r))


def _any_shape(draw, lo_rank=1, hi_rank=4):
    rank = draw(st.integers(lo_rank, hi_rank))
    return tuple(draw(st.integers(1, 5 if rank < 4 else 3)) for _ in range(rank))


@st.composite
def activations(draw):
    shape = _any_shape(draw)
    inplace = draw(st.booleans())
    ip = ", inplace=true" if inplace else ""
    a = draw(st.sampled_from([0.5, 1.0, 2.0]))
    kind = draw(st.sampled_from(["silu", "hardswish", "hardsigmoid", "mish", "selu", "elu",
                                 "celu", "softplus", "hardtanh", "log_softmax", "prelu",
                                 "glu"]))
    plain = {"silu": nn.SiLU, "hardswish": nn.Hardswish, "hardsigmoid": nn.Hardsigmoid,
             "mish": nn.Mish, "selu": nn.SELU}
    if kind in plain:
        return Case(shape, f"{kind}({ip[2:]})", plain[kind]())
    if kind in ("elu", "celu"):
        return Case(shape, f"{kind}({a}{ip})", getattr(nn, kind.upper())(alpha=a))
    if kind == "softplus":
        t = draw(st.sampled_from([0.5, 20.0]))
        return Case(shape, f"softplus({a}, threshold={t})", nn.Softplus(beta=a, threshold=t))
    if kind == "hardtanh":
        return Case(shape, f"hardtanh({-a}, {a * 2}{ip})", nn.Hardtanh(-a, a * 2))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    tdim = dim + 1 if dim >= 0 else dim
    if kind == "log_softmax":
        return Case(shape, f"log_softmax({dim})", nn.LogSoftmax(dim=tdim))
    if kind == "prelu":
        per = draw(st.booleans())
        return Case(shape, f"prelu(per_channel={str(per).lower()}, init={a})",
                    nn.PReLU(shape[0] if per else 1, init=a))
    shape = tuple(2 * s if i == dim % len(shape) else s for i, s in enumerate(shape))
    return Case(shape, f"glu({dim})", nn.GLU(dim=tdim))


@st.composite
def norms(draw):
    kind = draw(st.sampled_from(["groupnorm", "layernorm", "layernorm", "instancenorm"]))
    eps = draw(st.sampled_from([1e-5, 1e-3]))
    affine = draw(st.booleans())
    af = str(affine).lower()
    if kind == "groupnorm":
        g = draw(st.integers(1, 3))
        shape = (g * draw(st.integers(1, 3)), *_any_shape(draw, 0, 3))
        if shape[0] // g * math.prod(shape[1:]) == 1:  # one value per group: E0307
            shape = (*shape, 2)
        return Case(shape, f"groupnorm({g}, eps={eps}, affine={af})",
                    nn.GroupNorm(g, shape[0], eps=eps, affine=affine))
    if kind == "instancenorm":
        n = draw(st.integers(1, 3))
        shape = (draw(st.integers(1, 4)), *_spatial(draw, n, 2, 4))
        track = draw(st.booleans())
        mom = draw(st.sampled_from([0.1, 0.3]))
        return Case(shape, f"instancenorm(eps={eps}, momentum={mom}, affine={af}, "
                    f"track={str(track).lower()})",
                    getattr(nn, f"InstanceNorm{n}d")(shape[0], eps=eps, momentum=mom,
                                                     affine=affine, track_running_stats=track))
    shape = _any_shape(draw)
    bias = draw(st.booleans())
    if len(shape) >= 2 and draw(st.booleans()):
        c = shape[0]

        class Reference(nn.Module):  # torchvision's ConvNeXt LayerNorm2d, any spatial rank
            def __init__(self):
                super().__init__()
                self.ln = nn.LayerNorm(c, eps=eps, elementwise_affine=affine, bias=bias)

            def forward(self, x):
                return self.ln(x.movedim(1, -1)).movedim(-1, 1)

            def load_state_dict(self, sd, strict=True):
                return self.ln.load_state_dict(sd, strict)

        return Case(shape, f'layernorm(over="channels", eps={eps}, affine={af}, '
                    f"bias={str(bias).lower()})", Reference())
    k = draw(st.integers(1, len(shape)))
    return Case(shape, f"layernorm(dims={k}, eps={eps}, affine={af}, bias={str(bias).lower()})",
                nn.LayerNorm(shape[len(shape) - k:], eps=eps, elementwise_affine=affine,
                             bias=bias))


@st.composite
def scales(draw):
    shape = _any_shape(draw)
    init = draw(st.sampled_from([1e-6, 0.5, 2.0]))
    k = draw(st.integers(0, len(shape)))
    if k == 0:
        pshape = (shape[0],) + (1,) * (len(shape) - 1)
        text = f"scale({init})"
    else:
        pshape = tuple(s if draw(st.booleans()) else 1 for s in shape[len(shape) - k:])
        text = f"scale({init}, shape={_t(pshape)})"

    class Reference(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.full(pshape, init))

        def forward(self, x):
            return x * self.weight

    return Case(shape, text, Reference())


@st.composite
def reshapes(draw):
    kind = draw(st.sampled_from(["reshape", "unflatten", "permute", "transpose",
                                 "channel_shuffle", "mean", "adaptive_maxpool"]))
    shape = _any_shape(draw)
    if kind == "reshape":
        total = math.prod(shape)
        a = draw(st.sampled_from([d for d in range(1, total + 1) if total % d == 0]))
        new = (a, total // a) if draw(st.booleans()) else (total,)
        return Case(shape, f"reshape({_t(new)})", lambda x: x.reshape(x.shape[0], *new))
    if kind == "unflatten":
        d = draw(st.integers(-len(shape), len(shape) - 1))
        size = shape[d]
        a = draw(st.sampled_from([x for x in range(1, size + 1) if size % x == 0]))
        return Case(shape, f"unflatten({_t((a, size // a))}, dim={d})",
                    nn.Unflatten(d + 1 if d >= 0 else d, (a, size // a)))
    if kind == "permute":
        order = draw(st.permutations(range(len(shape))))
        return Case(shape, f"permute({_t(order)})",
                    lambda x: x.permute(0, *(o + 1 for o in order)))
    if kind == "transpose":
        a, b = (draw(st.integers(0, len(shape) - 1)) for _ in range(2))
        return Case(shape, f"transpose({a}, {b})", lambda x: x.transpose(a + 1, b + 1))
    if kind == "channel_shuffle":
        g = draw(st.integers(1, 3))
        shape = (g * draw(st.integers(1, 3)), *_any_shape(draw, 1, 3))
        return Case(shape, f"channel_shuffle({g})", nn.ChannelShuffle(g))
    if kind == "mean":
        dims = sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1)))
        keep = draw(st.booleans()) or len(dims) == len(shape)
        return Case(shape, f"mean({_t(dims)}, keepdim={str(keep).lower()})",
                    lambda x: x.mean([d + 1 for d in dims], keepdim=keep))
    n = draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 3)), *_spatial(draw, n, 1, 5))
    size = tuple(draw(st.integers(1, 4)) for _ in range(n))
    return Case(shape, f"adaptive_maxpool({_t(size)})",
                getattr(nn, f"AdaptiveMaxPool{n}d")(size))


@st.composite
def pads(draw):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    if mode == "constant":
        shape = _any_shape(draw)
        k = draw(st.integers(1, len(shape)))
        amounts = tuple(draw(st.integers(0, 3)) for _ in range(2 * k))
        value = draw(st.sampled_from([0.0, 1.5]))
        extra = f", value={value}" if value else ""
        return Case(shape, f"pad({_t(amounts)}{extra})",
                    lambda x: F.pad(x, amounts, "constant", value))
    n = draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 3)), *_spatial(draw, n, 2, 5))
    hi = {"reflect": -1, "circular": 0, "replicate": 3}[mode]
    amounts = tuple(draw(st.integers(0, shape[len(shape) - 1 - j // 2] + hi if hi < 3 else 3))
                    for j in range(2 * n))
    return Case(shape, f'pad({_t(amounts)}, mode="{mode}")', lambda x: F.pad(x, amounts, mode))


def stochastic_depth_reference(input, p, mode, training=True):
    """torchvision.ops.stochastic_depth, as torchvision 0.20 writes it."""
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    if mode == "row":  # noqa: SIM108  (torchvision's text, kept as it is)
        size = [input.shape[0]] + [1] * (input.ndim - 1)
    else:
        size = [1] * input.ndim
    noise = torch.empty(size, dtype=input.dtype, device=input.device)
    noise = noise.bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return input * noise


@st.composite
def regularisers(draw):
    kind = draw(st.sampled_from(["dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
                                 "stochastic_depth"]))
    p = draw(st.sampled_from([0.0, 0.25, 0.5, 1.0]))
    if kind.startswith("dropout"):
        n = int(kind[-2])
        shape = (draw(st.integers(1, 4)), *_spatial(draw, n, 1, 4))
        return Case(shape, f"{kind}({p})", getattr(nn, f"Dropout{n}d")(p), random=True)
    shape = _any_shape(draw)
    if kind == "alpha_dropout":
        return Case(shape, f"alpha_dropout({p})", nn.AlphaDropout(p), random=True)
    mode = draw(st.sampled_from(["row", "batch"]))

    class Reference(nn.Module):
        def forward(self, x):
            return stochastic_depth_reference(x, p, mode, self.training)

    return Case(shape, f'stochastic_depth({p}, mode="{mode}")', Reference(), random=True)


@st.composite
def linears(draw):
    """linear over the last dimension of a channels-last tensor (after a permute)."""
    shape = _any_shape(draw, 2, 4)
    f = draw(st.integers(1, 5))
    bias = draw(st.booleans())
    return Case(shape, f"linear({f}, bias={str(bias).lower()})",
                nn.Linear(shape[-1], f, bias=bias), counted=True)


STRATEGIES = {"conv_transpose": conv_transpose(), "pixel_shuffle": pixel_shuffles(),
              "activation": activations(), "norm": norms(), "scale": scales(),
              "reshape": reshapes(), "pad": pads(), "regulariser": regularisers(),
              "linear": linears()}


# ---------------------------------------------------------------- the comparison
def _network(case: Case) -> str:
    # linear's input must not be a feature map (the network's input is one): a `permute` to
    # the same order makes it a plain tensor, as torch sees every tensor
    lead = ("permute(" + _t(tuple(range(len(case.shape)))) + ")\n    "
            if case.text.startswith("linear") else "")
    dims = "x".join(map(str, case.shape))
    return f"network t {{\n    input {dims}\n    {lead}t: {case.text}\n}}\n"


def _call(module, x):
    return module(x)


def _check(case: Case):
    note(_network(case))
    net = archdsl.parse(_network(case))
    model = net.to_torch()
    node = next(d for _, d in net.ir.nodes() if d["name"] == "t")
    x = torch.randn(BATCH, *case.shape)
    reference = case.module
    if isinstance(reference, nn.Module):
        try:
            sub = model.get_submodule("t")
        except AttributeError:
            sub = None  # lowered to a function: nothing to copy
        if sub is not None:
            reference.load_state_dict(sub.state_dict())
        params = sum(p.numel() for p in reference.parameters())
        buffers = sum(b.numel() for b in reference.buffers())
    else:
        params = buffers = 0
    assert node["params"] == params
    assert node["buffers"] == buffers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for training in (False, True) if case.random or "norm" in case.text else (False,):
            model.train(training)
            if isinstance(reference, nn.Module):
                reference.train(training)
            torch.manual_seed(7)
            with torch.no_grad(), FlopCounterMode(display=False) as ours:
                got = model(x.clone())
            torch.manual_seed(7)
            with torch.no_grad(), FlopCounterMode(display=False) as theirs:
                want = _call(reference, x.clone())
            assert tuple(got.shape) == tuple(want.shape)
            assert tuple(got.shape[1:]) == tuple(node["shape"]) == tuple(net.output_shape)
            assert torch.allclose(got, want, rtol=1e-5, atol=1e-6, equal_nan=True), \
                (got - want).abs().max()
            assert ours.get_total_flops() == theirs.get_total_flops()
            flops = theirs.get_total_flops()
            assert node["macs"] == (flops // 2 // BATCH if case.counted else 0)
            assert bool(flops) == (case.counted and node["macs"] > 0)


@pytest.mark.parametrize("family", sorted(STRATEGIES))
@settings(deadline=None, max_examples=60)
@given(data=st.data())
def test_kind_equals_the_torch_call(family, data):
    _check(data.draw(STRATEGIES[family]))
