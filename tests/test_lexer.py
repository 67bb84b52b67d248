"""The fast lexer (dsl/lexer.py) against Lark's own contextual lexer, which it replaces.

Both lexers are run inside the same LALR parser on the same text: every zoo file, every
golden error file, every example of docs/language.md and a thousand mutated files from the
fuzzer. The token streams (type, text, offsets) must be equal, and so must any syntax error
(its kind, where it is, what was expected).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from archdsl.lexer import FastContextualLexer
from archdsl.load_grammar import lark_parser
from tests.conftest import ROOT
from tests.fuzz.mutate import make_case, seeds

FUZZ_CASES = 1000


def _corpus() -> list[tuple[str, str]]:
    files = seeds()
    texts = {f: f.read_text(errors="replace") for f in files}
    corpus = [(f.relative_to(ROOT).as_posix(), texts[f]) for f in files]
    docs = (ROOT / "docs" / "language.md").read_text()
    corpus += [(f"language.md#{i}", block)
               for i, block in enumerate(re.findall(r"```arch\n(.*?)```", docs, re.S))]
    corpus += [(f"fuzz#{i}", make_case(0, i, files, texts).text) for i in range(FUZZ_CASES)]
    corpus += [("keywords as names", "network n { input 1x8x8; c = add(a, b); x: relu }\n"
                "block add { relu }"),
               ("prefix and binary minus", "network n { input 1x8x8; conv(-1 - -2, 3) }"),
               ("keyword prefix of a name", "network n { input 1x8x8; addx { relu } }"),
               ("spaces then nothing", " " * 300),
               ("spaces then a bad character", " " * 300 + "$")]
    return corpus


def _tokens(tree) -> list[tuple]:
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Token):
            out.append((node.type, str(node), node.start_pos, node.end_pos))
        elif isinstance(node, Tree):
            stack.extend(reversed(node.children))
    return out


def _error(exc: UnexpectedInput) -> tuple:
    if isinstance(exc, UnexpectedCharacters):
        return "characters", exc.pos_in_stream
    assert isinstance(exc, UnexpectedToken)
    accepts = exc.interactive_parser.accepts() if exc.interactive_parser else exc.expected
    return "token", exc.token.type, str(exc.token), exc.token.start_pos, sorted(accepts)


def _outcome(parser, text: str):
    try:
        return "tree", _tokens(parser.parse(text))
    except UnexpectedInput as exc:
        return "error", _error(exc)


@pytest.fixture(scope="module")
def parsers():
    fast = lark_parser()
    frontend = fast.parser
    assert isinstance(frontend.lexer, FastContextualLexer)
    return fast, frontend


CORPUS = _corpus()


def test_same_tokens_and_errors_as_larks_lexer(parsers):
    parser, frontend = parsers
    fast = frontend.lexer
    differ = []
    for name, text in CORPUS:
        try:
            frontend.lexer = fast
            mine = _outcome(parser, text)
            frontend.lexer = fast.contextual
            theirs = _outcome(parser, text)
        finally:
            frontend.lexer = fast
        if mine != theirs:
            differ.append((name, mine, theirs))
    assert not differ, differ[:3]
    assert sum(1 for name, _ in CORPUS if name.startswith("fuzz")) == FUZZ_CASES


def test_the_corpus_has_both_outcomes(parsers):
    """A comparison that only ever saw successes (or only errors) would prove little."""
    parser, _ = parsers
    kinds = {_outcome(parser, text)[0] for _, text in CORPUS}
    assert kinds == {"tree", "error"}


def test_long_whitespace_before_a_bad_character_is_linear():
    """The skip of blanks and comments is atomic: a nested `(?:[ ]+)*` followed by a failing
    match backtracks through every split of the blanks, which never finished on 200 spaces.
    Run in a child process so that a regression fails by its timeout instead of hanging."""
    code = ("from archdsl.diagnostics import Diagnostics\n"
            "from archdsl.parser import parse_module\n"
            "from archdsl.source import SourceFile\n"
            "for text in [' ' * 5000, ' ' * 5000 + '$', '# c\\n' * 5000 + '  @']:\n"
            "    parse_module(SourceFile('t.arch', text), Diagnostics())\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=Path(ROOT))


def test_valid_files_never_need_larks_lexer(parsers, monkeypatch):
    """The fast path covers real files whole: keywords, names that look like keywords and both
    minuses are decided without handing a token to Lark's lexer."""
    parser, frontend = parsers

    def refuse(*args):
        raise AssertionError("fell back to Lark's lexer")

    monkeypatch.setattr(frontend.lexer, "_lark_token", refuse)
    for path in sorted((ROOT / "architectures").glob("*.arch")):
        parser.parse(path.read_text())
    parser.parse("network n { input 1x8x8; c = add(a, b); x: relu; conv(-1 - -2, 3) }\n"
                 "block add { relu }")
