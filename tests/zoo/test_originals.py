"""The zoo's faithful originals against the lecture's and the papers' figures
(tests/reference/seed_numbers.json). LeNet-5's per-layer figures are tested in
tests/test_lenet5.py."""

from __future__ import annotations

import pytest

from tests.conftest import reference
from tests.zoo.helpers import fc_instead_of_pool, net

SEED = reference("seed_numbers")


def chw(hwc):
    h, w, c = hwc
    return (c, h, w)


def _check_layer(data, layer):
    """One row of a seed table: output shape, parameters, K/F/S/P, pool rounding."""
    assert data["params"] == layer["params"], layer["name"]
    if "output" in layer:
        assert data["shape"] == chw(layer["output"]), layer["name"]
    if "weights" in layer:
        assert (data["weights"], data["biases"]) == (layer["weights"], layer["biases"])
    args = data["args"]
    if layer["type"] in ("conv", "maxpool"):
        f, s, p = layer["F"], layer["S"], layer["P"]
        assert (args["kernel"], args["stride"], args["pad"]) == ((f, f), (s, s), (p, p))
    if layer["type"] == "conv":
        assert args["filters"] == layer["K"]
    if layer["type"] == "maxpool":
        assert args["ceil"] == layer["ceil_mode"]
    if layer["type"] == "fc":
        assert (args["in_features"], args["features"]) == (layer["in"], layer["out"])


# ------------------------------------------------------------------ AlexNet 2012
def test_alexnet2012_conv1_227_to_55x55x96():
    layer = SEED["alexnet"]["conv1"]
    n = net("alexnet2012")
    assert n.input_shape == chw(layer["input"]) == (3, 227, 227)
    _check_layer(n.layer("conv1"), layer)
    assert n.layer("conv1")["shape"] == (96, 55, 55)
    assert n.layer("conv1")["params"] == 34_944


def test_alexnet2012_stages_and_two_gpu_split():
    n = net("alexnet2012")
    sizes = [n.layer(x)["shape"] for x in ("pool1", "conv2", "pool2", "conv3", "conv4",
                                            "conv5", "pool5")]
    assert sizes == [(96, 27, 27), (256, 27, 27), (256, 13, 13), (384, 13, 13),
                     (384, 13, 13), (256, 13, 13), (256, 6, 6)]
    groups = {x: n.layer(x)["args"]["groups"] for x in ("conv1", "conv2", "conv3", "conv4",
                                                         "conv5")}
    assert groups == {"conv1": 1, "conv2": 2, "conv3": 1, "conv4": 2, "conv5": 2}
    # each GPU's conv2 kernels see 48 of conv1's 96 maps: 256*48*5*5 + 256
    assert n.layer("conv2")["params"] == 256 * 48 * 25 + 256 == 307_456
    for norm in ("norm1", "norm2"):
        a = n.layer(norm)["args"]
        assert (a["size"], a["alpha"], a["beta"], a["k"]) == (5, 1e-4, 0.75, 2)
    for pool in ("pool1", "pool2", "pool5"):  # overlapping: 3x3 windows, stride 2
        assert n.layer(pool)["args"]["kernel"] == (3, 3)
        assert n.layer(pool)["args"]["stride"] == (2, 2)
    for layer in SEED["alexnet"]["classifier_real"]["layers"]:
        _check_layer(n.layer(layer["name"]), layer)
    assert n.params == 60_965_224


# ------------------------------------------------------------------ ZFNet
def test_zfnet_layer_table():
    table = SEED["zfnet"]
    n = net("zfnet")
    assert n.input_shape == chw(table["input"])
    for layer in table["layers"]:
        if layer["type"] == "contrast_norm":
            assert n.layer(layer["name"])["op"] == "lrn"
            assert n.layer(layer["name"])["shape"] == chw(layer["output"])
            continue
        _check_layer(n.layer(layer["name"]), layer)
    sizes = [n.layer(x)["shape"][1] for x in ("conv1", "pool1", "conv2", "pool2", "conv3",
                                               "conv4", "conv5", "pool5")]
    assert sizes == [110, 55, 26, 13, 13, 13, 13, 6]
    assert n.params == table["total_params"] == 62_357_608
    assert n.macs == table["macs_conv_fc"] == 1_168_032_896


# ------------------------------------------------------------------ GoogLeNet 2014
TABLE1 = [  # Szegedy et al. 2014, Table 1: (layer, output size, depth)
    ("conv1.conv", 112, 64), ("pool1", 56, 64), ("conv2.conv", 56, 192), ("pool2", 28, 192),
    ("inception3a.concat", 28, 256), ("inception3b.concat", 28, 480), ("pool3", 14, 480),
    ("inception4a.concat", 14, 512), ("inception4b.concat", 14, 512),
    ("inception4c.concat", 14, 512), ("inception4d.concat", 14, 528),
    ("inception4e.concat", 14, 832), ("pool4", 7, 832), ("inception5a.concat", 7, 832),
    ("inception5b.concat", 7, 1024), ("avgpool", 1, 1024),
]


def test_googlenet2014_table1():
    n = net("googlenet2014")
    got = [(name, n.layer(name)["shape"][1], n.layer(name)["shape"][0]) for name, _, _ in TABLE1]
    assert got == TABLE1
    ops = [d["op"] for _, d in n.ir.layers()]
    assert "batchnorm" not in ops and ops.count("lrn") == 2
    assert n.layer("inception3a.branch3.1.conv")["args"]["kernel"] == (5, 5)  # a true 5x5
    assert n.layer("dropout")["args"]["p"] == 0.4


@pytest.mark.parametrize("name", ["googlenet2014", "googlenet"])
def test_global_average_pooling_replaces_a_50m_weight_layer(name):
    fact = SEED["googlenet"]["fc_vs_avgpool"]
    n = net(name)
    assert n.layer("avgpool")["shape"] == (1024, 1, 1)
    before = n.ir.node(n.ir.inputs(n.ir.by_name("avgpool"))[0])["shape"]
    assert before == chw(fact["fc_input"]) == (1024, 7, 7)
    assert fc_instead_of_pool(n) == fact["fc_weights"] == 50_176_000
    assert n.layer("fc")["weights"] == fact["avgpool_then_fc_weights"] == 1_024_000
    assert fc_instead_of_pool(n) // n.layer("fc")["weights"] == fact["reduction_factor"] == 49


def test_googlenet2014_aux_classifiers():
    n = net("googlenet2014", aux=True)
    assert n.layer("aux1.0")["shape"] == (512, 4, 4)  # 5x5 average pool, stride 3, on 14x14
    assert n.layer("aux2.0")["shape"] == (528, 4, 4)
    assert n.layer("aux1.dropout")["args"]["p"] == 0.7
    base = net("googlenet2014")
    heads = n.params - base.params
    assert heads == (128 * 512 + 128) + (128 * 528 + 128) + 2 * (2048 * 1024 + 1024 + 1024 * 1000
                                                                 + 1000)
    assert n.output_shape == base.output_shape == (1000,)
