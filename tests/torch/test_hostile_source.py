"""The proof that nothing from an input reaches a generated file unescaped (issue 11): networks
whose file names, imported file names, string parameters (from the file, from `--set`, from
Python) and names are hostile (CR, LF, form feed, U+2028/2029, bidi controls, quotes,
backslashes, `\"\"\"`, a PEP 263 `coding: utf-7` declaration, shell syntax) are compiled, and
every generated file

- holds printable characters and newlines only, and declares nothing about its encoding;
- parses with `ast` into exactly the top-level statements the generator means to write, and
  into the same tree and the same comment lines as the same network with harmless names;
- gives the module docstring back with the path in it, as data;
- has a regenerate command that bash reads back as the words meant, and that regenerates it;
- runs, in an empty folder, writing nothing there;

and an ONNX export of it holds no string but IR names and the exporter's own."""

from __future__ import annotations

import ast
import inspect
import io
import math
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import archdsl  # noqa: E402
from archdsl.backends.torch import runtime  # noqa: E402
from archdsl.backends.torch import source as source_module  # noqa: E402
from archdsl.escape import py_comment  # noqa: E402
from tests.conftest import run_cli  # noqa: E402


def _u7(text: str) -> str:
    """`text` with its newlines, quotes and brackets as UTF-7 would write them: what a file that
    Python decodes as UTF-7 (after a `coding: utf-7` comment on line 1 or 2) turns back into
    code."""
    import base64

    def one(ch):
        return "+" + base64.b64encode(ch.encode("utf-16-be")).decode().rstrip("=") + "-"

    return "".join(one(ch) if ch in "\n'\"()" else ch for ch in text)


def _payload(tag: str) -> str:
    return f"__import__('os').system('touch PWNED_{tag}')"


# A file name may hold anything but `/` and NUL, undecodable bytes too (`\udcff`: the byte 0xff).
MAIN = ('n\r' + _payload("cr").replace("'", '"') + '\n#\x0c\u2028\u202e\udcff """ \\ \' '
        + "coding: utf-7 " + _u7("\n" + _payload("u7") + "\n#")
        + " $(touch PWNED_sh) `touch PWNED_bt`.arch")
LIB = "lib\r\n" + _payload("lib").replace("'", '"') + "\n#\u2029\u2066.arch"
# printable, so an import string and a string parameter in the file can hold them
BLOCKS = "q' \\ coding: utf-7 " + _u7("\n" + _payload("imp") + "\n#") + ".arch"
FROM_FILE = "coding: utf-7 " + _u7("\n" + _payload("def") + "\n#")
FROM_SET = "$(touch PWNED_set) `touch PWNED_bt2` it's \\ \"q\" coding: utf-7 +AAo-#"
FROM_PYTHON = "x\r" + _payload("api") + "\r#\u2028\u202e\"\"\"\\"

NETWORK = '''import "{lib}"
import "{blocks}"

network none(s = "{s}", t = "it's a \\\\ backslash", u = "plain") {{
    input 1x8x8
    init conv.weight = normal(0.02, mean=0.5)
    print: conv([[0, 1, 0], [1, -4, 1], [0, 1, 0]], pad=1)
    getattr: unit(4)
    place: helper
    flatten
    fc: linear(3)
}}
'''
LIB_TEXT = "block unit(w) {\n    conv(w, 3x3, pad=1)\n    relu\n}\n"
BLOCKS_TEXT = "block helper {\n    conv(in.channels, 1x1)\n    relu\n}\n"


def _write_tree(folder: Path, hostile: bool) -> Path:
    """The network, its two imports (one through a link to a file with a hostile name, as
    inside a --sandbox folder), with hostile or harmless names; returns the main file."""
    folder.mkdir()
    main, lib, blocks = (MAIN, LIB, BLOCKS) if hostile else ("main.arch", "lib0.arch",
                                                             "blocks.arch")
    (folder / lib).write_text(LIB_TEXT)
    os.symlink(lib, folder / "lib.arch")
    (folder / blocks).write_text(BLOCKS_TEXT)
    text = NETWORK.format(lib="lib.arch", blocks=blocks, s=FROM_FILE if hostile else "x")
    (folder / main).write_text(text)
    return folder / main


def intended_top_level(cls: str, optimize: bool, literal: bool) -> list[tuple[str, str]]:
    """The top-level statements `to_source` means to write, in order: its docstring, two
    imports, the helpers it copies (each helper's own statements), the class, the main block.
    (The blocks of this network are plain sequences: nn.Sequential, no class of their own.)"""
    helpers = []
    if literal:
        helpers.append(inspect.getsource(runtime.literal_kernel))
    if optimize:
        helpers += source_module._optimize_helpers()
    want = [("Expr", "docstring"), ("Import", "import torch"),
            ("ImportFrom", "from torch import fx, nn" if optimize else "from torch import nn")]
    for h in helpers:
        want += [_describe(n) for n in ast.parse(h).body]
    return [*want, ("ClassDef", cls), ("If", "if __name__ == '__main__':")]


def _describe(node: ast.stmt) -> tuple[str, str]:
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return "Expr", "docstring"
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return type(node).__name__, node.name
    return type(node).__name__, ast.unparse(node).split("\n")[0]


def _skeleton(tree: ast.Module) -> str:
    """The tree without the module docstring (the one place the path is data)."""
    body = tree.body[1:]
    return ast.dump(ast.Module(body=body, type_ignores=[]))


def _comment_lines(src: str) -> list[int]:
    tokens = tokenize.generate_tokens(io.StringIO(src).readline)
    return [t.start[0] for t in tokens if t.type == tokenize.COMMENT]


def check_generated(src: str, cls: str, optimize: bool, literal: bool) -> ast.Module:
    """What every generated file must satisfy, whatever its input."""
    assert all(ch == "\n" or ch.isprintable() for ch in src), \
        sorted({ascii(ch) for ch in src if ch != "\n" and not ch.isprintable()})
    head = src.split("\n")[:2]
    assert head[0].startswith("# Generated by archdsl ") and head[1].startswith("# Regenerate")
    assert "coding" not in "".join(head)  # PEP 263 reads these two lines
    assert tokenize.detect_encoding(io.BytesIO(src.encode()).readline)[0] == "utf-8"
    tree = ast.parse(src)
    assert [_describe(n) for n in tree.body] == intended_top_level(cls, optimize, literal)
    return tree


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """{(variant): (source, main path as shown)} for the hostile tree and its harmless twin."""
    out = {}
    base = tmp_path_factory.mktemp("hostile")
    for hostile in (True, False):
        folder = base / ("evil" if hostile else "good")
        main = _write_tree(folder, hostile)
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            setting = f"u={FROM_SET if hostile else 'plain'}"
            for optimize in (False, True):
                target = f"out{'_opt' if optimize else ''}.py"
                code, _, err = run_cli("compile", main.name, "--sandbox", "--set", setting,
                                       "-o", target, *(["--optimize"] if optimize else []))
                assert code == 0, err
                out[hostile, "cli", optimize] = ((folder / target).read_text(), main.name)
            net = archdsl.load(main.name, sandbox=True, s=FROM_PYTHON if hostile else "x")
            out[hostile, "api", False] = (net.to_source(), main.name)
        finally:
            os.chdir(cwd)
    return out


VARIANTS = [("cli", False), ("cli", True), ("api", False)]


@pytest.mark.parametrize(("how", "optimize"), VARIANTS)
def test_hostile_inputs_change_nothing_but_escaped_text(compiled, how, optimize):
    evil, path = compiled[True, how, optimize]
    good, _ = compiled[False, how, optimize]
    tree = check_generated(evil, "None_", optimize, literal=True)
    twin = check_generated(good, "None_", optimize, literal=True)
    assert _skeleton(tree) == _skeleton(twin)
    assert _comment_lines(evil) == _comment_lines(good)
    doc = ast.get_docstring(tree, clean=False)
    assert doc.startswith(f"`none` as a PyTorch module, compiled from {path} by archdsl.")
    # the per-child comments name the file, escaped (`unit` of the imported file is an
    # nn.Sequential built on the line of the main file that calls it)
    assert f"# {py_comment(os.path.relpath(MAIN))}:8" in evil


def test_the_regenerate_command_reads_back_in_bash(compiled, tmp_path):
    evil, path = compiled[True, "cli", False]
    line = next(ln for ln in evil.split("\n") if ln.startswith("#   archdsl compile "))
    command = line[len("#   "):]
    words = subprocess.run(["bash", "-c", f"set -- {command}; printf '%s\\0' \"$@\""],
                           capture_output=True, check=True).stdout.split(b"\0")[:-1]
    want = ["archdsl", "compile", path, "--set", f"s={FROM_FILE}", "--set",
            "t=it's a \\\\ backslash", "--set", f"u={FROM_SET}"]
    assert [w.decode("utf-8", "surrogateescape") for w in words] == want


def test_the_api_value_with_line_breaks_is_escaped_in_the_header(compiled):
    evil, _ = compiled[True, "api", False]
    header = [ln for ln in evil.split("\n") if ln.startswith("#")][:7]
    assert any("\\x0d" in ln and "\\u2028" in ln for ln in header), header


@pytest.mark.parametrize(("how", "optimize"), VARIANTS)
def test_the_generated_file_runs_and_writes_nothing(compiled, how, optimize, tmp_path):
    evil, _ = compiled[True, how, optimize]
    script = tmp_path / "model.py"
    script.write_text(evil)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 0, done.stderr
    assert "None_: input (1, 1, 8, 8) -> output (1, 3)" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.py"]


def test_nothing_was_run_while_compiling(compiled, tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    assert not [p for p in base.rglob("PWNED*")]


def test_onnx_holds_no_text_from_the_input(tmp_path, monkeypatch):
    onnx = pytest.importorskip("onnx")
    main = _write_tree(tmp_path / "evil", hostile=True)
    monkeypatch.chdir(main.parent)
    net = archdsl.load(main.name, s=FROM_PYTHON)
    out = net.to_onnx(str(tmp_path / "n.onnx"), seed=0)
    model = onnx.load(out)
    strings = set()

    def walk(value):
        if hasattr(value, "ListFields"):  # a message
            for _, v in value.ListFields():
                walk(v)
        elif isinstance(value, str):
            strings.add(value)
        elif not isinstance(value, (bytes, int, float)):  # a repeated field
            for v in value:
                walk(v)

    walk(model)
    # IR names (`getattr.0`), weights (`getattr.0.weight`), the exporter's node and tensor names
    # built from them (`/getattr.0/Conv_output_0`), op types and attribute names: nothing else
    assert {"print.weight", "/print/Conv", "getattr.0.weight"} <= strings
    assert all(re.fullmatch(r"[A-Za-z0-9_./+-]*", s) for s in strings), sorted(strings)
    assert not [s for s in strings if "PWNED" in s or "coding" in s]
    assert model.doc_string == "" and model.graph.doc_string == ""
    assert all(n.doc_string == "" for n in model.graph.node)


def test_non_finite_numbers_are_printed_so_python_reads_them():
    """`inf` and `nan` are not names Python knows; the front end refuses most non-finite
    numbers, and the printer never writes them bare whatever reaches it."""
    from torch import nn

    from archdsl.backends.torch.lowering import ModuleCall

    for call in (ModuleCall("LeakyReLU", (float("-inf"),)),
                 ModuleCall("BatchNorm2d", (4,), (("eps", float("nan")), ("momentum", 1e-300))),
                 ModuleCall("Hardtanh", (float("-inf"), float("inf")))):
        src = call.source()
        names = {n.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Name)}
        assert names <= {"nn", "float"}, src
        built = eval(src, {"nn": nn})
        assert repr(built) == repr(call.build())


def test_the_printer_refuses_what_it_cannot_write():
    from archdsl.backends.torch.lowering import ModuleCall

    with pytest.raises(TypeError):
        ModuleCall("Linear", (object(),)).source()
    with pytest.raises(ValueError):
        ModuleCall("Linear", (1, 2), (("bias=True); __import__('os'", True),)).source()
    with pytest.raises(ValueError):
        ModuleCall("Linear(1, 2); import os; nn.ReLU").source()


def test_a_forward_with_non_finite_arguments_gets_their_definitions(monkeypatch):
    """A custom lowering's infinite arguments are written `float("inf")`; a torch function is
    named as torch names it; any other callable, which the file would not define, is
    refused."""
    from archdsl.backends.torch import lowering

    def clamp(a, ins, call):
        return call(torch.clamp, (ins[0], float("-inf"), float("inf")))

    monkeypatch.setitem(lowering.LOWERINGS, "relu", lowering.Lowering(function=clamp))
    net = archdsl.parse("network n { input 4\n relu }")
    src = net.to_source()
    assert 'torch.clamp(x, float("-inf"), float("inf"))' in src and "nan" not in src
    namespace = {"__name__": "generated"}
    exec(compile(src, "<n>", "exec"), namespace)
    x = torch.tensor([[-1.0, 0.0, 2.0, float("nan")]])
    torch.testing.assert_close(namespace["N"]()(x), net.to_torch()(x), equal_nan=True)

    def unknown(a, ins, call):
        return call(math.floor, (ins[0],))

    monkeypatch.setitem(lowering.LOWERINGS, "relu", lowering.Lowering(function=unknown))
    with pytest.raises(ValueError, match="does not define"):
        archdsl.parse("network n { input 4\n relu }").to_source()
