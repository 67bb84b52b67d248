"""Expressions at the edges of Python's numbers: every one ends in a value or a located
diagnostic, never a Python exception (OverflowError, ZeroDivisionError, ValueError, a complex
result), and no infinity or NaN ever reaches a layer's arguments.

The reproducers of issue 11 first, then a property test over random expressions built from
every operator and literals at the edges (0, -0.0, 1e308, 5e-324, 1e999, 2**62, leading zeros,
long integers), placed where expressions are used (layer arguments, keyword arguments,
repetition counts, conditions, block parameters and their defaults, literal kernels).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archdsl
from archdsl.diagnostics import render_all
from tests.conftest import run_cli


def net(line: str, shape: str = "3x8x8") -> str:
    return "network n {\n    input " + shape + "\n    " + line + "\n}\n"


def diags(src: str, **kw) -> list[tuple[str, int, str]]:
    """(code, column, message) of each diagnostic; [] when the program checks."""
    try:
        archdsl.parse(src, filename="e.arch", **kw)
    except archdsl.ArchError as exc:
        render_all(exc.diagnostics)  # the renderer must draw every one of them
        return [(d.code, d.span.col if d.span else 0, d.message) for d in exc.diagnostics]
    return []


# ---------------------------------------------------------------------------- reproducers

@pytest.mark.parametrize(("line", "shape", "code", "col", "words"), [
    ("linear(1e300 ** 2)", "16", "E0507", 12, "too large"),          # OverflowError
    ("linear(0 ** -1)", "16", "E0214", 12, "divides by zero"),        # ZeroDivisionError
    ("linear(0.0 ** -2)", "16", "E0214", 12, "divides by zero"),
    ("linear((-8) ** 0.5)", "16", "E0214", 12, "not a real number"),  # a complex result
    ("linear((-8.0) ** (1 / 3))", "16", "E0214", 12, "not a real number"),
    ("linear(1e300)", "16", "E0507", 12, "too large for an integer"),  # --max-int bypass
    ("conv(8, (1e300, 3))", "3x8x8", "E0507", 13, "too large for an integer"),
    ("leaky_relu(1e999)", "16", "E0507", 16, "`1e999` is too large"),  # infinity literal
    ("batchnorm(eps=1e999 - 1e999)", "3x8x8", "E0507", 19, "too large"),
    ("leaky_relu(1e308 * 10)", "16", "E0507", 16, "too large"),     # inf from arithmetic
    ("leaky_relu(1e308 + 1e308)", "16", "E0507", 16, "too large"),
    ("leaky_relu(1e308 // 1e-308)", "16", "E0507", 16, "too large"),
    ("leaky_relu(2 ** 62 / 1e-300)", "16", "E0507", 16, "too large"),
    ("conv([[1e308, 1]] * 10)", "1x8x8", "E0507", 10, "too large"),  # inside a kernel
    ("leaky_relu(5 % 0.0)", "16", "E0214", 16, "division by zero"),
    ("leaky_relu(5 // -0.0)", "16", "E0214", 16, "division by zero"),
    ("linear(2.0 ** 65)", "16", "E0507", 12, "exponent"),
])
def test_reproducers(line, shape, code, col, words):
    found = diags(net(line, shape))
    assert len(found) == 1, found
    assert found[0][:2] == (code, col), found
    assert words in found[0][2], found


def test_leading_zeros():
    """4,300 leading zeros then a digit: Python's int() counts the zeros towards its limit."""
    n = archdsl.parse(net("linear(" + "0" * 4300 + "7)", "16"))
    assert n.output_shape == (7,)
    assert [c for c, _, _ in diags(net("linear(0" + "0" * 5000 + "9" * 101 + ")", "16"))] \
        == ["E0507"]


def test_max_int_holds_for_integral_floats():
    lim = archdsl.Limits(max_int=1000)
    assert [c for c, _, _ in diags(net("linear(2000.0)", "16"), limits=lim)] == ["E0507"]
    assert diags(net("linear(1000.0)", "16"), limits=lim) == []


def test_overrides_are_held_to_the_same_rules(tmp_path):
    src = "network n(k = 2, e = 0.001) {\n    input 3x8x8\n    conv(k, 3x3)\n" \
          "    batchnorm(eps=e)\n}\n"
    for bad in ({"e": math.inf}, {"e": math.nan}, {"k": 2**70}, {"k": (1, math.inf)}):
        found = diags(src, **bad)
        assert [c for c, _, _ in found] == ["E0204"], (bad, found)
    p = tmp_path / "o.arch"
    p.write_text(src)
    for flag in ("e=1e999", "e=inf", "e=nan", "k=" + "9" * 30):
        code, _, err = run_cli("check", str(p), "--set", flag)
        assert code in (1, 2) and "Traceback" not in err and "internal error" not in err, err


def test_automatic_merge_name_taken_by_a_label():
    """`add_1` is the name of the second unlabelled `add`; labelling a layer `add_1` is a
    duplicate name, pointing at that `add` (the renderer crashed: the name had no span)."""
    found = diags(net("add { {} {} }  add { {} {} }  add_1: relu"))
    assert [(c, col) for c, col, _ in found] == [("E0209", 35)]
    with pytest.raises(archdsl.ArchError) as info:
        archdsl.parse(net("add { {} {} }  add { {} {} }  add_1: relu"))
    text = info.value.render()
    assert "this `add` is named `add_1`" in text


def test_nothing_infinite_reaches_generated_arguments():
    n = archdsl.parse(net("leaky_relu(1e308)\n    batchnorm(eps=5e-324)"))
    for _, data in n.ir.nodes():
        for v in data["args"].values():
            assert not (isinstance(v, float) and not math.isfinite(v))


# ---------------------------------------------------------------------------- property

EDGE_LITERALS = [
    "0", "1", "2", "3", "64", "65", "0.0", "-0.0", "0.5", "1.5", "1e308", "1.7976931348623157e308",
    "1e-308", "5e-324", "1e999", "1e-999", "4611686018427387904", "4611686018427387905",
    "99999999999999999999", "0" * 60 + "1", "0" * 4400 + "3", "9" * 100, "true", "false",
    '"same"', '"x"', "3x3", "1x1", "in.channels", "in.size", "in.shape", "k", "f",
]
BINARY = ["+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", "<=", ">", ">=", "and", "or"]


@st.composite
def expressions(draw, depth: int = 3) -> str:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(EDGE_LITERALS))
    kind = draw(st.integers(0, 7))
    sub = expressions(depth - 1)
    if kind <= 3:
        return f"({draw(sub)} {draw(st.sampled_from(BINARY))} {draw(sub)})"
    if kind == 4:
        return f"{draw(st.sampled_from(['-', 'not ', '+']))}{draw(sub)}"
    if kind == 5:
        args = ", ".join(draw(st.lists(sub, min_size=1, max_size=3)))
        return f"{draw(st.sampled_from(['min', 'max']))}({args})"
    if kind == 6:
        return f"(if {draw(sub)} then {draw(sub)} else {draw(sub)})"
    items = ", ".join(draw(st.lists(sub, min_size=1, max_size=3)))
    return f"[{items}]" if draw(st.booleans()) else f"({items},)"


PLACES = [
    ("linear({})", "16"), ("leaky_relu({})", "16"), ("batchnorm(eps={})", "3x8x8"),
    ("dropout({})", "16"), ("relu * ({})", "16"), ("if {} {{ relu }}", "16"),
    ("conv({}, 3x3)", "3x8x8"), ("conv(4, {})", "3x8x8"), ("conv([[{}]])", "1x8x8"),
    ("maxpool(2, stride={})", "3x8x8"), ("b({})", "3x8x8"), ("c", "3x8x8"),
    ("lrn(size=3, alpha={})", "3x8x8"), ("conv(4, 3x3, pad={})", "3x8x8"),
]
BLOCKS = "block b(w) {{ conv(w, 1x1) }}\nblock c(w = {}) {{ linear(w) }}\n"


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=expressions(), place=st.sampled_from(PLACES))
def test_any_expression_gives_a_value_or_diagnostics(expr, place):
    line, shape = place
    src = (BLOCKS.format(expr if line == "c" else "1")
           + f"network n(k = 3, f = 0.5) {{\n    input {shape}\n    {line.format(expr)}\n}}\n")
    try:
        net_ = archdsl.parse(src, filename="p.arch")
    except archdsl.ArchError as exc:
        text = render_all(exc.diagnostics)
        assert "error[E" in text
        for d in exc.diagnostics:
            assert d.span is not None, d
        return
    for _, data in net_.ir.nodes():
        for v in data["args"].values():
            for x in (v if isinstance(v, tuple) else (v,)):
                assert not isinstance(x, complex)
                assert not (isinstance(x, float) and not math.isfinite(x)), (src, v)
