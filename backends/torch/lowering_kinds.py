"""The torch lowerings of the layer kinds of issue 12 (transposed conv, the modern activations
and norms, reshapes, regularisers, the learned scale), added to `lowering.LOWERINGS`.

Each is the torch call the kind names, argument for argument: an `nn` module where torch has
one, a `call_function` for what torch writes as a function (`torch.permute`, `torch.mean`,
`F.pad`), and a `runtime.py` class for what torch.nn lacks (`Scale`, `StochasticDepth`, layer
norm over the channels). The aliasing facts follow `Lowering`'s doc; tests/torch/
test_aliasing.py holds each one to torch.
"""

from __future__ import annotations

from .lowering import (
    LOWERINGS,
    Lowering,
    ModuleCall,
    _inplace,
    _inplace_arg,
    _nondefault,
    _torch_dim,
)

_NEW = {"aliases": False, "saves_output": False}
# a view of the input, or the input itself (in eval mode: the regularisers)
_VIEW = {"aliases": True, "saves_output": False}


def _conv_transpose(a: dict) -> ModuleCall:
    kwargs = _nondefault(stride=(a["stride"], 1), padding=(a["pad"], 0),
                         output_padding=(a["output_pad"], 0), groups=(a["groups"], 1),
                         bias=(a["bias"], True), dilation=(a["dilation"], 1))
    return ModuleCall(f"ConvTranspose{a['rank']}d", (a["in_channels"], a["filters"],
                                                     a["kernel"]), kwargs)


def _with_inplace(cls: str, **kw):
    """An activation with keyword arguments (and torch's default for each) and `inplace`."""
    def lower(a: dict) -> ModuleCall:
        given = {torch_name: (a[name], default) for torch_name, (name, default) in kw.items()}
        given["inplace"] = (a.get("inplace", False), False)
        return ModuleCall(cls, (), _nondefault(**given))

    return lower


def _layernorm(a: dict) -> ModuleCall:
    kw = _nondefault(eps=(a["eps"], 1e-5), elementwise_affine=(a["affine"], True),
                     bias=(a["bias"], True))
    if a["over"] == "channels":
        return ModuleCall("ChannelLayerNorm", (a["normalized"][0],), kw, runtime=True)
    shape = a["normalized"]
    return ModuleCall("LayerNorm", (shape[0] if len(shape) == 1 else shape,), kw)


def _instancenorm(a: dict) -> ModuleCall:
    return ModuleCall(f"InstanceNorm{a['rank']}d", (a["features"],),
                      _nondefault(eps=(a["eps"], 1e-5), momentum=(a["momentum"], 0.1),
                                  affine=(a["affine"], False),
                                  track_running_stats=(a["track"], False)))


def _dropout(cls: str):
    return lambda a: ModuleCall(cls, (a["p"],), _nondefault(inplace=(a.get("inplace", False),
                                                                     False)))


def _function(build):
    """A `call_function` lowering: `build(torch, args, x)` gives (target, fx args)."""
    def lower(a: dict, ins: list, call):
        import torch

        target, args = build(torch, a, ins[0])
        return call(target, args)

    return lower


def _reshape(torch, a, x):
    return torch.reshape, (x, (-1, *a["shape"]))


def _permute(torch, a, x):
    return torch.permute, (x, (0, *(d + 1 for d in a["dims"])))


def _transpose(torch, a, x):
    return torch.transpose, (x, _torch_dim(a["dim0"]), _torch_dim(a["dim1"]))


def _mean(torch, a, x):
    return torch.mean, (x, tuple(d + 1 for d in a["dims"]), a["keepdim"])


def _pad(torch, a, x):
    # the value only where it means something, so the printed call stays torch's
    extra = (a["value"],) if a["mode"] == "constant" and a["value"] != 0 else ()
    return torch.nn.functional.pad, (x, tuple(a["pad"]), a["mode"], *extra)


def _one(size):
    return size[0] if len(set(size)) == 1 else size


LOWERINGS.update({
    "conv_transpose": Lowering(module=_conv_transpose, doc="ConvTranspose1d/2d/3d by rank",
                               **_NEW),
    "pixel_shuffle": Lowering(module=lambda a: ModuleCall("PixelShuffle", (a["factor"],)),
                              **_NEW),
    "pixel_unshuffle": Lowering(module=lambda a: ModuleCall("PixelUnshuffle", (a["factor"],)),
                                **_NEW),
    # activations: each backward reads its input, except the ELU family in place (it reads
    # its result then) and log_softmax (always its result)
    "silu": Lowering(module=_inplace("SiLU"), inplace="arg", **_NEW),
    "hardswish": Lowering(module=_inplace("Hardswish"), inplace="arg", **_NEW),
    "hardsigmoid": Lowering(module=_inplace("Hardsigmoid"), inplace="arg", **_NEW),
    "mish": Lowering(module=_inplace("Mish"), inplace="arg", **_NEW),
    "selu": Lowering(module=_inplace("SELU"), inplace="arg", aliases=False,
                     saves_output=_inplace_arg),
    "elu": Lowering(module=_with_inplace("ELU", alpha=("alpha", 1.0)), inplace="arg",
                    aliases=False, saves_output=_inplace_arg),
    "celu": Lowering(module=_with_inplace("CELU", alpha=("alpha", 1.0)), inplace="arg",
                     aliases=False, saves_output=_inplace_arg),
    "hardtanh": Lowering(module=_with_inplace("Hardtanh", min_val=("min", -1.0),
                                              max_val=("max", 1.0)), inplace="arg", **_NEW),
    "softplus": Lowering(module=lambda a: ModuleCall("Softplus", (), _nondefault(
        beta=(a["beta"], 1.0), threshold=(a["threshold"], 20.0))), **_NEW),
    "log_softmax": Lowering(module=lambda a: ModuleCall("LogSoftmax", (), (
        ("dim", _torch_dim(a["dim"])),)), aliases=False, saves_output=True),
    "prelu": Lowering(module=lambda a: ModuleCall("PReLU", (), _nondefault(
        num_parameters=(a["num_parameters"], 1), init=(a["init"], 0.25))), **_NEW),
    "glu": Lowering(module=lambda a: ModuleCall("GLU", (), _nondefault(
        dim=(_torch_dim(a["dim"]), -1))), **_NEW),
    # norms
    "groupnorm": Lowering(module=lambda a: ModuleCall("GroupNorm", (a["groups"], a["features"]),
                                                      _nondefault(eps=(a["eps"], 1e-5),
                                                                  affine=(a["affine"], True))),
                          **_NEW),
    "layernorm": Lowering(module=_layernorm, doc="LayerNorm; over the channels: a runtime class",
                          **_NEW),
    "instancenorm": Lowering(module=_instancenorm, **_NEW),
    "scale": Lowering(module=lambda a: ModuleCall("Scale", (a["shape"],), _nondefault(
        init=(a["init"], 1.0)), runtime=True), **_NEW),
    # reshapes: views of their input
    "reshape": Lowering(function=_function(_reshape), doc="torch.reshape, batch kept", **_VIEW),
    "unflatten": Lowering(module=lambda a: ModuleCall("Unflatten", (_torch_dim(a["dim"]),
                                                                    tuple(a["sizes"]))),
                          **_VIEW),
    # reorders: copies in the default layout (runtime.py says why), written by
    # lowering_source.py as `torch.permute(...).clone(memory_format=torch.contiguous_format)`
    "permute": Lowering(function=_function(_permute), doc="torch.permute, batch first",
                        **_NEW),
    "transpose": Lowering(function=_function(_transpose), doc="torch.transpose", **_NEW),
    # nn.ChannelShuffle's numbers as reshapes ONNX can express; one group: the input's view
    "channel_shuffle": Lowering(module=lambda a: ModuleCall("ChannelShuffle", (a["groups"],),
                                                            runtime=True), **_VIEW),
    "mean": Lowering(function=_function(_mean), doc="torch.mean", **_NEW),
    "pad": Lowering(function=_function(_pad), doc="torch.nn.functional.pad", **_NEW),
    "adaptive_maxpool": Lowering(module=lambda a: ModuleCall(
        f"AdaptiveMaxPool{a['rank']}d", (_one(a["size"]),)), **_NEW),
    # regularisers: the input itself in eval mode
    "dropout1d": Lowering(module=_dropout("Dropout1d"), inplace="arg", **_VIEW),
    "dropout2d": Lowering(module=_dropout("Dropout2d"), inplace="arg", **_VIEW),
    "dropout3d": Lowering(module=_dropout("Dropout3d"), inplace="arg", **_VIEW),
    "alpha_dropout": Lowering(module=_dropout("AlphaDropout"), inplace="arg", **_VIEW),
    "stochastic_depth": Lowering(module=lambda a: ModuleCall(
        "StochasticDepth", (a["p"],), _nondefault(mode=(a["mode"], "row")), runtime=True),
        doc="torchvision's StochasticDepth (a runtime class)", **_VIEW),
})
