"""Loads the Lark grammar, once, from package data (`archdsl.grammar/archdsl.lark`).

Building the LALR tables from the grammar takes ~0.15 s, most of a `check`'s start-up. The
built parser is therefore kept in the user's cache folder (`$XDG_CACHE_HOME/archdsl`, else
`~/.cache/archdsl`) under a name made from the grammar's text, lark's version, the options and
the Python version, so an edited grammar or another lark never loads stale tables. A cache that
is missing, unwritable or unreadable only costs the build; it never changes a result.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import sys

import lark
from lark import Lark
from lark.lexer import ContextualLexer
from lark.parsers.lalr_analysis import Shift

from .lexer import FastContextualLexer

OPTIONS = {"parser": "lalr", "lexer": "contextual", "propagate_positions": False,
           "maybe_placeholders": True}


def grammar_text() -> str:
    from . import grammar  # the package data folder (see zoo_index.zoo_dir for why not resources)

    path = os.path.join(os.path.dirname(os.path.abspath(grammar.__file__)), "archdsl.lark")
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "archdsl")


def cache_path(text: str) -> str:
    key = "\0".join([text, lark.__version__, repr(sorted(OPTIONS.items())), sys.version])
    return os.path.join(cache_dir(), f"grammar-{hashlib.sha256(key.encode()).hexdigest()[:24]}"
                        ".lark.pickle")


@functools.lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The LALR parser (linear time), with the fast lexer (dsl/lexer.py) in place of Lark's
    contextual one; built once per process."""
    parser = _lalr_parser()
    frontend = parser.parser
    # Both speed-ups reach into Lark's parser objects (as laid out in lark 1.3). Another lark
    # that lays them out differently keeps its own lexer and lookups: slower, same results.
    if isinstance(frontend.lexer, ContextualLexer):
        conf = frontend.lexer_conf
        frontend.lexer = FastContextualLexer(frontend.lexer, conf.terminals, conf.ignore)
    lalr = getattr(frontend.parser, "parser", None)
    if isinstance(getattr(lalr, "callbacks", None), dict) and hasattr(lalr, "parse_table"):
        _key_callbacks_by_table_rules(lalr)
    return parser


def counts_tokens() -> bool:
    """Whether the parser's lexer charges the work budget for each token (the fast lexer
    does; without it, dsl/parser.py estimates the count before parsing)."""
    return isinstance(lark_parser().parser.lexer, FastContextualLexer)


def _key_callbacks_by_table_rules(lalr) -> None:
    """Each reduction looks its rule up in the callbacks dict. A parser loaded from the cache
    holds equal but distinct Rule objects in its table and in that dict, so every lookup
    fell through to Rule.__eq__ (Python code comparing whole expansions); keyed by the table's
    own objects, the lookup stops at identity."""
    rules = {arg for actions in lalr.parse_table.states.values()
             for action, arg in actions.values() if action is not Shift}
    lalr.callbacks = {rule: lalr.callbacks[rule] for rule in rules}


def _lalr_parser() -> Lark:
    """Lark's LALR parser for the grammar, loaded from the cache if it can."""
    text = grammar_text()
    path = cache_path(text)
    try:
        with open(path, "rb") as fh:
            return Lark.load(fh)
    except Exception:  # missing, truncated, written by another lark: build it instead
        pass
    parser = Lark(text, **OPTIONS)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        from .fileio import write_atomic

        buf = io.BytesIO()
        parser.save(buf)
        write_atomic(path, buf.getvalue())
    except OSError:
        pass  # a read-only home: build each time
    return parser
