"""The editor features over stdio, each answer checked against the compiler's own results:
hovers against the IR of `archdsl.pipeline.run` (names, shapes, parameters, MACs), inlay hints
against the zoo's hand-written `# -> 64x112x112` comments, definitions and references against
the files, completion against the op registry, formatting against `archdsl fmt`, and each code
action by checking the fixed text with the pipeline."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="needs the `lsp` extra (pygls)")

from archdsl import ops
from archdsl.argspec import REQUIRED
from archdsl.evaluate import SHAPE_ATTRS
from archdsl.format import format_text
from archdsl.pipeline import run
from archdsl.values import fmt_shape
from tests.conftest import ROOT, TESTS
from tests.lsp.client import Client
from tests.lsp.conftest import apply_edits, lsp_position

ZOO = ROOT / "architectures"
ERRORS = TESTS / "errors"
NETWORKS = sorted(p for p in ZOO.glob("*.arch") if "\nnetwork " in "\n" + p.read_text())


def _pos(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return lsp_position(text, line, col)


def _hover(c: Client, uri: str, text: str, offset: int) -> str:
    got = c.at("textDocument/hover", uri, *_pos(text, offset))
    return got["contents"]["value"] if got else ""


# ---------------------------------------------------------------------------- hover
@pytest.mark.parametrize("path", NETWORKS, ids=lambda p: p.stem)
def test_hover_on_every_layer_shows_the_compilers_numbers(server, path):
    text = path.read_text()
    uri = server.open(path, text)
    result = run(path=str(path), display=str(path.relative_to(ROOT)))
    ir = result.ir
    by_span: dict[tuple[int, int], list[dict]] = {}
    for _nid, data in ir.layers():
        sp = data["span"]
        if sp.source.path == str(path.relative_to(ROOT)):
            by_span.setdefault((sp.start, sp.end), []).append(data)
    assert by_span
    for (start, _end), nodes in by_span.items():
        shown = _hover(server, uri, text, start)
        first = nodes[0]
        assert first["name"] in shown, (path.name, first["name"], shown)
        assert fmt_shape(first["shape"]) in shown, (first["name"], shown)
        if len(nodes) == 1:
            assert f"params {first['params']:,}" in shown, shown
            assert f"MACs {first['macs']:,}" in shown, shown
        else:
            assert f"{len(nodes)} instances" in shown, shown
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_hover_conv_in_resnet50_reads_like_the_summary(server):
    path = ZOO / "resnet50.arch"
    text = path.read_text()
    uri = server.open(path)
    shown = _hover(server, uri, text, text.index("conv1:"))
    assert "**conv1** · `conv 64 7x7 /2 p3`" in shown
    assert "output **64x112x112** from 3x224x224" in shown
    assert "params 9,408 · MACs 118,013,952 · receptive field 7 (jump 2)" in shown
    assert "H2 = floor((H1 - F + 2P)/S) + 1 = floor((224 - 7 + 2*3)/2) + 1 = 112" in shown
    assert "params = K*C*F = 64*3*7*7 = 9,408" in shown
    # an argument: its registry declaration and this layer's value
    stride = _hover(server, uri, text, text.index("stride=2"))
    spec = next(a for a in ops.get("conv").args if a.name == "stride")
    assert spec.doc in stride and "`2x2`" in stride
    # a block call: signature, leading comment, shapes in and out at this call
    call = _hover(server, uri, text, text.index("stage(128"))
    assert "block stage(width, blocks, stride = 1, deep = false)" in call
    assert "One stage (torchvision's `layer1` ... `layer4`)" in call
    assert "| `layer2` | 256x56x56 | 512x28x28 |" in call
    _close(server, uri)


def _close(c: Client, *uris: str) -> None:
    for uri in uris:
        c.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_hover_in_a_file_of_blocks_uses_its_open_importers(server):
    blocks = ZOO / "resnet_blocks.arch"
    text = blocks.read_text()
    net = server.open(ZOO / "resnet152.arch")
    uri = server.open(blocks, text)
    at = text.index("conv3: conv(4 * width")
    shown = _hover(server, uri, text, at + len("conv3: "))
    result = run(path=str(ZOO / "resnet152.arch"))
    convs = [d for _, d in result.ir.layers() if d["name"].endswith(".conv3")
             and d["span"].source.path.endswith("resnet_blocks.arch")]
    assert f"{len(convs)} instances" in shown
    for d in convs[:8]:
        assert f"`{d['name']}`" in shown and fmt_shape(d["shape"]) in shown
    _close(server, uri, net)


def test_hover_on_x_and_an_inline_call(server, tmp_path):
    text = ("block stem(w) {\n    conv(w, 3x3, pad=1)\n}\nnetwork n {\n    input 3x8x8\n"
            "    inline stem(4)\n    conv(x.channels * 2, 1x1)\n}\n")
    path = tmp_path / "cur.arch"
    path.write_text(text)
    mark = server.mark()
    uri = server.open(path, text)
    assert server.diagnostics(uri, mark) == []
    assert "the current tensor" in _hover(server, uri, text, text.index("x.channels"))
    assert "block stem(w)" in _hover(server, uri, text, text.index("stem(4)"))
    _close(server, uri)


# ---------------------------------------------------------------------------- inlay hints
_COMMENT = re.compile(r"#\s*->\s*([0-9x]+)")


@pytest.mark.parametrize("path", [p for p in NETWORKS if "# ->" in p.read_text()],
                         ids=lambda p: p.stem)
def test_inlay_hints_equal_the_zoos_shape_comments(server, path):
    text = path.read_text()
    uri = server.open(path, text)
    lines = text.split("\n")
    end = {"line": len(lines), "character": 0}
    hints = server.request("textDocument/inlayHint", {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 0, "character": 0}, "end": end}})
    by_line = {h["position"]["line"]: h["label"] for h in hints}
    checked = 0
    for i, line in enumerate(lines):
        m = _COMMENT.search(line)
        if m and not line.lstrip().startswith("#"):
            assert by_line.get(i) == f"-> {m.group(1)}", (path.name, i + 1, line, by_line.get(i))
            checked += 1
    assert checked >= 5
    for h in hints:  # at the end of the line, after any comment
        assert h["position"]["character"] == len(lines[h["position"]["line"]])
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


# ---------------------------------------------------------------------------- navigation
def test_definition_of_a_block_and_an_import_across_files(server):
    path = ZOO / "resnet50.arch"
    text = path.read_text()
    uri = server.open(path)
    blocks = (ZOO / "resnet_blocks.arch").read_text()
    (loc,) = server.at("textDocument/definition", uri, *_pos(text, text.index("stage(64")))
    assert loc["uri"] == (ZOO / "resnet_blocks.arch").as_uri()
    at = blocks.index("block stage") + len("block ")
    assert (loc["range"]["start"]["line"], loc["range"]["start"]["character"]) == \
        _pos(blocks, at)
    (loc,) = server.at("textDocument/definition", uri,
                       *_pos(text, text.index('"resnet_blocks.arch"') + 3))
    assert loc["uri"] == (ZOO / "resnet_blocks.arch").as_uri()
    # inside the blocks: `bottleneck(...)` in `stage` goes to `block bottleneck`
    buri = server.open(ZOO / "resnet_blocks.arch")
    (loc,) = server.at("textDocument/definition", buri,
                       *_pos(blocks, blocks.index("bottleneck(width, stride=stride)")))
    assert _pos(blocks, blocks.index("block bottleneck") + 6) == \
        (loc["range"]["start"]["line"], loc["range"]["start"]["character"])
    # a value: `width` in a block body goes to the parameter
    use = blocks.index("conv(width, 1x1", blocks.index("block bottleneck"))
    (loc,) = server.at("textDocument/definition", buri, *_pos(blocks, use + 5))
    assert _pos(blocks, blocks.index("bottleneck(width") + len("bottleneck(")) == \
        (loc["range"]["start"]["line"], loc["range"]["start"]["character"])


def test_references_of_a_block_across_the_workspace(server):
    blocks = (ZOO / "resnet_blocks.arch").read_text()
    buri = server.open(ZOO / "resnet_blocks.arch")
    refs = server.at("textDocument/references", buri,
                     *_pos(blocks, blocks.index("block stage") + 7),
                     context={"includeDeclaration": True})
    found = {(Path(r["uri"][7:]).name, r["range"]["start"]["line"]) for r in refs}
    expected = {("resnet_blocks.arch", blocks[:blocks.index("block stage")].count("\n"))}
    for p in ZOO.glob("*.arch"):
        for i, line in enumerate(p.read_text().split("\n")):
            code = line.split("#", 1)[0]
            if re.search(r"\bstage\(", code) and not code.lstrip().startswith("block"):
                expected.add((p.name, i))
    assert found == expected


def test_references_of_a_value_stay_in_its_block(server):
    blocks = (ZOO / "resnet_blocks.arch").read_text()
    buri = server.open(ZOO / "resnet_blocks.arch")
    start = blocks.index("block bottleneck")
    end = blocks.index("block stage")
    refs = server.at("textDocument/references", buri,
                     *_pos(blocks, blocks.index("width", start)),
                     context={"includeDeclaration": True})
    lines = {r["range"]["start"]["line"] for r in refs}
    body = blocks[start:end]
    expected = {blocks[:start].count("\n") + body[:m.start()].count("\n")
                for m in re.finditer(r"\bwidth\b", body)}
    assert lines == expected


def test_document_symbols_outline_the_labels(server):
    path = ZOO / "googlenet.arch"
    text = path.read_text()
    uri = server.open(path, text)
    syms = server.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    (net,) = [s for s in syms if s["name"] == "googlenet"]
    names = [c["name"] for c in net["children"]]
    labels = re.findall(r"^\s{4}([A-Za-z_]\w*):", text.split("network googlenet", 1)[1], re.M)
    assert [n for n in names if n in labels] == labels
    conv1 = next(c for c in net["children"] if c["name"] == "conv1")
    assert "64x112x112" in conv1["detail"]


def test_workspace_symbols_find_the_zoos_blocks(server):
    got = server.request("workspace/symbol", {"query": "bottle"})
    assert {(s["name"], Path(s["location"]["uri"]).name) for s in got} >= \
        {("bottleneck", "resnet_blocks.arch")}


# ---------------------------------------------------------------------------- completion
def _labels(c: Client, uri: str, text: str, offset: int) -> dict[str, dict]:
    got = c.at("textDocument/completion", uri, *_pos(text, offset))
    return {i["label"]: i for i in got["items"]}


def test_completion_offers_layers_blocks_arguments_and_attributes(server, tmp_path):
    shutil.copy(ZOO / "resnet_blocks.arch", tmp_path / "resnet_blocks.arch")
    path = tmp_path / "net.arch"
    text = ('import "resnet_blocks.arch"\nblock b(width, k = 3) {\n    x = conv(width, 3x3, \n'
            '    conv(in.\n}\nnetwork n {\n    input 3x32x32\n    \n}\n')
    path.write_text(text)
    uri = server.open(path, text)
    args = _labels(server, uri, text, text.index("3x3, ") + 5)
    for a in ops.get("conv").args[2:]:
        item = args[f"{a.name}="]
        assert item["insertText"] == f"{a.name}="
        assert (item.get("documentation") or "") == a.doc
    assert "width" in args and "k" in args  # the block's parameters as values
    attrs = _labels(server, uri, text, text.index("in.") + 3)
    assert set(attrs) == set(SHAPE_ATTRS)
    items = _labels(server, uri, text, text.index("    \n}") + 4)
    kinds = {k for k in ops.kinds() if k != "input" and ops.get(k).family != "merge"}
    assert kinds <= set(items)
    conv = items["conv"]
    required = [a.name for a in ops.get("conv").args if a.positional and a.default in
                (REQUIRED, None)]
    assert conv["insertText"] == "conv(" + ", ".join(
        f"${{{i + 1}:{n}}}" for i, n in enumerate(required)) + ")"
    for block in ("bottleneck", "basic", "stage", "b"):
        assert block in items
    assert items["bottleneck"]["insertText"] == "bottleneck(${1:width})"
    assert {"add", "concat", "input", "if", "inline"} <= set(items)
    # inside `import "`: the files next to this one
    text2 = 'import "res'
    p2 = tmp_path / "other.arch"
    p2.write_text(text2)
    uri2 = server.open(p2, text2)
    files = _labels(server, uri2, text2, len(text2))
    assert "resnet_blocks.arch" in files and "net.arch" in files


# ---------------------------------------------------------------------------- formatting
def test_formatting_is_archdsl_fmt(server, tmp_path):
    messy = re.sub(r"\n\s+", "\n ", (ZOO / "lenet5.arch").read_text()).replace(", ", ",")
    path = tmp_path / "messy.arch"
    path.write_text(messy)
    uri = server.open(path, messy)
    edits = server.request("textDocument/formatting", {
        "textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": True}})
    assert apply_edits(messy, edits) == format_text(messy, str(path))
    assert format_text(messy, str(path)) != messy


# ---------------------------------------------------------------------------- code actions
@pytest.mark.parametrize("name", ["name_unknown_argument", "name_unknown_layer",
                                  "shape_linear_on_volume", "shape_add_channels",
                                  "shape_add_both", "unknown_attribute", "name_foreign_fixable",
                                  "summary_warn_werror"])
def test_quick_fix_makes_the_file_check(server, tmp_path, name):
    text = (ERRORS / f"{name}.arch").read_text()
    path = tmp_path / f"{name}.arch"
    path.write_text(text)
    mark = server.mark()
    uri = server.open(path, text)
    diags = server.diagnostics(uri, mark)
    assert diags
    actions = server.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": diags[0]["range"],
        "context": {"diagnostics": diags}})
    assert actions, f"no quick fix for {name}: {diags[0]['message']}"
    fixed = apply_edits(text, actions[0]["edit"]["changes"][uri])
    result = run(text=fixed, display=name)
    assert not result.diagnostics.items, (fixed, [d.message for d in result.diagnostics])


def test_a_binding_read_later_is_labelled_too(server, tmp_path):
    text = ("network n {\n    input 3x8x8\n    conv2 = conv(8, 3x3, pad=1)\n"
            "    add(conv2, x)\n}\n")
    path = tmp_path / "bound.arch"
    path.write_text(text)
    mark = server.mark()
    uri = server.open(path, text)
    (diag,) = server.diagnostics(uri, mark)
    assert diag["code"] == "W0002" and diag["severity"] == 2  # DiagnosticSeverity.Warning
    actions = server.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": diag["range"], "context": {"diagnostics": [diag]}})
    fixed = apply_edits(text, actions[0]["edit"]["changes"][uri])
    assert "conv2 = conv2: conv(8, 3x3, pad=1)" in fixed
    result = run(text=fixed, display="bound.arch")
    assert not result.diagnostics.items
    assert "conv2" in {d["name"] for _, d in result.ir.nodes()}


def test_no_quick_fix_where_the_compiler_proposes_none(server, tmp_path):
    text = (ERRORS / "shape_conv_too_large.arch").read_text()
    path = tmp_path / "big.arch"
    path.write_text(text)
    mark = server.mark()
    uri = server.open(path, text)
    diags = server.diagnostics(uri, mark)
    assert server.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": diags[0]["range"],
        "context": {"diagnostics": diags}}) == []


def test_hover_in_a_block_reads_torchvisions_numbers(server):
    """In the blocks file, with resnet50 open: `downsample:` lists each projection's output and
    parameters, and `in.channels` the input channels of each bottleneck, as torchvision's
    ResNet-50 has them (tests/reference)."""
    from tests.conftest import reference

    ref = reference("torchvision/resnet50")
    net = server.open(ZOO / "resnet50.arch")
    blocks = (ZOO / "resnet_blocks.arch").read_text()
    buri = server.open(ZOO / "resnet_blocks.arch", blocks)
    start = blocks.index("block bottleneck")
    shown = _hover(server, buri, blocks, blocks.index("downsample:", start))
    modules = {name: (shape, params) for name, _cls, shape, params in ref["modules"]}
    for stage in (1, 2, 3, 4):
        name = f"layer{stage}.0.downsample"
        params = sum(p for n, (_, p) in modules.items() if n.startswith(name + "."))
        out = "x".join(map(str, modules[name + ".1"][0][1:]))
        assert f"| `{name}` |" in shown and f"| {out} | {params:,} |" in shown, (name, shown)
    shown = _hover(server, buri, blocks, blocks.index("in.channels", start) + 4)
    weights = dict((n, s) for n, s in ref["state_dict"])
    channels = {weights[n][1] for n in weights if n.endswith(".conv1.weight") and "layer" in n}
    listed = set(re.findall(r"`(\d+)`", shown.split("is", 1)[1]))
    assert listed == {str(c) for c in channels}, shown
    _close(server, net, buri)


def test_signature_help_follows_the_argument_being_typed(server, tmp_path):
    text = ("block unit(width, k = 3) {\n    conv(width, k)\n}\nnetwork n {\n"
            "    input 3x32x32\n    conv(16, 3x3, stride=2, pa\n    unit(8, \n}\n")
    path = tmp_path / "sig.arch"
    path.write_text(text)
    uri = server.open(path, text)
    conv = ops.get("conv")

    def help_at(offset):
        return server.at("textDocument/signatureHelp", uri, *_pos(text, offset))

    line = text.index("conv(16")
    got = help_at(line + len("conv(16"))
    (sig,) = got["signatures"]
    assert sig["label"].startswith("conv(filters, kernel, stride=1, pad=0")
    assert [p["label"] for p in sig["parameters"]][:2] == ["filters", "kernel"]
    assert got["activeParameter"] == 0
    assert help_at(line + len("conv(16, 3x"))["activeParameter"] == 1
    names = [a.name for a in conv.args]
    assert help_at(line + len("conv(16, 3x3, stride=2"))["activeParameter"] == \
        names.index("stride")
    assert help_at(line + len("conv(16, 3x3, stride=2, pa"))["activeParameter"] == \
        names.index("pad")
    block = help_at(text.index("unit(8, ") + len("unit(8, "))
    assert block["signatures"][0]["label"] == "unit(width, k = 3)"
    assert block["activeParameter"] == 1
