"""The torchvision-compatible networks of the zoo against torchvision's own figures
(tests/reference/torchvision/*.json): parameters, buffers and MACs exactly; every state_dict
key and shape in order, predicted from the IR and read from the compiled module; each leaf
module's output shape and constructor arguments.

ResNet's blocks call one shared `relu` module up to three times (`layer1.0.relu`); in the IR
each use is its own parameterless layer, numbered in the block (`layer1.0.0`, `layer1.0.1`).
So a reference module whose name the IR lacks must be a parameterless ReLU, and every IR layer
with parameters must be a reference module of the same name.
"""

from __future__ import annotations

import pytest

from tests.zoo.helpers import (
    TORCH_CLASS,
    TORCHVISION,
    net,
    normalise_attrs,
    predicted_state_dict,
    ref,
    torch_args,
)


@pytest.mark.parametrize("name", TORCHVISION)
def test_counts_equal_torchvision(name):
    n, r = net(name), ref(name)
    assert n.params == r["total_params"]
    assert n.trainable_params == r["trainable_params"]
    assert n.totals.buffers == r["buffers"]
    assert n.macs == r["macs"]
    assert n.input_shape == tuple(r["input_shape"][1:])
    assert n.output_shape == tuple(r["output_shape"][1:])


@pytest.mark.parametrize("name", TORCHVISION)
def test_state_dict_predicted_from_the_ir(name):
    assert predicted_state_dict(net(name)) == ref(name)["state_dict"]


@pytest.mark.parametrize("name", TORCHVISION)
def test_every_module_shape_and_arguments(name):
    n, r = net(name), ref(name)
    ir = n.ir
    missing = []
    for mod, cls, shape, params in r["modules"]:
        if mod not in ir:
            missing.append((mod, cls, params))
            continue
        data = n.layer(mod)
        assert TORCH_CLASS[data["op"]] == cls, mod
        assert data["shape"] == tuple(shape[1:]), mod
        assert data["params"] == params, mod
        want = torch_args(data)
        if mod in r["module_attrs"] and want:
            assert normalise_attrs(r["module_attrs"][mod], want) == want, mod
    assert all(cls == "ReLU" and params == 0 for _, cls, params in missing), missing
    assert all(mod in r["reused_leaf_modules"] for mod, _, _ in missing), missing
    ref_names = {m[0] for m in r["modules"]}
    with_params = [d["name"] for _, d in ir.layers() if d["params"] or d["buffers"]]
    assert [m for m in with_params if m not in ref_names] == []


def test_googlenet_aux_heads_match_aux_logits_true():
    base, aux = ref("googlenet"), ref("googlenet")["aux_logits_true"]
    n = net("googlenet", aux=True)
    assert n.params == aux["total_params"] == 13_004_888
    assert n.totals.buffers == aux["buffers"]
    expected = base["state_dict"][:-2] + aux["extra_state_dict"] + base["state_dict"][-2:]
    assert len(expected) == aux["num_state_dict_entries"]
    assert predicted_state_dict(n) == expected
    heads = {h: sum(d["params"] for _, d in n.ir.layers() if d["name"].startswith(h + "."))
             for h in ("aux1", "aux2")}
    assert heads == {"aux1": aux["aux1_params"], "aux2": aux["aux2_params"]}
    # The heads hang off inception 4a and 4d and do not reach the output.
    assert n.ir.node(n.ir.inputs(n.ir.by_name("aux1.0"))[0])["name"] == "inception4a.concat"
    assert n.ir.node(n.ir.inputs(n.ir.by_name("aux2.0"))[0])["name"] == "inception4d.concat"
    assert n.ir.by_name("aux1.fc2") not in n.ir.live()
    assert n.output_shape == (1000,)


def test_googlenet_aux_is_off_by_default():
    assert "aux1.fc2" not in net("googlenet").ir
