"""Inline block calls (`inline stage(...)`): a network written with them has exactly the IR of
the same network written out by hand (names, ops, arguments, shapes, edges), so the same
summary and the same state_dict keys (tests/torch/test_inline.py compiles both)."""

from __future__ import annotations

import pytest

from archdsl.pipeline import run
from archdsl.summary import render
from tests.strategies_text import signature

# VGG's `features.N`: every conv, relu and pool of the five stages numbered in one sequence.
VGG_INLINE = """
block stage(width, convs) {
    [conv(width, 3x3, pad=1), relu] * convs
    maxpool(2x2, stride=2)
}

network vgg(classes = 10) {
    input 3x32x32
    features: {
        inline stage(16, 1)
        inline stage(32, 1)
        inline stage(64, 2)
    }
    flatten
    classifier: [linear(classes)]
}
"""

VGG_BY_HAND = """
network vgg(classes = 10) {
    input 3x32x32
    features: [
        conv(16, 3x3, pad=1), relu, maxpool(2x2, stride=2),
        conv(32, 3x3, pad=1), relu, maxpool(2x2, stride=2),
        conv(64, 3x3, pad=1), relu, conv(64, 3x3, pad=1), relu, maxpool(2x2, stride=2),
    ]
    flatten
    classifier: [linear(classes)]
}
"""

# MobileNetV2's `features.0` ... : a stage of inverted residuals is a block whose calls are
# numbered through the whole `features` sequence; the stem is shared with a second network.
MOBILE_INLINE = """
block conv_bn(c, k = 3x3, stride = 1) {
    conv(c, k, stride=stride, pad=if k == 3x3 then 1 else 0, bias=false)
    batchnorm
    relu6
}

block inverted(c, stride, t) {
    add {
        { conv: { if t != 1 { conv_bn(in.channels * t, 1x1) }
                  conv_bn(in.channels * t, stride=stride)
                  conv(c, 1x1, bias=false); batchnorm } }
        if stride == 1 and in.channels == c {} else { conv(c, 1x1, stride=stride) }
    }
}

block stem(w) {
    conv_bn(w, stride=2)
    inverted(8, 1, 1)
}

block stage(c, n, s, t) {
    inverted(c, s, t)
    inverted(c, 1, t) * (n - 1)
}

network small {
    input 3x32x32
    features: {
        inline stem(16)
        inline stage(12, 2, 2, 6)
        inline stage(16, 3, 2, 6)
        conv_bn(64, 1x1)
    }
    avgpool(global=true); flatten
    classifier: [dropout(0.2), linear(10)]
}

network tiny {
    input 3x32x32
    features: { inline stem(16); conv_bn(32, 1x1) }
    avgpool(global=true); flatten
    classifier: [linear(10)]
}
"""

MOBILE_BY_HAND = MOBILE_INLINE.split("network small")[0] + """
network small {
    input 3x32x32
    features: [
        conv_bn(16, stride=2), inverted(8, 1, 1),
        inverted(12, 2, 6), inverted(12, 1, 6),
        inverted(16, 2, 6), inverted(16, 1, 6), inverted(16, 1, 6),
        conv_bn(64, 1x1),
    ]
    avgpool(global=true); flatten
    classifier: [dropout(0.2), linear(10)]
}

network tiny {
    input 3x32x32
    features: [conv_bn(16, stride=2), inverted(8, 1, 1), conv_bn(32, 1x1)]
    avgpool(global=true); flatten
    classifier: [linear(10)]
}
"""

PAIRS = [(VGG_INLINE, VGG_BY_HAND, "vgg"), (MOBILE_INLINE, MOBILE_BY_HAND, "small"),
         (MOBILE_INLINE, MOBILE_BY_HAND, "tiny")]


def _scopes(ir) -> list:
    return [(d["name"], [(sc.path, sc.kind) for sc in d["scopes"]]) for _, d in ir.nodes()]


def _run(text: str, network: str):
    result = run(text=text, display="net.arch", network=network)
    assert not result.diagnostics.items, [d.message for d in result.diagnostics.items]
    return result


@pytest.mark.parametrize(("inline", "by_hand", "network"), PAIRS, ids=lambda p: str(p)[:12])
def test_inline_calls_make_the_ir_written_out_by_hand(inline, by_hand, network):
    a, b = _run(inline, network), _run(by_hand, network)
    assert signature(a) == signature(b)
    # the scopes (what the diagram draws and the module hierarchy nests) are the same too
    assert _scopes(a.ir) == _scopes(b.ir)
    assert render(a.ir) == render(b.ir)


def test_mobilenet_features_are_numbered_through_the_inline_stages():
    names = {d["name"] for _, d in _run(MOBILE_INLINE, "small").ir.nodes()}
    assert "features.0.0" in names  # the stem's conv_bn
    assert "features.1.conv.0.0" in names  # the stem's inverted residual (t = 1: no expand)
    assert "features.1.conv.3" not in names
    assert {f"features.{i}.conv.3" for i in range(2, 7)} <= names  # the stages' six
    assert "features.7.0" in names and "features.8.0" not in names


def test_inline_init_rules_stay_in_the_inline_body():
    text = """
    block stem {
        init conv.weight = zeros
        conv(4, 1x1)
    }
    network net {
        input 3x8x8
        inline stem
        conv(4, 1x1)
    }
    """
    ir = _run(text, "net").ir
    inits = {d["name"]: d["init"] for _, d in ir.nodes() if d["op"] == "conv"}
    assert inits["0"] and not inits["1"]


def test_labels_of_two_inline_calls_clash_in_the_callers_scope():
    text = ("block stem {\n    conv1: conv(4, 1x1)\n}\n"
            "network net {\n    input 3x8x8\n    inline stem\n    inline stem\n}\n")
    diags = run(text=text, display="net.arch").diagnostics.items
    assert [(d.code, d.message) for d in diags] == [("E0209", "`conv1` is already defined")]
    assert [lab.message for lab in diags[0].labels] == [
        "the first `conv1` comes from this inline call"]
    assert diags[0].labels[0].span.line == 6
    assert diags[0].notes == ["in block `stem` inlined at net.arch:7"]


def test_a_label_beside_an_inlined_label_clashes():
    text = ("block stem {\n    conv1: conv(4, 1x1)\n}\n"
            "network net {\n    input 3x8x8\n    conv1: conv(4, 1x1)\n    inline stem\n}\n")
    diags = run(text=text, display="net.arch").diagnostics.items
    assert [(d.code, d.span.line) for d in diags] == [("E0209", 2)]
    assert diags[0].labels[0].message == "first defined here"
