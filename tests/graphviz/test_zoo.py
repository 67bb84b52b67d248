"""Every zoo network draws at depth 1 and fully expanded (DOT text for all; `dot` renders a
few small ones, to keep the suite fast)."""

from __future__ import annotations

import re

import pytest

from archdsl import zoo_index
from archdsl.backends.graphviz import render, to_dot
from tests.graphviz.helpers import needs_dot, zoo

NAMES = zoo_index.names()


def _well_formed(text: str) -> None:
    """Balanced braces, and every edge's ends are declared nodes."""
    assert text.startswith("digraph ") and text.endswith("}\n")
    assert text.count("{") == text.count("}")
    declared = set(re.findall(r"^\s*(\w+) \[", text, re.M)) - {"graph", "node", "edge"}
    for src, dst in re.findall(r"^\s*(\w+) -> (\w+)", text, re.M):
        assert src in declared and dst in declared, (src, dst)


@pytest.mark.parametrize("name", NAMES)
def test_zoo_network_draws_expanded_and_collapsed(name):
    ir = zoo(name)
    full, top = to_dot(ir), to_dot(ir, depth=1)
    _well_formed(full)
    _well_formed(top)
    assert len(top) <= len(full)
    _well_formed(to_dot(ir, depth=2, merge_chains=True))


@needs_dot
@pytest.mark.parametrize("name", [n for n in ("lenet5", "alexnet", "resnet18") if n in NAMES])
def test_small_zoo_networks_render_with_dot(name):
    ir = zoo(name)
    for depth in (None, 1):
        svg = render(to_dot(ir, depth=depth), "svg").decode()
        assert "<svg" in svg and name in svg
