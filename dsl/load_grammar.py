"""Loads the Lark grammar, once, from package data (`archdsl.grammar/archdsl.lark`)."""

from __future__ import annotations

import functools
from importlib import resources

from lark import Lark


def grammar_text() -> str:
    return resources.files("archdsl.grammar").joinpath("archdsl.lark").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The LALR parser (linear time); built once per process."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        cache=False,
    )
