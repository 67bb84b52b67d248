"""Golden files for what a person reads about each new layer kind: its summary row and its DOT
node (label, family colour, parameter count). Re-bless with `pytest --bless` after a
deliberate change, and read the diff."""

from __future__ import annotations

from pathlib import Path

import pytest

import archdsl
from archdsl.backends.graphviz import to_dot
from tests.conftest import check_golden

from .examples import EXAMPLES, program

GOLDEN = Path(__file__).parent / "golden"


def _layer_lines(net) -> str:
    """The summary rows and DOT nodes of the layers labelled `t` and `t2`."""
    rows = [line for line in net.summary().splitlines() if line.split(" ")[0] in ("t", "t2")]
    dot = to_dot(net.ir)
    ids = {f"n{nid}" for nid, d in net.ir.nodes() if d["name"] in ("t", "t2")}
    nodes = [line.strip() for line in dot.splitlines() if line.strip().split(" ")[0] in ids]
    return "\n".join(["# summary", *rows, "# dot", *nodes]) + "\n"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_summary_row_and_dot_node(name, bless):
    net = archdsl.parse(program(name))
    check_golden(GOLDEN / f"{name}.txt", _layer_lines(net), bless)


def test_every_new_kind_has_an_example():
    from archdsl import ops

    written = {archdsl.parse(program(n)).ir.node(i)["op"] for n in EXAMPLES
               for i, _ in archdsl.parse(program(n)).ir.nodes()}
    old = {"input", "conv", "maxpool", "avgpool", "adaptive_avgpool", "linear", "flatten",
           "batchnorm", "lrn", "dropout", "relu", "relu6", "leaky_relu", "tanh", "sigmoid",
           "gelu", "softmax", "identity", "concat", "add"}
    # the kinds with several inputs or outputs have theirs in tests/graphviz/golden/structure.*
    structural = {"mul", "sub", "div", "max", "min", "chunk", "split", "crop", "upsample"}
    missing = set(ops.kinds()) - old - written - structural
    assert not missing, sorted(missing)
