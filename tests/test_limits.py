"""Resource limits: each one a diagnostic at the offending line, configurable from the API
(`limits=archdsl.Limits(...)`) and the CLI (`--max-...`), checked before anything is allocated;
and deep nesting that would exhaust Python's stack is a diagnostic, not a crash."""

from __future__ import annotations

import time

import pytest

import archdsl
from tests.conftest import run_cli


def codes(src: str, **kw) -> list[tuple[str, int | None]]:
    """(code, line) of each diagnostic; [] when the program checks."""
    try:
        archdsl.parse(src, filename="lim.arch", **kw)
    except archdsl.ArchError as exc:
        return [(d.code, d.span.line if d.span else None) for d in exc.diagnostics]
    return []


def net(*lines: str, shape: str = "3x16x16") -> str:
    return "network n {\n    input " + shape + "\n" + "".join(f"    {x}\n" for x in lines) + "}\n"


def test_defaults():
    lim = archdsl.Limits()
    assert lim.max_layers == 1_000_000 and lim.max_params == 10**11
    assert lim.max_repeat == 100_000 and lim.max_import_depth == 32


# ---------------------------------------------------------------------------- repetition

def test_repeat_count():
    assert codes(net("relu * 1000000")) == [("E0502", 3)]
    assert codes(net("relu * 5"), limits=archdsl.Limits(max_repeat=4)) == [("E0502", 3)]
    assert codes(net("relu * 4"), limits=archdsl.Limits(max_repeat=4)) == []


def test_total_layers():
    src = net("relu * 3000")
    assert codes(src) == []
    assert codes(src, limits=archdsl.Limits(max_layers=1000)) == [("E0503", 3)]


# ---------------------------------------------------------------------------- blocks

def test_recursion_direct_and_indirect():
    direct = "block b(w) { relu; b(w) }\n" + net("b(1)")
    assert ("E0501", 1) in codes(direct)
    indirect = "block p(w) { q(w) }\nblock q(w) { relu; p(w) }\n" + net("p(1)")
    assert ("E0501", 2) in codes(indirect)


def chain(n: int) -> str:
    blocks = "".join(f"block b{i}(w) {{ b{i + 1}(w) }}\n" for i in range(n))
    return blocks + f"block b{n}(w) {{ relu }}\n" + net("b0(1)")


def test_block_nesting_depth():
    assert codes(chain(20)) == []
    found = codes(chain(20), limits=archdsl.Limits(max_depth=10))
    assert [c for c, _ in found] == ["E0504"]
    assert found[0][1] == 10  # in b9, the call of b10: the eleventh block inside another
    assert [c for c, _ in codes(chain(150))] == ["E0504"]  # the default, 100


# ---------------------------------------------------------------------------- imports

def test_import_depth(tmp_path):
    for i in range(6):  # f0 imports f1 ... imports f6
        (tmp_path / f"f{i}.arch").write_text(f'import "f{i + 1}.arch"\nblock b{i} {{ relu }}\n')
    (tmp_path / "f6.arch").write_text("block b6 { relu }\n")
    main = tmp_path / "main.arch"
    main.write_text('import "f0.arch"\n' + net("b0"))
    archdsl.load(main)
    with pytest.raises(archdsl.ArchError) as info:
        archdsl.load(main, limits=archdsl.Limits(max_import_depth=3))
    assert info.value.diagnostics[0].code == "E0508"
    code, _, err = run_cli("check", str(main), "--max-import-depth", "3")
    assert code == 1 and "E0508" in err


# ---------------------------------------------------------------------------- parameters

def test_parameters_fail_fast():
    """10^16 parameters (two linear layers of 10^8 x 10^8) fail at the first such layer,
    in milliseconds: counts are arithmetic on shapes, no weight is allocated."""
    src = net("linear(100000000)", "linear(100000000)", "linear(100000000)",
              shape="100000000")
    t0 = time.perf_counter()
    found = codes(src)
    took = time.perf_counter() - t0
    assert found == [("E0505", 3)]
    assert took < 5, f"took {took:.1f} s"


def test_parameters_fail_before_expanding_a_repetition():
    """10^15 parameters asked for through repetition: stops after ~10 of 100,000 copies."""
    src = net("{ linear(10000000) } * 100000", shape="10000000")
    t0 = time.perf_counter()
    assert codes(src) == [("E0505", 3)]
    assert time.perf_counter() - t0 < 5


def test_parameters_limit_is_configurable():
    src = net("conv(8, 3x3)")  # 3*8*9 + 8 = 224 parameters
    assert codes(src, limits=archdsl.Limits(max_params=224)) == []
    assert codes(src, limits=archdsl.Limits(max_params=223)) == [("E0505", 3)]
    code, _, err = run_cli("check", "lenet5", "--max-params", "1000")
    assert code == 1 and "E0505" in err and "more than 1,000 parameters" in err


# ---------------------------------------------------------------------------- sizes

def test_tensor_size():
    assert codes(net(shape="100000x100000x100000")) == [("E0506", 2)]
    assert codes(net("conv(1099511627776, 1x1)")) == [("E0506", 3)]
    assert codes(net("conv(64, 3x3)"), limits=archdsl.Limits(max_tensor=1000)) == \
        [("E0506", 3)]


def test_tensor_size_flag(tmp_path):
    p = tmp_path / "t.arch"
    p.write_text(net("conv(64, 3x3)"))
    assert run_cli("check", str(p))[0] == 0
    code, _, err = run_cli("check", str(p), "--max-tensor", "1000")
    assert code == 1 and "E0506" in err


def test_integer_literals():
    assert codes(net("conv(99999999999999999999999, 3x3)")) == [("E0507", 3)]
    assert codes(net("conv(" + "9" * 5000 + ", 3x3)")) == [("E0507", 3)]
    assert codes(net("conv(3, " + "9" * 5000 + "x3)")) == [("E0507", 3)]
    assert codes(net("conv(2 ** 62 * 4, 3x3)"))[0] == ("E0507", 3)
    assert codes(net("conv(2000, 3x3)"), limits=archdsl.Limits(max_int=1000)) == [("E0507", 3)]


# ---------------------------------------------------------------------------- nesting

DEEP = {
    "parentheses": net("conv(" + "(" * 10_000 + "1" + ")" * 10_000 + ", 3x3)"),
    "a long sum": net("conv(" + "+".join(["1"] * 10_000) + ", 3x3)"),
    "unary minus": net("conv(" + "-" * 10_000 + "1, 3x3)"),
    "not": net("if " + "not " * 10_000 + "true { relu }"),
    "braces": net("{" * 5_000 + "relu" + "}" * 5_000),
    "brackets": net("conv(1, " + "[" * 5_000 + "1" + "]" * 5_000 + ")"),
    "else if": net("if true { relu } else " * 5_000 + "relu"),
    "labels": net("a: " * 10_000 + "relu"),
    "powers": net("conv(" + "1 ** " * 10_000 + "1, 3x3)"),
}


@pytest.mark.parametrize("name", DEEP)
def test_deep_nesting_is_a_diagnostic(name):
    found = codes(DEEP[name])
    if name == "parentheses":  # parentheses alone add no depth to the tree: that one checks
        assert found == []
    else:
        assert ("E0509", 3) in found


def test_deep_nesting_in_the_cli(tmp_path):
    p = tmp_path / "deep.arch"
    p.write_text(DEEP["braces"])
    code, _, err = run_cli("check", str(p))
    assert code == 1 and "E0509" in err and "Traceback" not in err


# ---------------------------------------------------------------------------- projections

def test_nested_repetition_fails_fast_by_projection():
    """`{ relu * 1000 } * 1000` is refused after one copy of the outer repetition (it took
    72 s to reach the limit node by node)."""
    t0 = time.perf_counter()
    assert codes(net("{ relu * 1000 } * 1000")) == [("E0503", 3)]
    assert time.perf_counter() - t0 < 1
    t0 = time.perf_counter()
    assert codes(net("{ { relu * 100 } * 100 } * 1000")) == [("E0503", 3)]
    assert time.perf_counter() - t0 < 1


def test_projection_is_exact_at_the_limit():
    src = net("{ relu * 10 } * 10")  # 100 layers and the input
    assert codes(src, limits=archdsl.Limits(max_layers=101)) == []
    assert codes(src, limits=archdsl.Limits(max_layers=100)) == [("E0503", 3)]
    try:
        archdsl.parse(src, limits=archdsl.Limits(max_layers=100))
    except archdsl.ArchError as exc:
        assert "would expand to about 101 layers" in exc.diagnostics[0].message


def test_parameters_projected_from_the_first_copy():
    src = net("linear(10) * 10", shape="10")  # 110 parameters a copy
    assert codes(src, limits=archdsl.Limits(max_params=1100)) == []
    assert codes(src, limits=archdsl.Limits(max_params=1099)) == [("E0505", 3)]


# ---------------------------------------------------------------------------- loops (tables)

def test_a_loop_over_a_huge_range_is_an_error_at_once():
    """`range(10**12)` is refused at the call: the list is never made."""
    t0 = time.perf_counter()
    assert codes(net("for i in range(10 ** 12) { relu }")) == [("E0502", 3)]
    assert codes(net("let n = len(range(10 ** 12))")) == [("E0502", 3)]
    assert time.perf_counter() - t0 < 1


def test_a_loop_is_a_repetition_count():
    src = net("for i in range(11) { relu }")
    assert codes(src, limits=archdsl.Limits(max_repeat=11)) == []
    assert codes(src, limits=archdsl.Limits(max_repeat=10)) == [("E0502", 3)]
    # a literal list is held to the same count
    assert codes(net("for i in [1, 2, 3] { relu }"),
                 limits=archdsl.Limits(max_repeat=2)) == [("E0502", 3)]


def test_nested_loops_fail_fast_by_projection():
    t0 = time.perf_counter()
    assert codes(net("for i in range(1000) { for j in range(1000) { relu } }")) == [("E0503", 3)]
    assert codes(net("for i in range(1000) { relu * 1000 }")) == [("E0503", 3)]
    assert codes(net("{ for i in range(1000) { relu } } * 1000")) == [("E0503", 3)]
    assert time.perf_counter() - t0 < 1


def test_loop_projection_is_exact_at_the_limit():
    src = net("for i in range(10) { relu * 10 }")  # 100 layers and the input
    assert codes(src, limits=archdsl.Limits(max_layers=101)) == []
    assert codes(src, limits=archdsl.Limits(max_layers=100)) == [("E0503", 3)]


def test_loop_parameters_projected_from_the_first_iteration():
    src = net("for i in range(10) { linear(10) }", shape="10")  # 110 parameters each
    assert codes(src, limits=archdsl.Limits(max_params=1100)) == []
    assert codes(src, limits=archdsl.Limits(max_params=1099)) == [("E0505", 3)]


def test_a_loop_is_the_same_network_as_a_repetition():
    a = archdsl.parse(net("for i in range(3) { conv(8, 3x3, pad=1) }"))
    b = archdsl.parse(net("conv(8, 3x3, pad=1) * 3"))
    assert [(x["name"], x["shape"]) for x in a.layers()] == \
        [(x["name"], x["shape"]) for x in b.layers()]
