"""Snapshots of what people read: `model.code` and the standalone source, for LeNet-5 and the
branched test network. `pytest --bless` rewrites them after a deliberate change."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

import archdsl
from tests.conftest import check_golden

from .helpers import BRANCHED, GOLDEN


def _net(which):
    if which == "lenet5":
        return archdsl.zoo("lenet5")
    # Parsed from text with a stable file name, so spans in the output do not depend on where
    # the checkout lives.
    return archdsl.parse(BRANCHED.read_text(), filename="tests/torch/branched.arch")


@pytest.mark.parametrize("which", ["lenet5", "branched"])
def test_model_code(which, bless):
    check_golden(GOLDEN / f"{which}.code.py.txt", _net(which).to_torch().code, bless)


@pytest.mark.parametrize("which", ["lenet5", "branched"])
def test_standalone_source(which, bless):
    check_golden(GOLDEN / f"{which}.standalone.py.txt", _net(which).to_source(), bless)
