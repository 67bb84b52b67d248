"""The Python API as a notebook uses it (issue 15): what an error shows, what a network and
its summary show, real signatures, and network parameters that never collide with the
options of `load`."""

from __future__ import annotations

import inspect
import json
import re
from html.parser import HTMLParser

import pytest

import archdsl
from archdsl.backends.graphviz.render import dot_program
from tests.conftest import run_cli

BAD = "network n {\n  input 3x8x8\n  conv(4, 9x9)\n}\n"


def test_str_of_an_arch_error_is_the_rendered_diagnostics():
    with pytest.raises(archdsl.ArchError) as info:
        archdsl.parse(BAD, filename="bad.arch")
    exc = info.value
    text = str(exc)
    assert text == exc.render()
    assert text.startswith("bad.arch:3:3: error[E0301]: conv kernel 9x9 does not fit")
    assert "  3 |   conv(4, 9x9)\n    |   ^^^^^^^^^^^^ output width would be 0" in text
    assert exc.headline == "bad.arch:3:3: conv kernel 9x9 does not fit in its 8x8 padded input"
    (diag,) = exc.diagnostics  # as data
    assert diag.code == "E0301" and diag.span.line == 3
    assert diag.to_json()["span"] == {"file": "bad.arch", "line": 3, "col": 3, "end_line": 3,
                                      "end_col": 15}


def test_the_summary_is_a_table_with_rows_json_and_markdown():
    net = archdsl.zoo("resnet50")
    s = net.summary(depth=1)
    assert repr(s) == str(s) == run_cli("summary", "resnet50", "--depth", "1")[1].rstrip("\n")
    assert isinstance(s, str) and s.startswith("resnet50  (zoo:resnet50)")
    names = [r["name"] for r in s.rows]
    assert names == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3",
                     "layer4", "avgpool", "flatten", "fc"]
    assert sum(r["params"] for r in s.rows) == net.params == 25_557_032
    assert sum(r["trainable_params"] for r in s.rows) == net.trainable_params
    assert s.to_json() == json.loads(run_cli("summary", "resnet50", "--depth", "1",
                                             "--format", "json")[1])
    assert s.to_markdown() == run_cli("summary", "resnet50", "--depth", "1", "--format",
                                      "markdown")[1].rstrip("\n")
    assert net.summary(fmt="json") == run_cli("summary", "resnet50", "--format", "json")[1][:-1]


def test_summary_json_honours_depth_and_says_when_it_is_partial(tmp_path):
    for depth in (1, 2, 3):
        data = json.loads(run_cli("summary", "resnet50", "--format", "json", "--depth",
                                  str(depth))[1])
        table = run_cli("summary", "resnet50", "--depth", str(depth))[1].splitlines()
        rows = table[4:table.index(table[3], 4)]  # between the two rules, input row first
        assert [r["name"] for r in data["layers"]] == [line.split()[0] for line in rows[1:]]
        assert data["depth"] == depth and data["partial"] is False and data["diagnostics"] == []
    bad = tmp_path / "bad.arch"
    bad.write_text(BAD)
    code, out, _ = run_cli("summary", str(bad), "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["partial"] is True
    assert [d["code"] for d in data["diagnostics"]] == ["E0301"]
    assert data["layers"][-1] == {**data["layers"][-1], "name": "0", "error": True}
    bad.write_text("network n {\n  input 3x8x8\n")  # no network at all
    code, out, _ = run_cli("summary", str(bad), "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["partial"] is True and data["network"] is None
    assert data["diagnostics"][0]["code"] == "E0102" and data["layers"] == []


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_a_network_in_jupyter_is_its_table_and_diagram():
    net = archdsl.zoo("resnet50")
    page = net._repr_html_()
    parser = _Tags()
    parser.feed(page)
    # the deepest depth whose table fits in 40 rows: 2 (the bottlenecks, layer1.0 ...)
    assert parser.tags.count("tr") == 1 + 24  # the header, the input and 23 rows
    assert "(depth 2)" in "".join(parser.text) and "layer3.5" in page
    assert "svg" in parser.tags if dot_program() else "Graphviz" in page
    small = archdsl.zoo("lenet5")._repr_html_()
    assert "(every layer)" in small and small.count("<tr") == 1 + 1 + 12  # input, 12 layers


@pytest.mark.skipif(dot_program() is None, reason="needs Graphviz's dot")
def test_show_draws_at_a_depth():
    diagram = archdsl.zoo("resnet50").show(depth=2)
    assert diagram.dot == archdsl.zoo("resnet50").to_dot(depth=2)
    svg = diagram._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "layer1.0" in svg
    assert diagram._repr_html_().startswith("<svg")


def test_print_model_shows_the_module_tree_only():
    torch = pytest.importorskip("torch")
    model = archdsl.zoo("lenet5").to_torch()
    shown = str(model)
    assert shown == repr(model) == torch.nn.Module.__repr__(model)
    assert shown.startswith("Lenet5(\n  (conv1): Conv2d(1, 6")
    assert "def forward" not in shown and "graph_module" not in shown


@pytest.mark.parametrize(("method", "names"), [
    ("to_torch", ["self", "device", "dtype", "optimize"]),
    ("to_source", ["self", "optimize"]),
    ("to_onnx", ["self", "path", "opset", "seed", "verify", "model"]),
    ("draw", ["self", "path", "format", "depth", "rankdir", "shapes", "params",
              "merge_chains", "title", "legend", "focus"]),
    ("to_dot", ["self", "depth", "rankdir", "shapes", "params", "merge_chains", "title",
                "legend", "focus", "diagnostics"]),
    ("summary", ["self", "depth", "fmt", "convention", "unit", "memory", "batch",
                 "optimizer"]),
    ("show", ["self", "depth", "rankdir", "merge_chains", "focus"]),
])
def test_public_methods_have_real_signatures_and_docstrings(method, names):
    func = getattr(archdsl.Network, method)
    params = inspect.signature(func).parameters
    assert list(params) == names
    assert not any(p.kind is p.VAR_KEYWORD for p in params.values())
    assert func.__doc__ and len(func.__doc__) > 40


def test_draw_options_match_the_diagram_options():
    """Network.draw and to_dot spell out every DrawOptions field (none forgotten)."""
    from archdsl.backends.graphviz import DrawOptions

    fields = set(DrawOptions.__dataclass_fields__)
    assert set(inspect.signature(archdsl.Network.to_dot).parameters) - {"self"} == fields
    assert set(inspect.signature(archdsl.Network.draw).parameters) - {
        "self", "path", "format"} == fields - {"diagnostics"}


# ------------------------------------------------------------ parameters against options

NAMED_LIKE_OPTIONS = """network n(limits = 8, sandbox = 2, search_path = 1) {
    input 3x8x8
    conv(limits * sandbox * search_path, 3x3)
}
"""


def test_parameters_named_like_options_go_in_the_mapping(tmp_path):
    f = tmp_path / "n.arch"
    f.write_text(NAMED_LIKE_OPTIONS)
    assert archdsl.load(f).output_shape == (16, 6, 6)
    assert archdsl.load(f, {"limits": 16}).output_shape == (32, 6, 6)
    net = archdsl.load(f, {"limits": 3, "sandbox": 1}, search_path=[str(tmp_path)],
                       limits=archdsl.Limits(max_layers=100), sandbox=True)
    assert net.output_shape == (3, 6, 6)
    assert archdsl.parse(NAMED_LIKE_OPTIONS, {"search_path": 2}).output_shape == (32, 6, 6)


def test_an_option_given_a_parameters_value_says_how_to_set_the_parameter(tmp_path):
    f = tmp_path / "n.arch"
    f.write_text(NAMED_LIKE_OPTIONS)
    with pytest.raises(TypeError, match=re.escape(
            "load(): `limits` is an option of load() and wants an archdsl.Limits, got 16; to "
            "set a network parameter named `limits`, pass parameters as a mapping: "
            "load(..., {'limits': 16})")):
        archdsl.load(f, limits=16)
    with pytest.raises(TypeError, match=r"`sandbox` is an option of parse\(\)"):
        archdsl.parse(NAMED_LIKE_OPTIONS, sandbox=2)
    with pytest.raises(TypeError, match="given twice"):
        archdsl.load(f, {"classes": 1}, classes=2)
    with pytest.raises(TypeError, match="a mapping"):
        archdsl.load(f, 16)


def test_existing_calls_keep_working():
    assert archdsl.zoo("lenet5", classes=3).output_shape == (3,)
    assert archdsl.load(archdsl.zoo_path("alexnet"), input="3x227x227").input_shape == (3, 227,
                                                                                         227)
    assert archdsl.zoo("lenet5", {"classes": 4}).output_shape == (4,)
    with pytest.raises(archdsl.ArchError):
        archdsl.parse(BAD, filename="x.arch", limits=archdsl.Limits(max_work=10**9))
