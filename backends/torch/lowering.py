"""The lowering table: for each layer kind, what it becomes in PyTorch.

One entry per kind, looked up by the kind's name; nothing here switches on the kind with
`if`s. An entry says one of three things:

- `module`: the node becomes a `torch.nn` submodule at the node's hierarchical name. The entry
  returns a `ModuleCall` (class name in `torch.nn` and constructor arguments), which both the fx
  lowering instantiates and the standalone source prints, so the two cannot drift apart.
- `function`: the node becomes an fx `call_function` (merges: `torch.cat`, `+`).
- `passthrough`: the node produces its input (identity) and leaves no trace in the graph.

IR `dim` arguments count without the batch (0 = channels), so torch's dim is `dim + 1` for
non-negative dims. Custom layer kinds get their lowering through `register_lowering`.
"""

from __future__ import annotations

import keyword
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

from archdsl.escape import py_value

Kwargs = tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class ModuleCall:
    """`torch.nn.<cls>(*args, **kwargs)`.

    `kernel` is a literal kernel (nested lists, one channel's worth) copied into every channel
    of the weight; `frozen` makes that weight a parameter that is not trained. With `runtime`
    the class is one of `runtime.py`'s (`Scale`, `StochasticDepth`...), which the standalone
    source copies in, instead of one of `torch.nn`'s.
    """

    cls: str
    args: tuple = ()
    kwargs: Kwargs = ()
    kernel: list | None = None
    frozen: bool = False
    runtime: bool = False

    def build(self):
        import torch

        from . import runtime

        owner = runtime if self.runtime else torch.nn
        module = getattr(owner, self.cls)(*self.args, **dict(self.kwargs))
        if self.kernel is not None:
            from .runtime import literal_kernel

            literal_kernel(module, self.kernel, self.frozen)
        return module

    def source(self) -> str:
        """The constructor call as Python text: `nn.Conv2d(1, 6, kernel_size=(5, 5))`."""
        names = [self.cls, *(k for k, _ in self.kwargs)]
        if not all(n.isidentifier() and not keyword.iskeyword(n) for n in names):
            raise ValueError(f"not a class and argument names: nn.{self.cls}, {names[1:]}")
        parts = [py(a) for a in self.args] + [f"{k}={py(v)}" for k, v in self.kwargs]
        call = f"{'' if self.runtime else 'nn.'}{self.cls}({', '.join(parts)})"
        if self.kernel is not None:
            return f"literal_kernel({call}, {py(self.kernel)}, {py(self.frozen)})"
        return call


@dataclass(frozen=True)
class Lowering:
    """What one layer kind becomes; exactly one of the three fields is set."""

    module: Callable[[dict], ModuleCall] | None = None
    # (args, input fx nodes, call) -> the result node, where `call(target, args)` adds one fx
    # call_function node.
    function: Callable[[dict, list, Callable], object] | None = None
    passthrough: bool = False
    doc: str = field(default="", compare=False)
    # Facts the plan's in-place analysis needs (backends/torch/inplace.py), declared per kind
    # and checked against torch for every built-in kind (tests/torch/test_aliasing.py).
    # `None` is "not declared", which the plan takes as the unsafe answer (a custom kind).
    # - aliases: the output may be the input tensor itself or a view of it (`identity`,
    #   `flatten`, `dropout` in eval mode), so a write through it reaches the input;
    # - saves_output: autograd keeps the output for backward (`relu`, `softmax`), so it must
    #   not be overwritten; a function of the arguments where it depends on them;
    # - inplace: "arg" writes the first input when `args["inplace"]` is true, "auto" wherever
    #   the plan finds it safe (add's `+=`), "" never.
    aliases: bool | None = None
    saves_output: bool | Callable[[dict], bool] | None = None
    inplace: str = ""


# A constructor argument as Python source. The one printer of values for generated Python
# (archdsl/escape.py): strings escaped, `inf`/`nan` readable, unknown types refused.
py = py_value


def _torch_dim(d: int) -> int:
    return d + 1 if d >= 0 else d


def _nondefault(**kw) -> Kwargs:
    """Keyword arguments without those equal to torch's defaults, so printed calls stay short.

    Each value is paired with its default: `stride=((1, 1), 1)`.
    """
    out = []
    for key, (value, default) in kw.items():
        if not is_default(value, default):
            out.append((key, value))
    kwargs = _Kwargs(out)
    # every argument with its default, for the source generator: a class shared by several
    # block instances prints an argument whenever one of them sets it (codegen.py)
    kwargs.full = tuple((key, value, default) for key, (value, default) in kw.items())
    return kwargs


class _Kwargs(tuple):
    """The keyword arguments that differ from torch's defaults; `full` holds all of them."""

    full: tuple = ()


def is_default(value, default) -> bool:
    return value == default or (isinstance(value, tuple) and set(value) == {default})


def _conv(a: dict) -> ModuleCall:
    kwargs = _nondefault(stride=(a["stride"], 1), padding=(a["pad"], 0),
                         dilation=(a["dilation"], 1), groups=(a["groups"], 1),
                         bias=(a["bias"], True))
    return ModuleCall(f"Conv{a['rank']}d", (a["in_channels"], a["filters"], a["kernel"]), kwargs,
                      kernel=a.get("weights"), frozen=not a.get("trainable", True))


def _pool(kind: str, adaptive: str) -> Callable[[dict], ModuleCall]:
    def lower(a: dict) -> ModuleCall:
        n = a["rank"]
        if a.get("global"):
            # The whole map: an adaptive pool to 1 does not depend on the input size.
            return ModuleCall(f"{adaptive}{n}d", (1,))
        # torch's stride defaults to the window, as the IR's does.
        kw = {"stride": (a["stride"], a["kernel"]), "padding": (a["pad"], 0)}
        if kind == "MaxPool":
            kw["dilation"] = (a["dilation"], 1)
        kw["ceil_mode"] = (a["ceil"], False)
        if "count_include_pad" in a:
            kw["count_include_pad"] = (a["count_include_pad"], True)
        return ModuleCall(f"{kind}{n}d", (a["kernel"],), _nondefault(**kw))

    return lower


def _batchnorm(a: dict) -> ModuleCall:
    # A vector (C,) has rank 0 and a sequence (C, L) rank 1: both are BatchNorm1d's.
    return ModuleCall(f"BatchNorm{max(a['rank'], 1)}d", (a["features"],),
                      _nondefault(eps=(a["eps"], 1e-5), momentum=(a["momentum"], 0.1),
                                  affine=(a["affine"], True),
                                  track_running_stats=(a["track"], True)))


def _inplace(cls: str) -> Callable[[dict], ModuleCall]:
    return lambda a: ModuleCall(cls, (), _nondefault(inplace=(a.get("inplace", False), False)))


def _cat(a: dict, ins: list, call):
    import torch

    return call(torch.cat, (list(ins), _torch_dim(a.get("dim", 0))))


def _add(a: dict, ins: list, call):
    # Several summands become a chain of `+`, each printed as `a + b` by fx. When the plan
    # found the first summand free to overwrite (`inplace`), the first `+` is `+=`, as
    # torchvision's `out += identity`: no new tensor per residual block.
    out = ins[0]
    # A broadcasting add may grow its first summand (64x1x1 + 64x8x8): never `+=` then.
    first_inplace = a.get("inplace") and not a.get("broadcast")
    for i, other in enumerate(ins[1:]):
        op = operator.iadd if i == 0 and first_inplace else operator.add
        out = call(op, (out, other))
    return out


def _chain(op: Callable) -> Callable:
    """An element-wise merge of several inputs as a chain of binary calls, left to right:
    `mul(a, b, c)` is `a * b * c`; torch broadcasts each step."""

    def lower(a: dict, ins: list, call):
        out = ins[0]
        for other in ins[1:]:
            out = call(op, (out, other))
        return out

    return lower


def _torch_fn(name: str) -> Callable:
    """`torch.<name>`, imported when the lowering runs (the front end never imports torch)."""

    def lower(a: dict, ins: list, call):
        import torch

        return _chain(getattr(torch, name))(a, ins, call)

    return lower


def _sizes(ins: list, a: dict, call) -> object:
    """`like.shape[2:]`: the spatial size of the `like` input, read when the forward runs."""
    shape = call(getattr, (ins[a["like"]], "shape"))
    return call(operator.getitem, (shape, slice(2, None)))


def _upsample(a: dict, ins: list, call):
    import torch.nn.functional as F

    kw = {"mode": a["mode"]}
    if a.get("like") is not None:
        kw["size"] = _sizes(ins, a, call)
    elif a.get("size") is not None:
        kw["size"] = a["size"]
    else:
        kw["scale_factor"] = a["scale"]
    if a.get("align_corners") is not None:
        kw["align_corners"] = a["align_corners"]
    return call(F.interpolate, (ins[0],), kw)


def _crop(a: dict, ins: list, call):
    # Per spatial dimension, `torch.narrow(x, dim, (have - want) // 2, want)` with `have` (and
    # `want`, for `like=`) read from the tensors at run time: centred at any input size.
    import torch

    x = ins[0]
    shape = call(getattr, (x, "shape"))
    ref = call(getattr, (ins[a["like"]], "shape")) if a.get("like") is not None else None
    out = x
    for i in range(a["rank"]):
        dim = i + 2
        have = call(operator.getitem, (shape, dim))
        want = call(operator.getitem, (ref, dim)) if ref is not None else a["size"][i]
        start = call(operator.floordiv, (call(operator.sub, (have, want)), 2))
        out = call(torch.narrow, (out, dim, start, want))
    return out


def _piece(a: dict, ins: list, call):
    """One piece of a `chunk` or `split`: `torch.narrow(x, dim, start, length)`, a view."""
    import torch

    return call(torch.narrow, (ins[0], _torch_dim(a["dim"]), a["start"], a["length"]))


def _inplace_arg(a: dict) -> bool:
    return bool(a.get("inplace"))


# Each entry declares, after what the kind becomes, its aliasing facts (see `Lowering`):
# which kinds return their input or a view, which keep their output for backward (relu's
# backward reads its result; leaky_relu reads its input, or its result when in place; relu6
# (hardtanh) and gelu read their input; pooling reads its input and indices; lrn divides by a
# tensor it keeps, not its result).
_NEW = {"aliases": False, "saves_output": False}
LOWERINGS: dict[str, Lowering] = {
    "input": Lowering(doc="the forward's argument (an fx placeholder)", **_NEW),
    "conv": Lowering(module=_conv, doc="Conv1d/2d/3d by rank; a literal kernel is frozen",
                     **_NEW),
    "maxpool": Lowering(module=_pool("MaxPool", "AdaptiveMaxPool"), **_NEW),
    "avgpool": Lowering(module=_pool("AvgPool", "AdaptiveAvgPool"), **_NEW),
    "adaptive_avgpool": Lowering(module=lambda a: ModuleCall(
        f"AdaptiveAvgPool{a['rank']}d", (a["size"] if len(set(a["size"])) > 1 else
                                         a["size"][0],)), **_NEW),
    "linear": Lowering(module=lambda a: ModuleCall(
        "Linear", (a["in_features"], a["features"]), _nondefault(bias=(a["bias"], True))),
        **_NEW),
    # a view of its input (a copy when the input is not contiguous, the input itself for a
    # vector)
    "flatten": Lowering(module=lambda a: ModuleCall("Flatten"), aliases=True,
                        saves_output=False),
    "batchnorm": Lowering(module=_batchnorm, **_NEW),
    "lrn": Lowering(module=lambda a: ModuleCall(
        "LocalResponseNorm", (a["size"],),
        _nondefault(alpha=(a["alpha"], 1e-4), beta=(a["beta"], 0.75), k=(a["k"], 1.0))),
        **_NEW),
    # the input itself in eval mode (and in training when p = 0); in place, it scales its
    # input by the mask it keeps
    "dropout": Lowering(module=lambda a: ModuleCall(
        "Dropout", (a["p"],), _nondefault(inplace=(a.get("inplace", False), False))),
        aliases=True, saves_output=False, inplace="arg"),
    "relu": Lowering(module=_inplace("ReLU"), aliases=False, saves_output=True,
                     inplace="arg"),
    "relu6": Lowering(module=_inplace("ReLU6"), aliases=False, saves_output=False,
                      inplace="arg"),
    "leaky_relu": Lowering(module=lambda a: ModuleCall(
        "LeakyReLU", (a["slope"],), _nondefault(inplace=(a.get("inplace", False), False))),
        aliases=False, saves_output=_inplace_arg, inplace="arg"),
    "tanh": Lowering(module=lambda a: ModuleCall("Tanh"), aliases=False, saves_output=True),
    "sigmoid": Lowering(module=lambda a: ModuleCall("Sigmoid"), aliases=False,
                        saves_output=True),
    "gelu": Lowering(module=lambda a: ModuleCall(
        "GELU", (), _nondefault(approximate=(a.get("approximate", "none"), "none"))), **_NEW),
    "softmax": Lowering(module=lambda a: ModuleCall("Softmax", (), (("dim", _torch_dim(
        a["dim"])),)), aliases=False, saves_output=True),
    "identity": Lowering(passthrough=True, doc="no module: the input flows through",
                         aliases=True, saves_output=False),
    "concat": Lowering(function=_cat, doc="torch.cat in input order", **_NEW),
    "add": Lowering(function=_add, doc="a + b (+ c ...)", inplace="auto", **_NEW),
    "mul": Lowering(function=_chain(operator.mul), doc="a * b (* c ...)", **_NEW),
    "sub": Lowering(function=_chain(operator.sub), doc="a - b", **_NEW),
    "div": Lowering(function=_chain(operator.truediv), doc="a / b", **_NEW),
    "max": Lowering(function=_torch_fn("maximum"), doc="torch.maximum(a, b)", **_NEW),
    "min": Lowering(function=_torch_fn("minimum"), doc="torch.minimum(a, b)", **_NEW),
    "upsample": Lowering(function=_upsample, doc="torch.nn.functional.interpolate; `like=` "
                         "reads the size at run time", **_NEW),
    # narrow returns a view of its input (the whole input when nothing is cropped)
    "chunk": Lowering(function=_piece, doc="torch.narrow: the piece torch.chunk gives",
                      aliases=True, saves_output=False),
    "split": Lowering(function=_piece, doc="torch.narrow: the piece torch.split gives",
                      aliases=True, saves_output=False),
    "crop": Lowering(function=_crop, doc="torch.narrow per spatial dimension, centred",
                     aliases=True, saves_output=False),
}


class LoweringError(Exception):
    """A layer kind that has no torch lowering (a custom kind without `register_lowering`)."""


def register_lowering(kind: str, lowering: Lowering, *, replace: bool = False) -> None:
    """Teach the torch backend a custom layer kind (registered with `archdsl.register_op`).

    >>> from archdsl.backends.torch.lowering import Lowering, ModuleCall, register_lowering
    >>> register_lowering("swish", Lowering(module=lambda a: ModuleCall("SiLU")))
    """
    if kind in LOWERINGS and not replace:
        raise ValueError(f"kind `{kind}` already has a torch lowering")
    LOWERINGS[kind] = lowering


def lowering_for(kind: str, name: str, location: str) -> Lowering:
    low = LOWERINGS.get(kind)
    if low is None:
        raise LoweringError(
            f"{location}: layer `{name}` is a `{kind}`, which has no PyTorch lowering; give it "
            "one with archdsl.backends.torch.register_lowering")
    return low


from . import lowering_kinds  # noqa: E402, F401  (the kinds of issue 12 add their entries)
