"""The front-end rule VGG's layout needs: a repeated list `[ ... ] * N` is the list written N
times in place (numbered flat, like torchvision's `make_layers`), while each copy of a repeated
group `{ ... } * N` is a numbered scope."""

from __future__ import annotations

import pytest

import archdsl
from archdsl.diagnostics import ArchError


def _names(text):
    return [d["name"] for _, d in archdsl.parse(text).ir.layers()]


def test_repeated_list_is_flat():
    names = _names("network n { input 3x8x8  f: [conv(4, 3x3, pad=1), relu] * 2; maxpool(2x2) }")
    assert names == ["f.0", "f.1", "f.2", "f.3", "0"]


def test_repeated_list_with_a_conditional_item():
    text = "network n {{ input 3x8x8  f: [conv(4, 3x3), if {} {{ batchnorm }}, relu] * 2 }}"
    assert _names(text.format("true")) == [f"f.{i}" for i in range(6)]
    assert _names(text.format("false")) == [f"f.{i}" for i in range(4)]


def test_repeated_group_copies_are_scopes():
    names = _names("network n { input 3x8x8  f: { conv(4, 3x3, pad=1); relu } * 2 }")
    assert names == ["f.0.0", "f.0.1", "f.1.0", "f.1.1"]


def test_a_label_inside_a_repeated_list_is_defined_twice():
    with pytest.raises(ArchError) as err:
        archdsl.parse("network n { input 3x8x8  [c: conv(4, 3x3, pad=1), relu] * 2 }")
    assert [d.code for d in err.value.diagnostics] == ["E0209"]
