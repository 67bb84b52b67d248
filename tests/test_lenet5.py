"""The zoo's LeNet-5 against the lecture's worked numbers (tests/reference/seed_numbers.json),
and AlexNet's first layer: 227x227x3, 96 filters 11x11 stride 4 -> 55x55x96."""

from __future__ import annotations

import archdsl
from tests.conftest import reference

SEED = reference("seed_numbers")


def hwc_to_chw(shape):
    h, w, c = shape
    return (c, h, w)


def test_lenet5_layers_match_the_lecture():
    net = archdsl.zoo("lenet5")
    for layer in SEED["lenet5"]["layers"]:
        data = net.layer(layer["name"])
        assert data["params"] == layer["params"], layer["name"]
        if "output" in layer:
            assert data["shape"] == hwc_to_chw(layer["output"]), layer["name"]
        if "weights" in layer:
            assert data["weights"] == layer["weights"]
            assert data["biases"] == layer["biases"]
        if layer["type"] == "conv":
            args = data["args"]
            assert args["filters"] == layer["K"]
            assert args["kernel"] == (layer["F"], layer["F"])
            assert args["stride"] == (layer["S"], layer["S"])
            assert args["pad"] == (layer["P"], layer["P"])
        if layer["type"] == "fc":
            assert data["args"]["in_features"] == layer["in"]
            assert data["shape"] == (layer["out"],)


def test_lenet5_totals():
    net = archdsl.zoo("lenet5")
    assert net.params == SEED["lenet5"]["total_params"] == 61_706
    assert net.totals.weights == SEED["lenet5"]["total_weights"]
    assert net.totals.biases == SEED["lenet5"]["total_biases"]
    assert net.input_shape == (1, 32, 32)
    assert net.output_shape == (10,)
    # the lecture's per-layer list: 6x28x28, 6x14x14, 16x10x10, 16x5x5
    shapes = [net.layer(n)["shape"] for n in ("conv1", "pool1", "conv2", "pool2")]
    assert shapes == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5)]
    # conv weights without biases: 150 and 2,400
    assert [net.layer(n)["weights"] for n in ("conv1", "conv2")] == [150, 2400]


def test_lenet5_classes_parameter():
    net = archdsl.zoo("lenet5", classes=100)
    assert net.output_shape == (100,)
    assert net.layer("output")["params"] == 84 * 100 + 100


def test_alexnet_first_layer():
    ref = SEED["alexnet"]["conv1"]
    net = archdsl.parse("""
        network alexnet_conv1 {
            input 3x227x227
            conv1: conv(96, 11x11, stride=4)
        }""")
    conv1 = net.layer("conv1")
    assert conv1["shape"] == hwc_to_chw(ref["output"]) == (96, 55, 55)
    assert conv1["params"] == ref["params"] == 34_944
    assert conv1["weights"] == ref["weights"]


def test_output_size_formula_on_the_lecture_cases():
    # W2 = floor((W1 - F + 2P)/S) + 1, D2 = K; one layer per case
    cases = [(227, 11, 4, 0, 55), (224, 11, 4, 2, 55), (32, 5, 1, 0, 28), (224, 7, 2, 3, 112),
             (224, 7, 2, 1, 110), (55, 5, 2, 0, 26), (13, 3, 1, 1, 13)]
    for w1, f, s, p, w2 in cases:
        net = archdsl.parse(f"network t {{ input 3x{w1}x{w1}  conv(8, {f}x{f}, stride={s}, "
                            f"pad={p}) }}")
        assert net.output_shape == (8, w2, w2), (w1, f, s, p)
