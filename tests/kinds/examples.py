"""One small program per layer kind of issue 12: (input shape, the layer as written). Used by
the golden files of each kind's summary row and DOT node (tests/kinds/test_goldens.py) and by
the ONNX tests (tests/torch/test_onnx_kinds.py)."""

EXAMPLES: dict[str, tuple[str, str]] = {
    "conv_transpose": ("8x4x4", "conv_transpose(4, 3x3, stride=2, pad=1, output_pad=1)"),
    "conv_transpose_1d": ("4x10", "conv_transpose(2, 4, stride=2, groups=2, bias=false)"),
    "conv_transpose_3d": ("2x3x3x3", "conv_transpose(2, 2, stride=(1, 2, 2), dilation=2)"),
    "pixel_shuffle": ("8x3x3", "pixel_shuffle(2)"),
    "pixel_unshuffle": ("2x4x6", "pixel_unshuffle(2)"),
    "silu": ("4x3x3", "silu(inplace=true)"),
    "hardswish": ("4x3x3", "hardswish"),
    "hardsigmoid": ("4x3x3", "hardsigmoid"),
    "mish": ("4x3x3", "mish"),
    "elu": ("4x3x3", "elu(0.5)"),
    "selu": ("4x3x3", "selu"),
    "celu": ("4x3x3", "celu(2)"),
    "softplus": ("4x3x3", "softplus(2)"),
    "hardtanh": ("4x3x3", "hardtanh(-2, 2)"),
    "log_softmax": ("4x3x3", "log_softmax"),
    "prelu": ("4x3x3", "prelu(per_channel=true)"),
    "glu": ("4x3x3", "glu(0)"),
    "groupnorm": ("4x3x3", "groupnorm(2)"),
    "layernorm": ("4x3x3", "layernorm(dims=2)"),
    "layernorm_channels": ("4x3x3", 'layernorm(over="channels")'),
    "instancenorm": ("4x3x3", "instancenorm(affine=true)"),
    "instancenorm_1d": ("4x5", "instancenorm"),
    "scale": ("4x3x3", "scale(1e-6)"),
    "reshape": ("4x3x3", "reshape(4x9)"),
    "unflatten": ("36", "unflatten(4x3x3)"),
    "permute": ("4x3x5", "permute((1, 2, 0))"),
    "transpose": ("4x3x5", "transpose(1, 2)"),
    "channel_shuffle": ("6x3x3", "channel_shuffle(3)"),
    "mean": ("4x3x5", "mean((1, 2), keepdim=true)"),
    "pad": ("4x3x3", "pad((1, 2, 0, 1), value=0.5)"),
    "pad_reflect": ("4x3x3", 'pad(1, mode="reflect")'),
    "pad_replicate": ("4x3x3", 'pad((2, 0, 1, 1), mode="replicate")'),
    "pad_circular": ("4x3x3", 'pad((1, 2, 3, 0), mode="circular")'),
    "adaptive_maxpool": ("4x6x6", "adaptive_maxpool(3)"),
    "linear_last": ("4x3x5", "permute((1, 2, 0)); t2: linear(6)"),
    "dropout1d": ("4x5", "dropout1d(0.2)"),
    "dropout2d": ("4x3x3", "dropout2d(0.2)"),
    "dropout3d": ("2x3x3x3", "dropout3d(0.2)"),
    "alpha_dropout": ("4x3x3", "alpha_dropout(0.2)"),
    "stochastic_depth": ("4x3x3", 'stochastic_depth(0.2, mode="batch")'),
}


def program(name: str) -> str:
    shape, layer = EXAMPLES[name]
    return f"network example_{name} {{\n    input {shape}\n    t: {layer}\n}}\n"
