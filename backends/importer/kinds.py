"""What each traced call becomes in archdsl: a layer kind and its arguments.

The inverse of the torch lowering (backends/torch/lowering.py, lowering_kinds.py): a module of
a class in `MODULES`, or a function or method in `FUNCTIONS`/`METHODS`, maps to one archdsl
kind with archdsl's argument names. Each mapping returns `Mapped` (or raises `NotExpressible`
with the reason); its arguments are all of them, defaults included, as `(name, value,
default)`, so that two instances of a block compare argument for argument (blocks.py) and the
text leaves out what is a default (emit.py). Sizes are tuples of ints, `dim`s count without
the batch (0 = channels), as archdsl's do.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

Args = list[tuple[str, object, object]]  # (archdsl name, value, default); default NONE: always


class _None:
    def __repr__(self):
        return "NONE"


NONE = _None()  # "no default": the argument is always written


class NotExpressible(Exception):
    """A call archdsl has no kind for, or arguments its kind cannot take."""


@dataclass
class Mapped:
    kind: str
    args: Args
    inplace_alias: bool = False  # `contiguous()`: no layer, the input flows through


def _size(v, rank: int) -> tuple[int, ...]:
    if isinstance(v, int):
        return (v,) * rank
    return tuple(int(x) for x in v)


def _dim(d: int, rank: int) -> int:
    """torch's dim (batch included) as archdsl's (batch left out)."""
    if d < 0:
        return d
    if d == 0:
        raise NotExpressible("works along the batch dimension")
    return d - 1


# ------------------------------------------------------------------------------- modules

def _conv(m, rank) -> Mapped:
    if m.padding_mode != "zeros":
        raise NotExpressible(f"padding_mode={m.padding_mode!r} (archdsl's conv pads with zeros)")
    n = len(m.kernel_size)
    pad = m.padding if isinstance(m.padding, str) else _size(m.padding, n)
    return Mapped("conv", [
        ("filters", m.out_channels, NONE), ("kernel", _size(m.kernel_size, n), NONE),
        ("stride", _size(m.stride, n), (1,) * n), ("pad", pad, (0,) * n),
        ("dilation", _size(m.dilation, n), (1,) * n), ("groups", m.groups, 1),
        ("bias", m.bias is not None, True)])


def _conv_transpose(m, rank) -> Mapped:
    if m.padding_mode != "zeros":
        raise NotExpressible(f"padding_mode={m.padding_mode!r}")
    n = len(m.kernel_size)
    return Mapped("conv_transpose", [
        ("filters", m.out_channels, NONE), ("kernel", _size(m.kernel_size, n), NONE),
        ("stride", _size(m.stride, n), (1,) * n), ("pad", _size(m.padding, n), (0,) * n),
        ("output_pad", _size(m.output_padding, n), (0,) * n),
        ("dilation", _size(m.dilation, n), (1,) * n), ("groups", m.groups, 1),
        ("bias", m.bias is not None, True)])


def _batchnorm(m, rank) -> Mapped:
    if m.momentum is None:
        raise NotExpressible("momentum=None (a cumulative average)")
    return Mapped("batchnorm", [("eps", m.eps, 1e-5), ("momentum", m.momentum, 0.1),
                                ("affine", m.affine, True), ("track", m.track_running_stats, True)])


def _instancenorm(m, rank) -> Mapped:
    return Mapped("instancenorm", [("eps", m.eps, 1e-5), ("momentum", m.momentum, 0.1),
                                   ("affine", m.affine, False),
                                   ("track", m.track_running_stats, False)])


def _maxpool(m, rank) -> Mapped:
    if m.return_indices:
        raise NotExpressible("return_indices=True")
    k = _size(m.kernel_size, rank)
    stride = _size(m.stride if m.stride is not None else m.kernel_size, rank)
    return Mapped("maxpool", [("kernel", k, NONE), ("stride", stride, k),
                              ("pad", _size(m.padding, rank), (0,) * rank),
                              ("dilation", _size(m.dilation, rank), (1,) * rank),
                              ("ceil", m.ceil_mode, False)])


def _avgpool(m, rank) -> Mapped:
    if getattr(m, "divisor_override", None) is not None:
        raise NotExpressible("divisor_override")
    k = _size(m.kernel_size, rank)
    stride = _size(m.stride if m.stride is not None else m.kernel_size, rank)
    return Mapped("avgpool", [("kernel", k, NONE), ("stride", stride, k),
                              ("pad", _size(m.padding, rank), (0,) * rank),
                              ("ceil", m.ceil_mode, False),
                              ("count_include_pad", m.count_include_pad, True)])


def _adaptive(kind):
    def lower(m, rank) -> Mapped:
        size = m.output_size
        if size is None or (isinstance(size, tuple) and None in size):
            raise NotExpressible("an output size of None (keep the input's)")
        return Mapped(kind, [("size", _size(size, rank), NONE)])

    return lower


def _linear(m, rank) -> Mapped:
    return Mapped("linear", [("features", m.out_features, NONE),
                             ("bias", m.bias is not None, True)])


def _flatten(m, rank) -> Mapped:
    if m.start_dim != 1 or m.end_dim != -1:
        raise NotExpressible(f"flatten from dim {m.start_dim} to {m.end_dim} (archdsl's "
                             "flatten keeps the batch and flattens the rest)")
    return Mapped("flatten", [])


def _inplace(kind):
    return lambda m, rank: Mapped(kind, [("inplace", bool(getattr(m, "inplace", False)), False)])


def _plain(kind):
    return lambda m, rank: Mapped(kind, [])


def _dropout(kind):
    # `inplace` is left out: in eval a dropout is its input itself, and the compiled module
    # decides where writing in place is safe (docs/language.md), so it would not read back
    return lambda m, rank: Mapped(kind, [("p", float(m.p), 0.5)])


def _leaky(m, rank) -> Mapped:
    return Mapped("leaky_relu", [("slope", m.negative_slope, 0.01), ("inplace", m.inplace, False)])


def _alpha(kind):
    return lambda m, rank: Mapped(kind, [("alpha", m.alpha, 1.0), ("inplace", m.inplace, False)])


def _hardtanh(m, rank) -> Mapped:
    return Mapped("hardtanh", [("min", m.min_val, -1.0), ("max", m.max_val, 1.0),
                               ("inplace", m.inplace, False)])


def _gelu(m, rank) -> Mapped:
    return Mapped("gelu", [("approximate", m.approximate, "none")])


def _softmax(kind):
    def lower(m, rank) -> Mapped:
        if m.dim is None:
            raise NotExpressible("dim=None")
        return Mapped(kind, [("dim", _dim(m.dim, rank), 0)])

    return lower


def _softplus(m, rank) -> Mapped:
    return Mapped("softplus", [("beta", m.beta, 1.0), ("threshold", m.threshold, 20.0)])


def _glu(m, rank) -> Mapped:
    return Mapped("glu", [("dim", _dim(m.dim, rank), -1)])


def _prelu(m, rank) -> Mapped:
    return Mapped("prelu", [("num_parameters", m.num_parameters, 1)])


def _lrn(m, rank) -> Mapped:
    return Mapped("lrn", [("size", m.size, 5), ("alpha", m.alpha, 1e-4), ("beta", m.beta, 0.75),
                          ("k", float(m.k), 1.0)])


def _groupnorm(m, rank) -> Mapped:
    return Mapped("groupnorm", [("groups", m.num_groups, NONE), ("eps", m.eps, 1e-5),
                                ("affine", m.affine, True)])


def _layernorm(m, rank) -> Mapped:
    args = [("dims", len(m.normalized_shape), 1), ("eps", m.eps, 1e-5),
            ("affine", m.elementwise_affine, True),
            ("bias", getattr(m, "bias", None) is not None or not m.elementwise_affine, True)]
    return Mapped("layernorm", args)


def _channel_layernorm(m, rank) -> Mapped:
    mapped = _layernorm(m, rank)
    mapped.args = [("over", "channels", "last"), *mapped.args[1:]]
    return mapped


def _factor(kind, attr):
    return lambda m, rank: Mapped(kind, [("factor", getattr(m, attr), NONE)])


def _channel_shuffle(m, rank) -> Mapped:
    return Mapped("channel_shuffle", [("groups", m.groups, NONE)])


def _unflatten(m, rank) -> Mapped:
    return Mapped("unflatten", [("sizes", tuple(m.unflattened_size), NONE),
                                ("dim", _dim(m.dim, rank), 0)])


def _stochastic_depth(m, rank) -> Mapped:
    return Mapped("stochastic_depth", [("p", float(m.p), NONE), ("mode", m.mode, "row")])


def _scale(m, rank) -> Mapped:
    # the initial value is what every factor holds while they are all equal (a model not yet
    # trained); a trained one's weights are loaded, and its initial value is archdsl's 1
    w = m.weight.detach()
    first = float(w.reshape(-1)[0]) if w.numel() else 1.0
    init = first if w.numel() and bool((w == first).all()) else 1.0
    return Mapped("scale", [("init", init, 1.0), ("shape", tuple(w.shape), NONE)])


# nn class name -> mapping; looked up by the exact class (a subclass may change forward)
NN = {
    "Conv1d": _conv, "Conv2d": _conv, "Conv3d": _conv,
    "ConvTranspose1d": _conv_transpose, "ConvTranspose2d": _conv_transpose,
    "ConvTranspose3d": _conv_transpose,
    "BatchNorm1d": _batchnorm, "BatchNorm2d": _batchnorm, "BatchNorm3d": _batchnorm,
    "InstanceNorm1d": _instancenorm, "InstanceNorm2d": _instancenorm,
    "InstanceNorm3d": _instancenorm,
    "MaxPool1d": _maxpool, "MaxPool2d": _maxpool, "MaxPool3d": _maxpool,
    "AvgPool1d": _avgpool, "AvgPool2d": _avgpool, "AvgPool3d": _avgpool,
    "AdaptiveAvgPool1d": _adaptive("adaptive_avgpool"),
    "AdaptiveAvgPool2d": _adaptive("adaptive_avgpool"),
    "AdaptiveAvgPool3d": _adaptive("adaptive_avgpool"),
    "AdaptiveMaxPool1d": _adaptive("adaptive_maxpool"),
    "AdaptiveMaxPool2d": _adaptive("adaptive_maxpool"),
    "AdaptiveMaxPool3d": _adaptive("adaptive_maxpool"),
    "Linear": _linear, "Flatten": _flatten,
    "Dropout": _dropout("dropout"), "Dropout1d": _dropout("dropout1d"),
    "Dropout2d": _dropout("dropout2d"), "Dropout3d": _dropout("dropout3d"),
    "AlphaDropout": _dropout("alpha_dropout"),
    "ReLU": _inplace("relu"), "ReLU6": _inplace("relu6"), "SiLU": _inplace("silu"),
    "Hardswish": _inplace("hardswish"), "Hardsigmoid": _inplace("hardsigmoid"),
    "Mish": _inplace("mish"), "SELU": _inplace("selu"),
    "LeakyReLU": _leaky, "ELU": _alpha("elu"), "CELU": _alpha("celu"), "Hardtanh": _hardtanh,
    "Tanh": _plain("tanh"), "Sigmoid": _plain("sigmoid"), "Identity": _plain("identity"),
    "GELU": _gelu, "Softmax": _softmax("softmax"), "LogSoftmax": _softmax("log_softmax"),
    "Softplus": _softplus, "GLU": _glu, "PReLU": _prelu, "LocalResponseNorm": _lrn,
    "GroupNorm": _groupnorm, "LayerNorm": _layernorm,
    "PixelShuffle": _factor("pixel_shuffle", "upscale_factor"),
    "PixelUnshuffle": _factor("pixel_unshuffle", "downscale_factor"),
    "ChannelShuffle": _channel_shuffle, "Unflatten": _unflatten,
}
# classes outside torch.nn, by "module.Class": torchvision's, and archdsl's own runtime
# classes (so that a compiled network imports back)
OTHER = {
    "torchvision.ops.stochastic_depth.StochasticDepth": _stochastic_depth,
    "archdsl.backends.torch.runtime.StochasticDepth": _stochastic_depth,
    "archdsl.backends.torch.runtime.ChannelLayerNorm": _channel_layernorm,
    "archdsl.backends.torch.runtime.ChannelShuffle": _channel_shuffle,
    "archdsl.backends.torch.runtime.Scale": _scale,
}


def module_mapping(module):
    """The mapping for a module's exact class, or None when archdsl has no kind for it."""
    cls = type(module)
    if cls.__module__.startswith("torch.nn.modules") and cls.__name__ in NN:
        return NN[cls.__name__]
    if cls.__module__.startswith("archdsl_generated_"):  # runtime.py's classes, copied in
        return OTHER.get(f"archdsl.backends.torch.runtime.{cls.__qualname__}")
    return OTHER.get(f"{cls.__module__}.{cls.__qualname__}")


def is_known(module) -> bool:
    return module_mapping(module) is not None


def map_module(module, rank: int) -> Mapped:
    """`module` (of a known class) as a kind; `rank` is its input's spatial rank."""
    return module_mapping(module)(module, rank)


# ----------------------------------------------------------------- functions and methods
# Each takes (args, kwargs, rank) where args[0] is the input tensor (a placeholder value) and
# returns Mapped; tensor inputs are worked out by the caller (trace.py).

def _kw(args, kwargs, names: list[str], defaults: dict):
    """Positional and keyword arguments of a call bound to `names` (after the input)."""
    out = dict(defaults)
    for name, value in zip(names, args[1:], strict=False):
        out[name] = value
    out.update(kwargs)
    return out


def _fn_inplace(kind):
    def lower(args, kwargs, rank):
        a = _kw(args, kwargs, ["inplace"], {"inplace": False})
        return Mapped(kind, [("inplace", bool(a["inplace"]), False)])

    return lower


def _fn_plain(kind):
    return lambda args, kwargs, rank: Mapped(kind, [])


def _fn_flatten(args, kwargs, rank):
    a = _kw(args, kwargs, ["start_dim", "end_dim"], {"start_dim": 0, "end_dim": -1})
    if a["start_dim"] != 1 or a["end_dim"] != -1:
        raise NotExpressible(f"flatten from dim {a['start_dim']} to {a['end_dim']}")
    return Mapped("flatten", [])


def _fn_method_flatten(args, kwargs, rank):
    a = _kw(args, kwargs, ["start_dim", "end_dim"], {"start_dim": 0, "end_dim": -1})
    if a["start_dim"] != 1 or a["end_dim"] != -1:
        raise NotExpressible(f"flatten from dim {a['start_dim']} to {a['end_dim']}")
    return Mapped("flatten", [])


def _fn_adaptive(kind):
    def lower(args, kwargs, rank):
        a = _kw(args, kwargs, ["output_size"], {})
        size = a.get("output_size")
        if size is None or (isinstance(size, (tuple, list)) and None in size):
            raise NotExpressible("an output size of None")
        return Mapped(kind, [("size", _size(size, rank), NONE)])

    return lower


def _fn_maxpool(args, kwargs, rank):
    a = _kw(args, kwargs, ["kernel_size", "stride", "padding", "dilation", "ceil_mode",
                           "return_indices"],
            {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False,
             "return_indices": False})
    if a["return_indices"]:
        raise NotExpressible("return_indices=True")
    k = _size(a["kernel_size"], rank)
    stride = _size(a["stride"] if a["stride"] not in (None, [], ()) else k, rank)
    return Mapped("maxpool", [("kernel", k, NONE), ("stride", stride, k),
                              ("pad", _size(a["padding"], rank), (0,) * rank),
                              ("dilation", _size(a["dilation"], rank), (1,) * rank),
                              ("ceil", bool(a["ceil_mode"]), False)])


def _fn_avgpool(args, kwargs, rank):
    a = _kw(args, kwargs, ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                           "divisor_override"],
            {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True,
             "divisor_override": None})
    if a["divisor_override"] is not None:
        raise NotExpressible("divisor_override")
    k = _size(a["kernel_size"], rank)
    stride = _size(a["stride"] if a["stride"] not in (None, [], ()) else k, rank)
    return Mapped("avgpool", [("kernel", k, NONE), ("stride", stride, k),
                              ("pad", _size(a["padding"], rank), (0,) * rank),
                              ("ceil", bool(a["ceil_mode"]), False),
                              ("count_include_pad", bool(a["count_include_pad"]), True)])


def _fn_dropout(kind):
    def lower(args, kwargs, rank):
        a = _kw(args, kwargs, ["p", "training", "inplace"], {"p": 0.5, "inplace": False})
        return Mapped(kind, [("p", float(a["p"]), 0.5)])

    return lower


def _fn_softmax(kind):
    def lower(args, kwargs, rank):
        a = _kw(args, kwargs, ["dim"], {"dim": None})
        if a["dim"] is None:
            raise NotExpressible("dim=None")
        return Mapped(kind, [("dim", _dim(a["dim"], rank), 0)])

    return lower


def _fn_leaky(args, kwargs, rank):
    a = _kw(args, kwargs, ["negative_slope", "inplace"], {"negative_slope": 0.01, "inplace": False})
    return Mapped("leaky_relu", [("slope", float(a["negative_slope"]), 0.01),
                                 ("inplace", bool(a["inplace"]), False)])


def _fn_gelu(args, kwargs, rank):
    a = _kw(args, kwargs, ["approximate"], {"approximate": "none"})
    return Mapped("gelu", [("approximate", a["approximate"], "none")])


def _fn_mean(args, kwargs, rank):
    a = _kw(args, kwargs, ["dim", "keepdim"], {"dim": None, "keepdim": False})
    if a["dim"] is None or "dtype" in kwargs:
        raise NotExpressible("a mean over every dimension (the batch too)")
    dims = (a["dim"],) if isinstance(a["dim"], int) else tuple(a["dim"])
    return Mapped("mean", [("dims", tuple(_dim(d, rank) for d in dims), NONE),
                           ("keepdim", bool(a["keepdim"]), False)])


def _fn_transpose(args, kwargs, rank):
    a = _kw(args, kwargs, ["dim0", "dim1"], {})
    return Mapped("transpose", [("dim0", _dim(a["dim0"], rank), NONE),
                                ("dim1", _dim(a["dim1"], rank), NONE)])


def _fn_permute(args, kwargs, rank):
    dims = list(args[1:]) or list(kwargs.get("dims", ()))
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = list(dims[0])
    if not dims or not all(isinstance(d, int) for d in dims):
        raise NotExpressible("permutes by dimensions that are not numbers")
    dims = [d % len(dims) for d in dims]
    if dims[0] != 0:
        raise NotExpressible("moves the batch dimension")
    return Mapped("permute", [("dims", tuple(d - 1 for d in dims[1:]), NONE)])


def _fn_pad(args, kwargs, rank):
    a = _kw(args, kwargs, ["pad", "mode", "value"], {"mode": "constant", "value": None})
    pad = a["pad"]
    if not isinstance(pad, (tuple, list)) or not all(isinstance(p, int) and p >= 0
                                                     for p in pad):
        raise NotExpressible("pads by amounts that are not numbers of zero or more (archdsl's "
                             "pad does not crop)")
    value = 0.0 if a["value"] is None else float(a["value"])
    return Mapped("pad", [("pad", tuple(pad), NONE), ("mode", a["mode"], "constant"),
                          ("value", value, 0.0)])


def _fn_interpolate(args, kwargs, rank):
    a = _kw(args, kwargs, ["size", "scale_factor", "mode", "align_corners",
                           "recompute_scale_factor", "antialias"],
            {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None,
             "recompute_scale_factor": None, "antialias": False})
    if a["recompute_scale_factor"] or a["antialias"]:
        raise NotExpressible("recompute_scale_factor or antialias")
    size, scale = a["size"], a["scale_factor"]
    if size is not None:
        size = (size,) if isinstance(size, int) else tuple(size)
        if not all(isinstance(s, int) for s in size):
            raise NotExpressible("a size read from a tensor (archdsl's upsample(like=...) "
                                 "is not read back yet)")
    if isinstance(scale, (tuple, list)):
        scale = tuple(float(f) for f in scale)
        scale = scale[0] if len(set(scale)) == 1 else scale
    elif scale is not None:
        scale = float(scale)
    return Mapped("upsample", [("scale", scale, None), ("size", size, None),
                               ("mode", a["mode"], "nearest"),
                               ("align_corners", a["align_corners"], None)])


def _fn_alias(args, kwargs, rank):
    return Mapped("identity", [], inplace_alias=True)


def _fn_merge(kind):
    return lambda args, kwargs, rank: Mapped(kind, [])


def _functions():
    import torch
    import torch.nn.functional as F

    return {
        operator.add: _fn_merge("add"), operator.iadd: _fn_merge("add"),
        torch.add: _fn_merge("add"),
        operator.mul: _fn_merge("mul"), operator.imul: _fn_merge("mul"),
        torch.mul: _fn_merge("mul"),
        operator.sub: _fn_merge("sub"), torch.sub: _fn_merge("sub"),
        operator.truediv: _fn_merge("div"), torch.div: _fn_merge("div"),
        torch.maximum: _fn_merge("max"), torch.minimum: _fn_merge("min"),
        torch.flatten: _fn_flatten,
        F.relu: _fn_inplace("relu"), torch.relu: _fn_plain("relu"),
        F.relu6: _fn_inplace("relu6"), F.silu: _fn_inplace("silu"),
        F.hardswish: _fn_inplace("hardswish"), F.hardsigmoid: _fn_inplace("hardsigmoid"),
        F.mish: _fn_inplace("mish"), F.selu: _fn_inplace("selu"),
        F.leaky_relu: _fn_leaky, F.gelu: _fn_gelu,
        torch.sigmoid: _fn_plain("sigmoid"), F.sigmoid: _fn_plain("sigmoid"),
        torch.tanh: _fn_plain("tanh"), F.tanh: _fn_plain("tanh"),
        F.adaptive_avg_pool1d: _fn_adaptive("adaptive_avgpool"),
        F.adaptive_avg_pool2d: _fn_adaptive("adaptive_avgpool"),
        F.adaptive_avg_pool3d: _fn_adaptive("adaptive_avgpool"),
        F.adaptive_max_pool2d: _fn_adaptive("adaptive_maxpool"),
        F.max_pool1d: _fn_maxpool, F.max_pool2d: _fn_maxpool, F.max_pool3d: _fn_maxpool,
        F.avg_pool1d: _fn_avgpool, F.avg_pool2d: _fn_avgpool, F.avg_pool3d: _fn_avgpool,
        F.dropout: _fn_dropout("dropout"), F.dropout2d: _fn_dropout("dropout2d"),
        F.softmax: _fn_softmax("softmax"), torch.softmax: _fn_softmax("softmax"),
        F.log_softmax: _fn_softmax("log_softmax"),
        torch.mean: _fn_mean, torch.transpose: _fn_transpose,
        torch.permute: _fn_permute, F.pad: _fn_pad, F.interpolate: _fn_interpolate,
    }


METHODS = {
    "add": _fn_merge("add"), "add_": _fn_merge("add"), "mul": _fn_merge("mul"),
    "flatten": _fn_method_flatten, "relu": _fn_plain("relu"), "relu_": _fn_plain("relu"),
    "sigmoid": _fn_plain("sigmoid"), "tanh": _fn_plain("tanh"), "mean": _fn_mean,
    "softmax": _fn_softmax("softmax"), "transpose": _fn_transpose, "permute": _fn_permute,
    "contiguous": _fn_alias,
}

_FUNCTIONS: dict | None = None


def function_mapping(target):
    global _FUNCTIONS
    if _FUNCTIONS is None:
        _FUNCTIONS = _functions()
    try:
        return _FUNCTIONS.get(target)
    except TypeError:  # an unhashable target
        return None


def _fn_channel_shuffle(args, kwargs, rank):
    a = _kw(args, kwargs, ["groups"], {})
    return Mapped("channel_shuffle", [("groups", a["groups"], NONE)])


def wrapped_functions() -> list:
    """Functions of libraries already imported that are one archdsl kind, which the tracer
    keeps whole: torchvision's `channel_shuffle` (ShuffleNet), if torchvision is loaded."""
    import sys

    out = []
    shufflenet = sys.modules.get("torchvision.models.shufflenetv2")
    if shufflenet is not None and hasattr(shufflenet, "channel_shuffle"):
        out.append(shufflenet.channel_shuffle)
    return out


def wrapped_mapping(target):
    if target in wrapped_functions():
        return _fn_channel_shuffle
    return None


MERGES = {"add", "mul", "sub", "div", "max", "min"}  # kinds whose inputs are all tensors
