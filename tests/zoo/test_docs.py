"""docs/zoo.md and the README's zoo table print what the zoo measures: every row is
recomputed from the IR and the .arch files (parameters, MACs, line counts, ratios)."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from tests.zoo.helpers import ORIGINALS, TORCHVISION, doc_row, ratio_rows, readme_row

DOC = (ROOT / "docs" / "zoo.md").read_text()
README = (ROOT / "README.md").read_text()
ALL = TORCHVISION + ORIGINALS


@pytest.mark.parametrize("name", ALL)
def test_doc_row(name):
    assert doc_row(name) in DOC.splitlines()


@pytest.mark.parametrize("name", ALL)
def test_readme_row(name):
    assert readme_row(name) in README.splitlines()


def test_ratios_are_printed():
    for row in ratio_rows():
        assert row in DOC.splitlines()
