"""Values of the language (lists, tuples, indexing, slicing and the functions of
dsl/builtins.py) against Python itself: the same expression text, evaluated by archdsl and by
Python's `eval`, gives the same value and type, or archdsl reports a diagnostic where Python
raises. The two languages share this part of their syntax on purpose (a table or a width
rule copied from torch code means the same)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from archdsl.diagnostics import Diagnostics
from archdsl.evaluate import Evaluator
from archdsl.parser import parse_module
from archdsl.source import SourceFile
from archdsl.values import POISON


class _Env:
    def lookup(self, name):
        return False, None

    def names(self):
        return []


def ours(text: str):
    """(value, codes) of `text` as archdsl evaluates it."""
    diags = Diagnostics()
    module = parse_module(SourceFile("v", f"network n(x = {text}) {{}}"), diags)
    assert module is not None, (text, diags.items)
    value = Evaluator(diags).eval(
        module.definitions[0].params[0].default, _Env())
    return value, [d.code for d in diags.items]


def python(text: str):
    try:
        v = eval(text, {"__builtins__": {}, **PY})
    except (IndexError, TypeError, ValueError, ZeroDivisionError):
        return POISON
    return _lists(v)


def _lists(v):
    """Python's range/enumerate/zip objects as the lists archdsl makes."""
    if isinstance(v, (range, enumerate, zip)):
        return [_lists(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_lists(x) for x in v)
    if isinstance(v, list):
        return [_lists(x) for x in v]
    return v


PY = {"min": min, "max": max, "abs": abs, "round": round, "floor": math.floor,
      "ceil": math.ceil, "int": int, "float": float, "len": len, "sum": sum,
      "range": range, "enumerate": enumerate, "zip": zip}

NUM = st.one_of(st.integers(-20, 20).map(str),
                st.floats(-50, 50, allow_nan=False).map(lambda f: repr(round(f, 3))))
INT = st.integers(-6, 6).map(str)


@st.composite
def seq(draw, depth=0):
    items = draw(st.lists(NUM if depth else st.one_of(NUM, seq(depth + 1)), max_size=5))
    if draw(st.booleans()):
        return "[" + ", ".join(items) + "]"
    if len(items) < 2:
        items += ["1", "2"]
    return "(" + ", ".join(items) + ")"


@st.composite
def expression(draw):
    kind = draw(st.integers(0, 13))
    s, n, i = draw(seq()), draw(NUM), draw(INT)
    if kind == 0:
        return f"{s}[{i}]"
    if kind == 1:
        a = draw(st.one_of(st.just(""), INT))
        b = draw(st.one_of(st.just(""), INT))
        return f"{s}[{a}:{b}]"
    if kind == 2:
        return f"{draw(st.sampled_from(['round', 'floor', 'ceil', 'int', 'abs', 'float']))}({n})"
    if kind == 3:
        return f"round({n}, {draw(st.integers(0, 3))})"
    if kind == 4:  # of numbers (Python also orders tuples; archdsl compares numbers only)
        fn = draw(st.sampled_from(['len', 'sum', 'min', 'max']))
        return f"{fn}({s if fn == 'len' else draw(seq(1))})"
    if kind == 5:
        args = draw(st.lists(INT, min_size=1, max_size=3))
        return f"range({', '.join(args)})"
    if kind == 6:
        return f"enumerate({s}, {i})" if draw(st.booleans()) else f"enumerate({s})"
    if kind == 7:
        return f"zip({s}, {draw(seq())})"
    if kind == 8:
        return f"{draw(st.sampled_from(['min', 'max']))}({n}, {draw(NUM)}, {i})"
    if kind == 9:
        return f"[{n}, {i}] + [{draw(NUM)}]"
    if kind == 10:
        return f"len(range({i}, {draw(INT)}, {draw(st.sampled_from(['1', '2', '-1', '3']))}))"
    if kind == 11:  # comprehensions, as Python's
        flat = draw(seq(1))
        return draw(st.sampled_from([
            f"[x * 2 for x in {flat}]", f"[x for x in {flat} if x > {i}]",
            f"[a - b for (a, b) in zip({flat}, {draw(seq(1))})]",
            f"[(k, x) for k, x in enumerate({flat})]", f"len([1 for x in {s}])",
            f"[round(x) for x in {flat}][{i}]"]))
    if kind == 12:
        return f"[[y for y in range(x)] for x in range({draw(st.integers(0, 4))})]"
    return f"int({n} + {draw(st.sampled_from(['8', '3']))} / 2) // 8 * 8"


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return (isinstance(a, list) == isinstance(b, list) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b, strict=True)))
    return a == b and type(a) is type(b)


@settings(max_examples=1500, deadline=None)
@given(expression())
def test_values_are_pythons(text):
    want = python(text)
    got, codes = ours(text)
    if want is POISON:
        assert got is POISON and codes, (text, got)
        return
    assert not codes, (text, codes)
    assert _same(got, want), (text, got, want)


def test_round_is_pythons_half_to_even():
    assert [ours(f"round({x})")[0] for x in ("0.5", "1.5", "2.5", "-0.5", "-1.5")] == \
        [0, 2, 2, 0, -2]
    assert ours("round(2.675, 2)")[0] == round(2.675, 2)
    assert ours("int(-2.7)")[0] == -2 and ours("floor(-2.5)")[0] == -3
    assert ours("ceil(2.1)")[0] == 3 and type(ours("ceil(2.0)")[0]) is int
