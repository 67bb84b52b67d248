"""Golden DOT files: the exact text of four diagrams a person reads. Re-bless with
`pytest --bless` after a deliberate change of the drawing, and read the diff."""

from __future__ import annotations

from archdsl.backends.graphviz import to_dot
from tests.conftest import check_golden
from tests.graphviz.helpers import GOLDEN, case, zoo


def test_lenet5_fully_expanded(bless):
    check_golden(GOLDEN / "lenet5.dot", to_dot(zoo("lenet5")), bless)


def test_branched_network(bless):
    ir, _ = case("branched")
    check_golden(GOLDEN / "branched.dot", to_dot(ir), bless)


def test_branched_network_merged_chains_left_to_right(bless):
    ir, _ = case("branched")
    text = to_dot(ir, merge_chains=True, rankdir="LR", shapes=False)
    check_golden(GOLDEN / "branched_merged_lr.dot", text, bless)


def test_collapsed_resnet(bless):
    ir, _ = case("mini_resnet")
    check_golden(GOLDEN / "mini_resnet_depth2.dot", to_dot(ir, depth=2), bless)


def test_broken_file_partial_diagram(bless):
    ir, diags = case("broken")
    check_golden(GOLDEN / "broken.dot", to_dot(ir, diagnostics=diags), bless)


def test_structure_kinds_and_two_outputs(bless):
    """Issue 12's structural kinds (a node each) and a sink per output; the summary's rows of
    the same network (a row per kind, each output marked) beside it."""
    from archdsl.summary import render

    ir, _ = case("structure")
    check_golden(GOLDEN / "structure.dot", to_dot(ir), bless)
    check_golden(GOLDEN / "structure.summary.txt", render(ir), bless)
