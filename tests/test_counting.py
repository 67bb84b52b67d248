"""Counting conventions (dsl/passes/counting.py) and the memory estimate
(dsl/passes/memory.py) in the front end, against the figures the tools gave (stored in
tests/reference/counting.json; tests/torch/test_counting_tools.py runs the tools themselves)."""

from __future__ import annotations

import json
import sys

import pytest

import archdsl
from archdsl.passes.counting import CONVENTIONS, count
from archdsl.pipeline import run
from tests.conftest import TESTS, run_cli

REFERENCE = {k: v for k, v in json.loads((TESTS / "reference" / "counting.json").read_text())
             .items() if not k.startswith("_")}


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
def test_each_convention_gives_its_tools_figure(name, convention):
    assert archdsl.zoo(name).count(convention) == REFERENCE[name][convention]


def test_the_issue_figures():
    """The figures quoted when the conventions were asked for (torchinfo, fvcore, torch)."""
    assert archdsl.zoo("lenet5").count("torchinfo") == 423_038
    assert archdsl.zoo("resnet50").count("torchinfo") == 4_089_238_376
    assert archdsl.zoo("resnet50").count("fvcore") == 4_111_512_576
    assert archdsl.zoo("resnet50").count() == 4_089_184_256 == archdsl.zoo("resnet50").macs


def test_flops_are_twice_the_macs_in_every_convention():
    net = archdsl.zoo("lenet5")
    for name in CONVENTIONS:
        assert net.count(name, "flops") == 2 * net.count(name)


def test_per_layer_work_adds_up():
    ir = archdsl.zoo("googlenet").ir
    for name in CONVENTIONS:
        work = count(ir, name)
        assert work.total == sum(work.per_node.values()) == REFERENCE["googlenet"][name]


def test_conventions_by_kind():
    text = """network net {
        input 3x8x8
        conv(4, 3x3, pad=1); batchnorm; relu
        maxpool(2x2, stride=2)
        adaptive_avgpool(1x1)
        flatten; linear(2)
    }"""
    ir = run(text=text).ir
    conv_macs, lin = 4 * 3 * 9 * 64, 4 * 2
    assert count(ir).total == conv_macs + lin
    # conv weights+bias at 64 positions; batch norm's 8 parameters; linear weights+bias
    assert count(ir, "torchinfo").total == (108 + 4) * 64 + 8 + lin + 2
    # batch norm 2 per element, adaptive pool 1 per input element, no biases
    assert count(ir, "fvcore").total == conv_macs + 2 * 256 + 4 * 16 + lin
    # biases, batch norm 2 per element (affine), relu and pools twice per element
    assert count(ir, "ptflops").total == conv_macs + 256 + 2 * 256 + 2 * 256 + 2 * 256 \
        + 2 * 64 + lin + 2


def test_unknown_convention_names_the_known_ones():
    with pytest.raises(KeyError, match="known: archdsl, torchinfo"):
        archdsl.zoo("lenet5").count("thop")


def test_memory_estimate_arithmetic():
    net = archdsl.zoo("lenet5")
    params = 61_706 * 4
    sgd, mom, adam = (net.memory(8, o) for o in ("sgd", "momentum", "adam"))
    assert sgd.parameters == params and sgd.gradients == params and sgd.optimizer_state == 0
    assert mom.optimizer_state == params
    assert adam.optimizer_state == 2 * params + 10 * 4  # exp_avg, exp_avg_sq; a step per tensor
    assert sgd.input == 8 * 32 * 32 * 4
    assert sgd.activations_training == 8 * 15_002 * 4  # every layer's output
    assert sgd.activations_inference == 8 * (4704 + 4704) * 4  # conv1's output and tanh's
    assert sgd.torchinfo_forward_backward == 8 * REFERENCE["lenet5"]["torchinfo_forward_backward"]
    assert adam.training > mom.training > sgd.training > sgd.inference


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_torchinfo_forward_backward_size(name):
    assert archdsl.zoo(name).memory().torchinfo_forward_backward == \
        REFERENCE[name]["torchinfo_forward_backward"]


def test_batch_norm_buffers_hold_an_int64_counter():
    ir = run(text="network n {\n    input 4x2x2\n    batchnorm\n}\n").ir
    assert archdsl.Network(ir, source=None, params_used={}).memory().buffers == 8 * 4 + 8


def test_summary_options(tmp_path):
    code, out, err = run_cli("summary", "lenet5", "--convention", "torchinfo")
    assert code == 0, err
    assert "MACs (torchinfo)" in out and "423,038" in out and "122,304" in out  # conv1
    code, out, _ = run_cli("summary", "lenet5", "--unit", "flops", "--format", "json")
    data = json.loads(out)
    assert data["work"] == {"convention": "archdsl", "unit": "flops", "total": 833_040}
    assert data["macs"] == 416_520
    code, out, _ = run_cli("summary", "lenet5", "--batch", "32", "--optimizer", "momentum",
                           "--format", "json")
    mem = json.loads(out)["memory"]
    assert mem["batch"] == 32 and mem["optimizer_state"] == 61_706 * 4
    code, out, _ = run_cli("summary", "lenet5", "--memory")
    assert "memory, training" in out and "(batch 1, Adam)" in out
    code, _, err = run_cli("summary", "lenet5", "--batch", "0")
    assert code == 2 and "--batch must be 1 or more" in err


def test_counting_never_imports_torch():
    before = "torch" in sys.modules
    code, _, _ = run_cli("summary", "resnet50", "--convention", "fvcore", "--memory")
    assert code == 0
    if not before:
        assert "torch" not in sys.modules
