"""The TextMate grammar (editors/vscode/syntaxes/arch.tmLanguage.json): generated from the Lark
grammar and the op registry (regenerated here and compared), and drawing the zoo and every
example of the language reference the way the compiler reads them. The files are tokenised
with the tokenizer VS Code uses (vscode-textmate on vscode-oniguruma, installed from npm into
editors/vscode/node_modules by `make editors-deps`); each token of the compiler's own parse
(keywords, numbers, sizes, strings, layer kinds, labels, definitions, keyword arguments,
attributes) and each comment must carry the scope it stands for."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from lark import Token

from archdsl import ops
from archdsl import syntax as s
from archdsl.diagnostics import Diagnostics
from archdsl.evaluate import SHAPE_ATTRS
from archdsl.format import find_comments
from archdsl.locate import walk
from archdsl.parser import parse_module, parse_tree_for_tests
from archdsl.source import SourceFile
from archdsl.textmate import keyword_scopes, layer_kinds, render, vim_syntax
from tests.conftest import ROOT
from tests.test_docs import BLOCKS

VSCODE = ROOT / "editors" / "vscode"
GRAMMAR = VSCODE / "syntaxes" / "arch.tmLanguage.json"
ZOO = sorted((ROOT / "architectures").glob("*.arch"))

# What each terminal of the grammar must be drawn as (a scope prefix), written here rather than
# read from archdsl.textmate so that the generator is checked, not repeated.
TERMINAL_SCOPES = {
    "IMPORT": "keyword.control", "BLOCK": "storage.type", "NETWORK": "storage.type",
    "INPUT": "keyword.other", "INIT": "keyword.other", "IF": "keyword.control",
    "FOR": "keyword.control", "IN": "keyword.control", "LET": "keyword.other",
    "INDEX": "punctuation",
    "CONCAT": "keyword.other", "ADD": "keyword.other", "NOT": "keyword.operator",
    "AND": "keyword.operator", "OR": "keyword.operator", "TRUE": "constant.language",
    "FALSE": "constant.language", "INT": "constant.numeric.integer",
    "FLOAT": "constant.numeric.float", "DIMS": "constant.numeric.dims",
    "STRING": "string.quoted.double", "COMP_OP": "keyword.operator",
    "ADD_OP": "keyword.operator", "MUL_OP": "keyword.operator", "POW_OP": "keyword.operator",
    "MINUS": "keyword.operator", "PLUS": "keyword.operator",
    "LBRACE": "punctuation", "RBRACE": "punctuation", "LSQB": "punctuation",
    "RSQB": "punctuation", "LPAR": "punctuation", "RPAR": "punctuation",
}


def test_the_committed_grammar_is_the_generated_one():
    assert GRAMMAR.read_text(encoding="utf-8") == render(), \
        "regenerate it: make editors (python -m archdsl.textmate " \
        "editors/vscode/syntaxes/arch.tmLanguage.json)"


def test_the_committed_vim_syntax_is_the_generated_one():
    assert (ROOT / "editors" / "nvim" / "syntax" / "arch.vim").read_text() == vim_syntax(), \
        "regenerate it: make editors"


def test_every_keyword_and_layer_kind_is_in_the_grammar():
    text = GRAMMAR.read_text()
    for word in keyword_scopes():
        assert word in text
    assert set(layer_kinds()) == set(ops.names()) - set(keyword_scopes())
    for kind in layer_kinds():
        assert kind in text


def _sources() -> list[tuple[str, str]]:
    out = [(p.name, p.read_text(encoding="utf-8")) for p in ZOO]
    for line, info, code, _after in BLOCKS:
        if info and info[0] == "fragment":
            code = "block fragment {\n" + code + "\n}\n"
        out.append((f"language.md:{line}", code))
    return out


@pytest.fixture(scope="module")
def tokens(tmp_path_factory):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the tokenizer is vscode-textmate, on node)")
    if not (VSCODE / "node_modules" / "vscode-textmate").is_dir():
        pytest.skip("vscode-textmate is not installed: make editors-deps (npm ci in "
                    "editors/vscode)")
    folder = tmp_path_factory.mktemp("tm")
    files = {}
    for name, text in _sources():
        path = folder / (name.replace(":", "_") + ".arch")
        path.write_text(text, encoding="utf-8")
        files[str(path)] = (name, text)
    out = subprocess.run([node, str(VSCODE / "tools" / "tokenize.js"), *files],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    raw = json.loads(out)
    return {files[p][0]: (files[p][1], toks) for p, toks in raw.items()}


def _scopes_by_offset(text: str, toks) -> list[list[str]]:
    """The scopes of every character of `text` (by code-point offset)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    assert "\r" not in text
    starts, at = [], 0
    for line in lines:
        starts.append(at)
        at += len(line) + 1
    out: list[list[str]] = [[] for _ in range(len(text) + 1)]
    for line, a, b, scopes in toks:
        row = lines[line]
        # UTF-16 indices to code points on this line
        units = [0]
        for ch in row:
            units.append(units[-1] + (2 if ord(ch) > 0xFFFF else 1))
        ca, cb = units.index(a), units.index(b)
        for i in range(ca, cb):
            out[starts[line] + i] = scopes
    return out


def _expected(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, scope prefix, what) for each token the compiler reads in `text`."""
    out = []
    tree = parse_tree_for_tests(text)
    for tok in tree.scan_values(lambda v: isinstance(v, Token)):
        if tok.type in TERMINAL_SCOPES:
            out.append((tok.start_pos, tok.end_pos, TERMINAL_SCOPES[tok.type], tok.type))
    module = parse_module(SourceFile("x.arch", text), Diagnostics())
    for d in module.definitions:
        out.append((d.name_span.start, d.name_span.end, "entity.name.function.definition",
                    "definition"))
        for n in walk(d):
            if isinstance(n, s.Labeled):
                out.append((n.label_span.start, n.label_span.end, "entity.name.tag.label",
                            "label"))
            elif isinstance(n, (s.Call, s.Ref)):
                sp = n.ident_span if isinstance(n, s.Call) else n.span
                if ops.lookup(n.ident) is not None and n.ident in layer_kinds():
                    out.append((sp.start, sp.end, "support.function.layer", "layer kind"))
                elif isinstance(n, s.Call):
                    out.append((sp.start, sp.end, "entity.name.function.call", "block call"))
            elif isinstance(n, s.Arg) and n.name_span is not None:
                out.append((n.name_span.start, n.name_span.end, "variable.parameter", "kwarg"))
            elif isinstance(n, s.Attr) and n.attr in SHAPE_ATTRS:
                out.append((n.attr_span.start, n.attr_span.end, "support.variable.property",
                            "attribute"))
    for c in find_comments(text):
        out.append((c.pos, c.pos + len(c.text), "comment.line", "comment"))
    return out


@pytest.mark.parametrize("name", [n for n, _ in _sources()])
def test_tokens_carry_the_scope_the_compiler_reads(tokens, name):
    text, toks = tokens[name]
    scopes = _scopes_by_offset(text, toks)
    checked = 0
    for start, end, prefix, what in _expected(text):
        for i in range(start, end):
            got = scopes[i]
            assert got and got[0] == "source.arch"
            assert any(sc.startswith(prefix) for sc in got[1:]), \
                f"{name}: {what} `{text[start:end]}` at {start} drawn as {got}, not {prefix}"
        checked += 1
    assert checked > 0
    # nothing the compiler reads as code is drawn as a comment or a string by mistake
    comments = {i for c in find_comments(text) for i in range(c.pos, c.pos + len(c.text))}
    for i, got in enumerate(scopes[:len(text)]):
        if any(sc.startswith("comment") for sc in got):
            assert i in comments or text[i] in " \t", (name, i, text[i - 10:i + 10])
