"""The formatter on the new kinds: each example, written untidily, formats to text that
formats to itself and gives the same IR (names, ops, resolved arguments, shapes, edges)."""

from __future__ import annotations

import pytest

from archdsl.format import format_text
from archdsl.pipeline import run
from tests.strategies_text import signature

from .examples import EXAMPLES, program


def _untidy(text: str) -> str:
    return (text.replace("(", " (  ").replace(", ", " ,").replace("=", " = ")
            .replace("\n    ", "\n  \t"))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_format_keeps_the_network(name):
    text = _untidy(program(name))
    once = format_text(text, "t.arch")
    assert format_text(once, "t.arch") == once
    assert once == format_text(program(name), "t.arch")
    assert signature(run(text=text, display="t.arch")) == \
        signature(run(text=once, display="t.arch"))
