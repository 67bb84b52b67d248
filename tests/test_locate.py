"""dsl/locate.py, the syntax-tree queries tools use: on every zoo file, the innermost node under
each layer's name is that layer's item, every node's children lie inside it in source order,
and a block's leading comment is the comment lines above it."""

from __future__ import annotations

import pytest

from archdsl import syntax as s
from archdsl.diagnostics import Diagnostics
from archdsl.locate import children, leading_comment, path_at, value_mentions, walk
from archdsl.parser import parse_module
from archdsl.source import SourceFile
from tests.conftest import ROOT

ZOO = sorted((ROOT / "architectures").glob("*.arch"))


def _module(path):
    return parse_module(SourceFile(path.name, path.read_text()), Diagnostics())


@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.stem)
def test_the_node_under_each_name_is_its_item(path):
    module = _module(path)
    items = [n for d in module.definitions for n in walk(d) if isinstance(n, (s.Call, s.Ref))]
    assert items
    for n in items:
        start = n.ident_span.start if isinstance(n, s.Call) else n.span.start
        assert path_at(module, start + 1)[-1] is n


@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.stem)
def test_children_lie_inside_their_parent_in_order(path):
    module = _module(path)
    for d in module.definitions:
        for n in walk(d):
            kids = children(n)
            assert [k.span.start for k in kids] == sorted(k.span.start for k in kids)
            for k in kids:
                assert n.span.start <= k.span.start <= k.span.end <= n.span.end, (n, k)


def test_leading_comment_and_value_mentions():
    path = ROOT / "architectures" / "resnet_blocks.arch"
    text = path.read_text()
    module = _module(path)
    stage = next(d for d in module.definitions if d.name == "stage")
    above = text[:text.index("block stage")].rstrip("\n").split("\n")
    lines = []
    for line in reversed(above):
        if not line.startswith("#"):
            break
        lines.insert(0, line[2:])
    assert leading_comment(stage) == "\n".join(lines) and lines
    bottleneck = next(d for d in module.definitions if d.name == "bottleneck")
    spans = value_mentions(bottleneck, "width")
    body = text[bottleneck.span.start:bottleneck.span.end]
    assert len(spans) == body.count("width")  # the parameter and each use
    assert all(sp.text() == "width" for sp in spans)
