"""Operator precedence, checked against Python's own parser.

The language's expressions have Python's precedence and associativity: `or` < `and` < `not`
< comparisons < `+ -` < `* / // %` < unary `- +` < `**` (right-associative, its right side may
be negative). The grammar parses a flat run of operators and the builder applies these levels
(dsl/parser.py `_Precedence`), so each random run of operands, prefixes and operators must
give the same tree as `ast.parse`, or fail exactly where Python fails too. The one deliberate
difference: Python chains comparisons (`a < b < c`); archdsl refuses them.
"""

from __future__ import annotations

import ast

from hypothesis import given
from hypothesis import strategies as st

from archdsl import syntax as s
from archdsl.diagnostics import Diagnostics
from archdsl.parser import parse_module
from archdsl.source import SourceFile

BINARY = ["or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "//", "%", "**"]
PREFIX = ["not", "-", "+"]
OPERANDS = ["a", "b", "c", "1", "2", "(a + b)", "(not c)"]
_PY_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
              ast.Mod: "%", ast.Pow: "**"}
_PY_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
               ast.GtE: ">="}


@st.composite
def runs(draw) -> str:
    """`prefix* operand (binary prefix* operand)*`: everything the grammar accepts as one run."""
    def operand() -> str:
        prefixes = draw(st.lists(st.sampled_from(PREFIX), max_size=2))
        return " ".join([*prefixes, draw(st.sampled_from(OPERANDS))])

    parts = [operand()]
    for _ in range(draw(st.integers(0, 5))):
        parts += [draw(st.sampled_from(BINARY)), operand()]
    return " ".join(parts)


def _ours(expr: s.Expr) -> str:
    """Fully parenthesised."""
    if isinstance(expr, s.BinOp):
        return f"({_ours(expr.left)} {expr.op} {_ours(expr.right)})"
    if isinstance(expr, s.Compare):
        return f"({_ours(expr.left)} {expr.op} {_ours(expr.right)})"
    if isinstance(expr, s.BoolOp):
        return f"({_ours(expr.left)} {expr.op} {_ours(expr.right)})"
    if isinstance(expr, s.UnaryOp):
        return f"({expr.op} {_ours(expr.operand)})"
    if isinstance(expr, s.Name):
        return expr.ident
    assert isinstance(expr, s.Literal), expr
    return str(expr.value)


def _python(node: ast.expr) -> str:
    if isinstance(node, ast.BinOp):
        return f"({_python(node.left)} {_PY_BINARY[type(node.op)]} {_python(node.right)})"
    if isinstance(node, ast.BoolOp):  # Python keeps `a or b or c` as one node: fold it left
        op = "or" if isinstance(node.op, ast.Or) else "and"
        text = _python(node.values[0])
        for value in node.values[1:]:
            text = f"({text} {op} {_python(value)})"
        return text
    if isinstance(node, ast.Compare):
        assert len(node.ops) == 1
        return f"({_python(node.left)} {_PY_COMPARE[type(node.ops[0])]} " \
               f"{_python(node.comparators[0])})"
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.UAdd):  # `+x` is x
            return _python(node.operand)
        return f"({'not' if isinstance(node.op, ast.Not) else '-'} {_python(node.operand)})"
    if isinstance(node, ast.Name):
        return node.id
    assert isinstance(node, ast.Constant), node
    return str(node.value)


def _parse_ours(text: str):
    diags = Diagnostics()
    module = parse_module(SourceFile("t.arch", f"network n(v = {text}) {{ relu }}"), diags)
    if module is None:
        return None, [d.message for d in diags.items]
    return _ours(module.definitions[0].params[0].default), []


def _parse_python(text: str):
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None, False
    chained = any(isinstance(n, ast.Compare) and len(n.ops) > 1 for n in ast.walk(tree))
    return (None if chained else _python(tree)), chained


@given(runs())
def test_same_tree_as_python(text):
    ours, errors = _parse_ours(text)
    theirs, chained = _parse_python(text)
    if chained:
        assert ours is None and any("cannot be chained" in e for e in errors), (text, errors)
    else:
        assert ours == theirs, (text, errors)


def test_the_levels_by_example():
    cases = {
        "-2 ** 2": "(- (2 ** 2))",
        "2 ** -1": "(2 ** (- 1))",
        "a ** b ** c": "(a ** (b ** c))",
        "not a == b": "(not (a == b))",
        "a or b and not c": "(a or (b and (not c)))",
        "a - b - c": "((a - b) - c)",
        "-a * b": "((- a) * b)",
        "+a": "a",
    }
    for text, tree in cases.items():
        assert _parse_ours(text) == (tree, []), text
        assert _parse_python(text)[0] == tree, text
