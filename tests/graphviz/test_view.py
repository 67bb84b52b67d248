"""What the drawing contains: visible layers, collapsed and folded blocks, merged chains,
partial diagrams, focus, and the options. Checked on the DOT text and on the view."""

from __future__ import annotations

import re

import pytest

from archdsl.backends.graphviz import DrawOptions, to_dot
from archdsl.backends.graphviz.labels import kind_text, span_name
from archdsl.backends.graphviz.view import build
from tests.graphviz.helpers import case, zoo


def test_kind_text_reads_like_the_lecture():
    args = {"filters": 64, "kernel": (7, 7), "stride": (2, 2), "pad": (3, 3),
            "dilation": (1, 1), "groups": 1}
    assert kind_text("conv", args) == "conv 64 · 7×7 /2 p3"
    assert kind_text("conv", dict(args, stride=(1, 1), pad=(0, 0))) == "conv 64 · 7×7"
    assert span_name("layer2.1", "layer2.3") == "layer2.1–3"


def test_every_layer_of_lenet5_is_a_node_with_its_params_and_shapes():
    text = to_dot(zoo("lenet5"))
    assert "conv 6 · 5×5" in text and "156 params" in text and "48,120 params" in text
    for shape in ("6×28×28", "6×14×14", "16×10×10", "16×5×5", "400", "120", "84"):
        assert f'label=" {shape}"' in text
    assert "61,706 parameters" in text


def test_resnet_depth2_folds_identical_consecutive_blocks():
    view = build(zoo("resnet50"), DrawOptions(depth=2))
    blocks = [(u.name, u.op, u.repeat) for u in view.units if u.role == "block"]
    assert blocks == [("layer1.0", "bottleneck", 1), ("layer1.1", "bottleneck", 2),
                      ("layer2.0", "bottleneck", 1), ("layer2.1", "bottleneck", 3),
                      ("layer3.0", "bottleneck", 1), ("layer3.1", "bottleneck", 5),
                      ("layer4.0", "bottleneck", 1), ("layer4.1", "bottleneck", 2)]
    assert set(view.clusters) == {"layer1", "layer2", "layer3", "layer4"}
    # the folded node's parameters are the sum over its blocks
    assert sum(u.params for u in view.units) == zoo("resnet50").graph.graph["totals"].params
    text = to_dot(zoo("resnet50"), depth=2)
    assert "bottleneck × 5" in text and "layer3.1–5" in text and 'shape="box3d"' in text


def test_depth1_collapses_top_level_blocks_into_nodes_with_in_and_out_shapes():
    text = to_dot(zoo("googlenet"), depth=1)
    assert "subgraph" not in text
    assert "<b>inception3a</b><br/>inception" in text
    assert "192×28×28 → 256×28×28" in text


def test_fully_expanded_draws_every_block_instance_as_a_box():
    view = build(zoo("resnet50"), DrawOptions())
    assert "layer3.5" in view.clusters and view.clusters["layer3.5"].kind == "bottleneck"
    assert view.clusters["layer3.5"].parent == "layer3"
    text = to_dot(zoo("resnet50"))
    assert "<b>5</b> · bottleneck" in text  # labelled inside its stage's box


def test_merge_nodes_are_glyphs():
    ir, _ = case("branched")
    text = to_dot(ir)
    assert re.search(r'shape="circle", label="‖"', text)
    assert re.search(r'shape="circle", label="\+"', text)


def test_merge_chains_folds_conv_bn_relu():
    ir, _ = case("branched")
    view = build(ir, DrawOptions(merge_chains=True))
    stem = next(u for u in view.units if u.name == "stem")
    assert stem.role == "chain" and stem.tail == ["batchnorm", "relu"]
    assert "conv 16 · 3×3 p1 + bn + relu" in to_dot(ir, merge_chains=True)
    assert not any(u.op == "batchnorm" for u in view.units)


def test_partial_diagram_stops_at_the_failing_layer():
    ir, diags = case("broken")
    view = build(ir, DrawOptions())
    names = [u.name for u in view.units]
    assert names[-1] == "conv3" and "fc" not in names
    assert [u.name for u in view.failing] == ["conv3"]
    text = to_dot(ir, diagnostics=diags)
    red = [line for line in text.splitlines() if " -> n" in line and "#d62728" in line
           and "note" not in line]
    assert len(red) == 1 and 'label=" 16×5×5"' in red[0]
    assert "error[E0301]: conv kernel 7x7 does not fit in its 5x5 padded input" in text
    assert "tests/graphviz/cases/broken.arch:8:12" in text
    assert 'shape="note"' in text and "result" not in text


def test_partial_diagram_without_diagnostics_still_notes_the_layer():
    ir, _ = case("broken")
    assert "the shape check failed at `conv3`" in to_dot(ir)


def test_focus_draws_one_block_with_stubs():
    text = to_dot(zoo("googlenet"), focus="inception3a", merge_chains=True)
    assert "googlenet › inception3a" in text
    assert "from <b>maxpool2</b>" in text and "to <b>inception3b</b>" in text
    assert "inception4a" not in text
    assert "155,872 parameters" in text
    with pytest.raises(ValueError, match="nothing to draw inside `nope`"):
        to_dot(zoo("googlenet"), focus="nope")


def test_options_turn_parts_off():
    ir = zoo("lenet5")
    text = to_dot(ir, shapes=False, params=False, title=False, legend=False, rankdir="LR")
    assert 'label=" ' not in text  # no shapes on the edges
    assert "params" not in text and "parameters" not in text and "label=<<table" not in text
    assert 'rankdir="LR"' in text


def test_bad_options_are_refused():
    with pytest.raises(TypeError, match="unknown drawing option"):
        to_dot(zoo("lenet5"), colour=True)
    with pytest.raises(ValueError):
        to_dot(zoo("lenet5"), depth=0)
    with pytest.raises(ValueError):
        to_dot(zoo("lenet5"), rankdir="XY")


def test_collapsed_dead_end_block_shows_what_it_computes():
    # GoogLeNet's aux heads feed nothing: collapsed, they still show their output shape.
    from archdsl import zoo_index
    from archdsl.pipeline import run

    result = run(path=zoo_index.path_of("googlenet"), params={"aux": True},
                 display=zoo_index.display_path("googlenet"))
    text = to_dot(result.ir, depth=1)
    assert "512×14×14 → 1000" in text and "528×14×14 → 1000" in text
    assert "→ ?" not in text
