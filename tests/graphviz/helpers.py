"""Shared by the diagram tests: load a case or a zoo network with stable, relative paths."""

from __future__ import annotations

import shutil

import pytest

from archdsl import zoo_index
from archdsl.pipeline import run
from tests.conftest import ROOT, TESTS

CASES = TESTS / "graphviz" / "cases"
GOLDEN = TESTS / "graphviz" / "golden"

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (make graphviz)")


def case(name: str):
    """(IR, diagnostics) of tests/graphviz/cases/NAME.arch, paths shown relative to the root."""
    path = CASES / f"{name}.arch"
    result = run(path=str(path), display=path.relative_to(ROOT).as_posix())
    return result.ir, result.diagnostics.items


def zoo(name: str):
    result = run(path=zoo_index.path_of(name), display=zoo_index.display_path(name))
    assert not result.diagnostics.has_errors, name
    return result.ir
