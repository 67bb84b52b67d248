"""Each construct of the language, checked end to end: parse -> elaborate -> analyses, with
IR invariants verified, names as the module hierarchy, and shapes/params computed by hand."""

from __future__ import annotations

import pytest

import archdsl
from archdsl import ArchError


def check(text: str, **kw) -> archdsl.Network:
    net = archdsl.parse(text, **kw)
    net.ir.verify()
    return net


def codes(text: str, **kw) -> list[str]:
    with pytest.raises(ArchError) as info:
        archdsl.parse(text, **kw)
    return [d.code for d in info.value.diagnostics]


def names(net) -> list[str]:
    return [d["name"] for d in net.layers()]


def test_sequential_numbering_counts_parameterless_layers():
    net = check("network n { input 3x8x8  features: { conv(4, 3x3); relu; maxpool(2x2) } "
                "flatten  classifier: { linear(10); relu; dropout; linear(2) } }")
    assert names(net) == ["features.0", "features.1", "features.2", "0", "classifier.0",
                          "classifier.1", "classifier.2", "classifier.3"]


def test_labels_and_numbers_mix_in_one_scope():
    net = check("network n { input 1x8x8  conv1: conv(2, 3x3); relu; conv2: conv(2, 3x3); relu }")
    assert names(net) == ["conv1", "0", "conv2", "1"]


def test_concat_branches_sum_channels_and_name_branches():
    net = check("""
        block inception(a, b) {
            concat {
                branch1: conv(a, 1x1)
                branch2: { conv(b, 1x1); conv(b, 3x3, pad=1) }
                branch3: { maxpool(3x3, stride=1, pad=1); conv(4, 1x1) }
            }
        }
        network n { input 8x16x16  inc: inception(16, 8) }""")
    assert net.output_shape == (16 + 8 + 4, 16, 16)
    assert "inc.branch2.1" in names(net) and "inc.branch3.1" in names(net)
    concat = net.layer("inc.concat")
    assert [net.ir.node(i)["name"] for i in net.ir.inputs(net.ir.by_name("inc.concat"))] == \
        ["inc.branch1", "inc.branch2.1", "inc.branch3.1"]
    assert concat["op"] == "concat"


def test_add_with_identity_branch_and_conditional_projection():
    text = """
        block res(width, stride = 1) {
            add {
                { conv1: conv(width, 3x3, stride=stride, pad=1); relu
                  conv2: conv(width, 3x3, pad=1) }
                downsample: if stride != 1 or in.channels != width { conv(width, 1x1,
                                                                          stride=stride) }
            }
        }
        network n { input 8x16x16  a: res(8)  b: res(16, stride=2) }"""
    net = check(text)
    assert net.output_shape == (16, 8, 8)
    assert "a.downsample.0" not in names(net)  # same shape: the shortcut is the identity
    assert "b.downsample.0" in names(net)
    add_a = net.ir.by_name("a.add")
    assert len(net.ir.inputs(add_a)) == 2


def test_empty_branch_is_identity():
    net = check("network n { input 4x8x8  add { { conv(4, 3x3, pad=1) } {} } }")
    add = net.ir.by_name("add")
    assert [net.ir.node(i)["op"] for i in net.ir.inputs(add)] == ["conv", "input"]


def test_named_values_make_arbitrary_dags():
    net = check("""
        network dense {
            input 4x8x8
            x0 = conv(4, 3x3, pad=1)
            x1 = { x0; conv(4, 3x3, pad=1) }
            x2 = { concat(x0, x1); conv(4, 3x3, pad=1) }
            concat(x0, x1, x2)
        }""")
    assert net.output_shape == (12, 8, 8)
    final = net.ir.output
    assert len(net.ir.inputs(final)) == 3
    assert net.ir.node(final)["op"] == "concat"


def test_same_value_twice_in_a_merge():
    net = check("network n { input 2x4x4  x = relu  add(x, x) }")
    assert len(net.ir.inputs(net.ir.output)) == 2


def test_block_defaults_arithmetic_and_in_shape():
    net = check("""
        block widen(factor = 2, extra = in.channels // 2) {
            conv(in.channels * factor + extra, 1x1)
        }
        network n { input 6x4x4  widen  widen(factor=1, extra=0) }""")
    assert net.output_shape == (15, 4, 4)


def test_expressions():
    net = check("""
        network n(k = 3) {
            input 1x(16)x(16)
            conv(if k > 2 and not (k == 4) then 2 ** 3 else 1, k, pad=k // 2)
            conv(max(1, min(7, 10 % 4)), 1x1)
            conv(12 / 4, 1x1)
        }""".replace("input 1x(16)x(16)", "input(1, 16, 16)"))
    assert [d["shape"][0] for d in net.layers()] == [8, 2, 3]


def test_repetition_and_lists():
    text = """
        block unit(c) { conv(c, 3x3, pad=1); relu }
        network n(depth = 3) {
            input 4x8x8
            stage1: unit(4) * depth
            stage2: [unit(8), unit(8) * 2]
            { conv(8, 1x1); relu } * 2
            unit(8) * 0
        }"""
    net = check(text)
    got = names(net)
    assert [n for n in got if n.startswith("stage1")] == [
        "stage1.0.0", "stage1.0.1", "stage1.1.0", "stage1.1.1", "stage1.2.0", "stage1.2.1"]
    assert "stage2.2.1" in got
    assert "0.0" in got and "1.1" in got  # each copy of a repeated group is a numbered scope
    assert check(text, depth=1).layer("stage1.0.0")["shape"] == (4, 8, 8)


def test_conditionals_with_else_chains():
    text = """
        network n(mode = 1) {
            input 4x8x8
            if mode == 0 { relu } else if mode == 1 { conv(2, 1x1) } else { conv(3, 1x1) }
        }"""
    assert check(text).output_shape == (2, 8, 8)
    assert check(text, mode=0).output_shape == (4, 8, 8)
    assert check(text, mode=7).output_shape == (3, 8, 8)


def test_network_parameters_and_input_override():
    net = check("network n(classes = 10) { input 3x32x32  conv(8, 3x3)  flatten  "
                "linear(classes) }", classes=5, input="3x34x34")
    assert net.output_shape == (5,)
    assert net.layer("0")["shape"] == (8, 32, 32)
    assert net.params_used == {"classes": 5}
    assert codes("network n(classes = 10) { input 3x4x4 }", clases=3) == ["E0211"]
    assert codes("network n(classes) { input 3x4x4 }") == ["E0203"]


def test_conv_ranks_groups_dilation_and_same():
    assert check("network n { input 4x20  conv(8, 3, stride=2) }").output_shape == (8, 9)
    assert check("network n { input 2x6x8x8  conv(4, 3x3x3, pad=1) }").output_shape == \
        (4, 6, 8, 8)
    net = check("network n { input 32x14x14  g: conv(64, 3x3, groups=32, dilation=2, "
                "pad=same, bias=false) }")
    assert net.output_shape == (64, 14, 14)
    assert net.layer("g")["params"] == 64 * 1 * 9
    assert check("network n { input 1x10x7  conv(1, 1x3, pad=(0, 1)) }").output_shape == \
        (1, 10, 7)


def test_pooling_rules():
    def out(layer, size=7):
        return check(f"network n {{ input 1x{size}x{size}  {layer} }}").output_shape

    assert out("maxpool(2x2)") == (1, 3, 3)
    assert out("maxpool(2x2, ceil=true)") == (1, 4, 4)
    assert out("maxpool(3x3, stride=2, ceil=true)", 110) == (1, 55, 55)  # ZFNet pool1
    assert out("maxpool(3x3, stride=2)", 110) == (1, 54, 54)
    assert out("avgpool(global=true)") == (1, 1, 1)
    assert out("adaptive_avgpool(6x6)", 13) == (1, 6, 6)
    assert out("maxpool(3x3, stride=2, pad=1)", 112) == (1, 56, 56)


def test_fixed_literal_kernel():
    net = check("""
        network n {
            input 3x8x8
            blur: conv([[1, 1, 1], [1, 1, 1], [1, 1, 1]] / 9, pad=1)
            edge: conv(kernel=[[0, 1, 0], [1, -4, 1], [0, 1, 0]])
        }""")
    blur = net.layer("blur")
    assert blur["shape"] == (3, 8, 8)
    assert blur["args"]["groups"] == 3 and blur["args"]["bias"] is False
    assert blur["args"]["weights"][0][0] == pytest.approx(1 / 9)
    assert blur["params"] == 27 and blur["trainable"] == 0
    assert net.trainable_params == 0 and net.params == 54
    assert net.output_shape == (3, 6, 6)


def test_comments_semicolons_and_layout_freedom():
    net = check("# top\nnetwork n { # a\n input 1x4x4 ; relu;; # b\n conv(1,\n 1x1) }")
    assert net.output_shape == (1, 4, 4)


def test_imports_are_relative_to_the_importing_file(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "blocks.arch").write_text(
        'import "more.arch"\nblock two(c) { one(c); one(c) }\n')
    (tmp_path / "lib" / "more.arch").write_text("block one(c) { conv(c, 3x3, pad=1); relu }\n")
    main = tmp_path / "net.arch"
    main.write_text('import "lib/blocks.arch"\nnetwork net { input 2x5x5  two(4) }\n')
    net = archdsl.load(main)
    assert net.output_shape == (4, 5, 5)
    assert names(net) == ["0.0.0", "0.0.1", "0.1.0", "0.1.1"]


def test_import_cycle_is_an_error(tmp_path):
    (tmp_path / "a.arch").write_text('import "b.arch"\nnetwork a { input 1x2x2 }\n')
    (tmp_path / "b.arch").write_text('import "a.arch"\nblock b { relu }\n')
    with pytest.raises(ArchError) as info:
        archdsl.load(tmp_path / "a.arch")
    assert [d.code for d in info.value.diagnostics] == ["E0402"]
    assert "a.arch -> b.arch -> a.arch" in info.value.diagnostics[0].message


def test_recursion_is_an_error():
    assert codes("block a { b }  block b { a }  network n { input 1x2x2  a }") == ["E0501"]


def test_independent_errors_are_all_reported():
    got = codes("""
        network n {
            input 1x8x8
            start = identity
            covn(3)
            conv(4, 3x3, strid=2)
            { start; concat { { conv(2, 3x3) } { conv(2, 1x1) } } }
        }""")
    assert got == ["E0201", "E0202", "E0304"]


def test_duplicate_names_in_one_scope():
    assert codes("network n { input 1x4x4  a: relu  a: relu }") == ["E0209"]
    check("network n { input 1x4x4  a: relu  b: { a: relu } }")


def test_api_errors_carry_spans():
    with pytest.raises(ArchError) as info:
        archdsl.parse("network n {\n  input 1x4x4\n  conv(2, 7x7)\n}", filename="t.arch")
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.span.line, diag.span.col) == ("E0301", 3, 3)
    assert "floor((4 - 7 + 2*0)/1) + 1 = -2" in "\n".join(diag.notes)
    assert "t.arch:3:3: error[E0301]" in info.value.render()


# ---------------------------------------------------------------------------- reserved labels

def test_reserved_labels_cover_torch_module_attributes():
    """Every public attribute of nn.Module (and of fx.GraphModule, the compiled root) is in
    the front end's static list, which must not import torch itself."""
    torch = pytest.importorskip("torch")
    from archdsl.elaborate import RESERVED_LABELS, reserved_label

    public = {n for n in dir(torch.nn.Module) + dir(torch.fx.GraphModule)
              if n.isidentifier() and not n.startswith("_")}
    public |= set(vars(torch.nn.Module()))  # `training`, `_modules`, ...: set on every instance
    missing = sorted(n for n in public if reserved_label(n) is None)
    assert not missing, f"add to RESERVED_LABELS: {missing}"
    assert "forward" in RESERVED_LABELS and reserved_label("lambda") and reserved_label("None")
    assert reserved_label("conv1") is None and reserved_label("features") is None


@pytest.mark.parametrize("label", ["forward", "training", "eval", "to", "float", "lambda",
                                   "class", "None", "self", "__init__"])
def test_reserved_label_is_refused(label):
    assert codes(f"network n {{ input 3x8x8  {label}: conv(4, 3x3) }}") == ["E0223"]


def test_reserved_label_on_a_scope():
    src = ("block b(w) { conv(w, 3x3) }  network n { input 3x8x8  train: b(4)  "
           "eval: { relu } * 2  cuda: [relu]  to: add { {} {} } }")
    assert codes(src) == ["E0223"] * 4


def test_front_end_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, archdsl; archdsl.parse('network n { input 3  linear(2) }'); "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------- hostile text

def test_control_characters_are_shown_escaped_with_the_caret_aligned():
    from archdsl.diagnostics import Diagnostic, render
    from archdsl.source import SourceFile, Span

    src = SourceFile("t.arch", "a\x1b[2Jb\tc\u200bd\n")
    text = src.text
    out = render(Diagnostic("E0101", "bad", Span(src, text.index("d"), text.index("d") + 1)))
    line, caret = out.splitlines()[1:3]
    assert "\x1b" not in out and "\u200b" not in out
    assert line.endswith("a\\x1b[2Jb c\\u200bd")
    assert caret.index("^") == line.index("d", line.index("|"))


def test_long_lines_are_cut_around_the_caret():
    from archdsl.diagnostics import Diagnostic, render
    from archdsl.source import SourceFile, Span

    src = SourceFile("t.arch", "x" * 500 + "Y" + "x" * 500)
    out = render(Diagnostic("E0101", "bad", Span(src, 500, 501)))
    line, caret = out.splitlines()[1:3]
    assert len(line) < 150 and "..." in line
    assert line[caret.index("^")] == "Y"


def test_control_character_and_nul_byte():
    assert codes("network n { input 3\x1b[2J  linear(2) }") == ["E0101"]
    assert codes("network n { input 3\x00  linear(2) }") == ["E0106"]


# ---------------------------------------------------------------------------- command line

def test_summary_depth_must_be_positive():
    from tests.conftest import run_cli

    for depth in ("0", "-1"):
        code, _, err = run_cli("summary", "lenet5", "--depth", depth)
        assert code == 2 and "--depth must be 1 or more" in err
    assert run_cli("summary", "resnet18", "--depth", "1")[0] == 0


def test_empty_set_value_is_a_usage_error():
    from tests.conftest import run_cli

    code, _, err = run_cli("check", "lenet5", "--set", "classes=")
    assert code == 2 and "--set classes= gives no value" in err


def test_overridden_value_that_fails_names_set():
    with pytest.raises(ArchError) as info:
        archdsl.parse("network n(depth = 2) { input 3  relu * depth }", depth="abc")
    (diag,) = info.value.diagnostics
    assert diag.code == "E0204" and any("--set depth=" in n for n in diag.notes)


def test_add_help_depends_on_what_differs():
    def help_of(shortcut_free_main: str) -> str:
        with pytest.raises(ArchError) as info:
            archdsl.parse(f"network n {{ input 8x8x8  add {{ {{ {shortcut_free_main} }} {{}} }} }}")
        return info.value.diagnostics[0].help or ""

    assert "same channels" in help_of("conv(16, 1x1)")
    assert "same stride" in help_of("conv(8, 1x1, stride=2)")
    assert "channels and size" in help_of("conv(16, 1x1, stride=2)")
    assert help_of("flatten") == ""


def test_label_used_as_a_value_gets_help():
    with pytest.raises(ArchError) as info:
        archdsl.parse("network n { input 3x8x8  a = conv(4, 1x1)  b: conv(4, 1x1)  "
                      "concat(a, b) }")
    (diag,) = info.value.diagnostics
    assert diag.code == "E0207" and "`b = conv(...)`" in diag.help


@pytest.mark.parametrize("spread, tupled", [
    ("permute(1, 2, 0)", "permute((1, 2, 0))"),
    ("flatten; reshape(4, 2, 24)", "flatten; reshape(4x2x24)"),
    ("flatten; view(12, 16)", "flatten; view((12, 16))"),
])
def test_dims_may_be_spread_over_positional_arguments_as_in_torch(spread, tupled):
    """`Tensor.permute(*dims)` and `Tensor.view(*shape)`: the spread form is the tuple form."""
    def layers(body):
        net = check(f"network a {{ input 3x8x8  {body} }}")
        return [(d["name"], d["op"], d["args"], d["shape"]) for d in net.layers()]

    assert layers(spread) == layers(tupled)


def test_a_spread_dims_problem_names_the_whole_tuple():
    with pytest.raises(archdsl.ArchError) as exc:
        archdsl.parse("network a { input 3x8x8  permute(1, 2) }")
    assert "needs 3 dims, found 2" in str(exc.value)
    assert "permute(1, 2, 0) moves the channels last" in str(exc.value)
