"""The table of names from other tools (dsl/foreign.py) and near misses (argspec.near_miss)."""

from __future__ import annotations

import pytest

from archdsl import ops
from archdsl.argspec import near_miss
from archdsl.foreign import LAYERS, foreign_function, foreign_layer, layer_note, normalise
from archdsl.pipeline import run

NET = "network net {{\n    input 3x16x16\n    {}\n}}\n"


def _messages(item: str) -> list[tuple[str, str, list[str], str | None]]:
    result = run(text=NET.format(item))
    return [(d.code, d.message, d.notes, d.help) for d in result.diagnostics.items]


@pytest.mark.parametrize(("word", "kind"), [
    ("Conv2d", "conv"), ("conv_2d", "conv"), ("BatchNorm1d", "batchnorm"),
    ("MaxPooling2D", "maxpool"), ("max_pool2d", "maxpool"), ("Dense", "linear"),
    ("AdaptiveAvgPool2d", "adaptive_avgpool"), ("LeakyReLU", "leaky_relu"),
    ("Conv2DTranspose", "conv_transpose"), ("ConvTranspose2d", "conv_transpose"),
    ("UpsamplingBilinear2d", "upsample"), ("interpolate", "upsample"),
])
def test_foreign_spellings_normalise_to_one_row(word, kind):
    hit = foreign_layer(word, frozenset(ops.names()))
    assert hit is not None and hit.kind == kind


def test_archdsl_own_names_are_not_foreign():
    for name in ops.names():
        assert foreign_layer(name, frozenset(ops.names())) is None


def test_every_row_targets_a_kind_a_merge_or_a_kind_to_come():
    """Rows may name kinds that do not exist yet; the note then says so, never "calls it"."""
    known = frozenset(ops.names())
    for names, kind, _ in LAYERS:
        hit = foreign_layer(names.split()[0] + "_x_", known)  # not a row: None
        assert hit is None
        hit = foreign_layer(names.split()[-1].upper(), known)
        if hit is not None:
            note, _ = layer_note(hit)
            assert ("calls it" in note) == (kind in known or kind in ("add", "concat")), note


def test_a_kind_not_registered_yet_is_said_so_and_named_once_it_is():
    """The table may name kinds before they exist (a plug-in, a later release); the note says
    so instead of "calls it", and names the kind once the registry has it."""
    known = frozenset(ops.names())
    hit = foreign_layer("ConvTranspose2d", known - {"conv_transpose", "deconv"})
    assert "has no `conv_transpose` layer kind" in layer_note(hit)[0]
    code, message, notes, help_ = _messages("ConvTranspose2d(8, 3x3)")[0]
    assert code == "E0201" and "did you mean" not in message
    assert notes == ["`ConvTranspose2d` is a transposed convolution in other tools; archdsl "
                     "calls it `conv_transpose`"]
    assert help_.startswith("write `conv_transpose(...)`")


def test_merges_are_not_listed_as_layer_kinds():
    (_, _, _, help_), = _messages("nosuchthing")
    listed = help_.split("layer kinds: ")[1].split(", ")
    assert "add" not in listed and "concat" not in listed and "conv" in listed


def test_foreign_functions():
    assert "int(x)" in foreign_function("trunc").what
    assert foreign_function("int") is None  # archdsl's own (dsl/builtins.py)
    assert foreign_function("min") is None
    assert normalise("Conv3d") == "conv"


@pytest.mark.parametrize(("word", "names", "hint"), [
    ("stide", ["stride", "pad"], "stride"),
    ("kernal", ["kernel"], "kernel"),
    ("Relu", ["relu", "relu6"], "relu"),
    ("lin", ["linear", "lrn", "in"], "linear"),
    ("trunc", ["min", "max"], None),
    ("foo", ["flatten", "conv"], None),
    ("bacthnorm", ["batchnorm"], "batchnorm"),  # a swap is one edit
    ("resnet5", ["resnet50", "resnet18"], "resnet50"),
    ("x" * 200, ["x"], None),
    ("r", ["x", "relu"], None),  # one letter for another is no slip
    ("lu", ["elu", "x"], "elu"),
])
def test_near_misses_only(word, names, hint):
    assert near_miss(word, names) == hint
