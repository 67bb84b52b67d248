"""`x`, the current tensor: the shape of what flows into the item being made, beside `in`
(the block's input, or in a network the network's input). Also the lexer's edge cases: `x`
beside sizes such as `3x3` and `3x224x224`."""

from __future__ import annotations

import pytest

from archdsl.parser import parse_tree_for_tests
from archdsl.pipeline import run


def _shapes(text: str, **kw) -> dict[str, tuple]:
    result = run(text=text, display="net.arch", **kw)
    errors = [d for d in result.diagnostics.items if d.severity == "error"]
    assert not errors, [(d.code, d.message) for d in errors]
    return {d["name"]: d["shape"] for _, d in result.ir.nodes()}


def _codes(text: str) -> list[str]:
    return [d.code for d in run(text=text, display="net.arch").diagnostics.items]


def test_x_is_what_flows_into_the_item_and_in_the_block_input():
    shapes = _shapes("""
    block grow {
        conv(in.channels * 2, 1x1)      # 8 -> 16
        conv(x.channels * 2, 1x1)       # 16 -> 32: x is the first conv's output
        conv(in.channels, 1x1)          # back to 8: in is still the block's input
    }
    network net {
        input 3x16x16
        conv(8, 3x3, pad=1)
        conv(x.channels + in.channels, 1x1)   # 8 + 3: in is the network's input
        maxpool(2x2)
        linear_in: conv(x.height, 1x1)        # the map is 8x8 here
        grow
    }
    """)
    assert shapes["1"] == (11, 16, 16)
    assert shapes["linear_in"] == (8, 8, 8)
    assert [shapes[f"3.{i}"][0] for i in range(3)] == [16, 32, 8]


def test_each_copy_of_a_repetition_reads_its_own_input():
    shapes = _shapes("network net {\n input 4x8x8\n conv(x.channels * 2, 1x1) * 3\n"
                     " conv(in.channels, 1x1) * 2\n}\n")
    assert [shapes[str(i)][0] for i in range(5)] == [8, 16, 32, 4, 4]


def test_x_in_branches_counts_conditions_and_merges():
    shapes = _shapes("""
    network net {
        input 4x8x8
        conv(6, 1x1)
        concat {
            { conv(x.channels, 1x1) }         # the merge's input: 6
            { conv(x.channels + 1, 1x1); conv(x.channels + 1, 1x1) }   # 7, then 8
        }
        if x.channels == 14 { relu } else { conv(1, 1x1) }
        s = conv(x.channels, 1x1) * (x.channels // 7)                  # twice
        add(x, s)                                                      # x is s here
    }
    """)
    assert shapes["concat"] == (14, 8, 8)
    assert shapes["3"] == (8, 8, 8)  # the second branch's second conv
    assert shapes["4"] == (14, 8, 8)  # the `if` chose relu
    assert "6" in shapes and "7" not in shapes and shapes["add"] == (14, 8, 8)


def test_x_as_a_block_argument_and_a_default_is_the_calls_input():
    shapes = _shapes("""
    block proj(c = x.channels * 2) { conv(c, 1x1) }
    network net {
        input 4x8x8
        conv(6, 1x1)
        proj
        proj(x.channels + 1)
    }
    """)
    assert shapes["1.0"][0] == 12 and shapes["2.0"][0] == 13


def test_return_x_is_the_last_output():
    result = run(text="network net {\n input 4x8x8\n a = conv(6, 1x1)\n conv(2, 1x1)\n"
                      " return x, a\n}\n", display="net.arch")
    ir = result.ir
    assert [(n, ir.node(nid)["shape"]) for n, nid in ir.results()] == [
        ("x", (2, 8, 8)), ("a", (6, 8, 8))]


def test_a_value_bound_as_x_hides_the_current_tensor():
    shapes = _shapes("network net {\n input 4x8x8\n x = conv(6, 1x1)\n conv(2, 1x1)\n"
                     " conv(x.channels, 1x1)\n}\n")
    assert shapes["2"] == (6, 8, 8)


def test_x_outside_a_body_is_unknown():
    assert _codes("network net(c = x.channels) {\n input 4x8x8\n conv(c, 1x1)\n}\n") == [
        "E0207"]
    assert _codes("network net {\n input (x.channels, 8)\n relu\n}\n") == ["E0207"]


@pytest.mark.parametrize(("text", "tokens"), [
    ("conv(x.channels, 3x3)", ["NAME", "NAME", "NAME", "DIMS"]),
    ("conv(2 * x.channels, 3x224x224)", ["NAME", "INT", "MUL_OP", "NAME", "NAME", "DIMS"]),
    ("conv(x3, x.shape)", ["NAME", "NAME", "NAME", "NAME"]),
    ("conv(3x3x3, xx)", ["NAME", "DIMS", "NAME"]),
    ("conv(x.width*3, 1x1)", ["NAME", "NAME", "NAME", "MUL_OP", "INT", "DIMS"]),
])
def test_x_beside_sizes_lexes_as_a_name(text, tokens):
    tree = parse_tree_for_tests(f"network n {{ input 3x8x8\n {text} }}")
    got = [t.type for t in tree.scan_values(lambda v: hasattr(v, "type"))
           if t.type in ("NAME", "INT", "DIMS", "MUL_OP")]
    assert got[-len(tokens):] == tokens
    assert got[0] == "NAME" and "DIMS" in got[:3]  # `n`, then `3x8x8`


@pytest.mark.parametrize(("text", "code"), [
    ("conv(2x.channels, 1x1)", "E0101"),        # a size cannot be followed by `.channels`
    ("conv(3x3.channels, 1x1)", "E0215"),       # a size has no attributes
    ("conv(x.channel, 1x1)", "E0215"),           # a misspelt attribute
    ("linear(x.height)", "E0215"),               # a vector has no height
])
def test_x_edge_cases_are_diagnosed(text, code):
    src = "network net {\n input 3x8x8\n flatten\n" if "linear" in text else \
        "network net {\n input 3x8x8\n"
    assert _codes(src + f" {text}\n}}\n") == [code]


def test_a_size_next_to_x_stays_a_size():
    shapes = _shapes("network net {\n input 3x8x8\n conv(x.channels, 3x3)\n"
                     " maxpool(if x.shape == 3x6x6 then 2x2 else 3x3)\n}\n")
    assert shapes["0"] == (3, 6, 6) and shapes["1"] == (3, 3, 3)
