"""What keeps the front end fast, checked without timing anything (issue 7): `check` imports
neither networkx nor torch, the parser tables come from the cache and survive a broken cache,
imported files are parsed once, and the IR's own storage agrees with its networkx view."""

from __future__ import annotations

import os
import subprocess
import sys

import archdsl
from archdsl import loader


def _run(code: str, **env) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, **env}, check=True)
    return out.stdout.strip()


def test_check_imports_neither_networkx_nor_torch():
    code = ("import sys, archdsl.cli\n"
            "assert archdsl.cli.main(['check', 'resnet152']) == 0\n"
            "print('networkx' in sys.modules, 'torch' in sys.modules)")
    assert _run(code) == "False False"


def test_check_imports_only_its_own_command():
    """The CLI sets up only the subcommand it runs; the others are listed, not imported."""
    code = ("import sys, archdsl.cli\n"
            "assert archdsl.cli.main(['check', 'lenet5']) == 0\n"
            "print(sorted(m for m in sys.modules if m.startswith('archdsl.commands.')))")
    assert _run(code) == "['archdsl.commands.check', 'archdsl.commands.common']"


def test_grammar_cache_is_written_and_a_broken_one_is_rebuilt(tmp_path):
    code = ("from archdsl.load_grammar import lark_parser, cache_path, grammar_text\n"
            "lark_parser(); print(cache_path(grammar_text()))")
    path = _run(code, XDG_CACHE_HOME=str(tmp_path))
    assert path.startswith(str(tmp_path)) and os.path.getsize(path) > 1000
    with open(path, "wb") as fh:
        fh.write(b"not a pickle")
    check = "import archdsl; print(archdsl.zoo('lenet5').params)"
    assert _run(check, XDG_CACHE_HOME=str(tmp_path)) == str(archdsl.zoo("lenet5").params)
    assert os.path.getsize(path) > 1000  # rewritten


def test_each_imported_file_is_parsed_once(tmp_path, monkeypatch):
    (tmp_path / "base.arch").write_text("block b1 { relu }\n")
    (tmp_path / "left.arch").write_text('import "base.arch"\nblock l { b1 }\n')
    (tmp_path / "right.arch").write_text('import "base.arch"\nblock r { b1 }\n')
    (tmp_path / "top.arch").write_text('import "left.arch"\nimport "right.arch"\n'
                                       "network top { input 4x8x8\n l\n r\n }\n")
    parsed = []
    real = loader.parse_module

    def spy(source, diags, budget=None):
        parsed.append(os.path.basename(source.path))
        return real(source, diags, budget)

    monkeypatch.setattr(loader, "parse_module", spy)
    archdsl.load(tmp_path / "top.arch")
    assert sorted(parsed) == ["base.arch", "left.arch", "right.arch", "top.arch"]


def test_many_unlabelled_merges_are_numbered_in_order():
    body = "\n".join(["add { {} {} }"] * 50)
    net = archdsl.parse("network n { input 4x8x8\n add_3: relu\n" + body + "\n}")
    names = [d["name"] for _, d in net.ir.layers()]
    assert names[:6] == ["add_3", "add", "add_1", "add_2", "add_4", "add_5"]
    assert len(set(names)) == len(names) == 51


def test_ir_storage_and_networkx_view_agree():
    net = archdsl.zoo("resnet18")
    ir = net.ir
    before = {nid: (ir.inputs(nid), ir.users(nid)) for nid in ir.topo()}
    live = ir.live()
    g = net.graph  # builds the networkx graph; from now on it is the storage
    assert g.number_of_nodes() == len(ir) and g.graph is ir.attrs
    assert {nid: (ir.inputs(nid), ir.users(nid)) for nid in ir.topo()} == before
    assert ir.live() == live
    ir.node(ir.output)["mark"] = 1
    assert g.nodes[ir.output]["mark"] == 1
    ir.verify()


def test_repeated_layer_configurations_are_reused_but_stay_independent():
    """Elaboration reuses the checks of a layer configuration it has already made (kind,
    arguments, input shapes): the copies get their own argument dicts, values that compare
    equal but differ (1 / 1.0 / true, 0.0 / -0.0) are not confused, and a different input
    shape is a different configuration."""
    net = archdsl.parse("network n { input 4x8x8\n"
                        "a: conv(4, 3x3, pad=1); b: conv(4, 3x3, pad=1)\n"
                        "c: conv(4, 3x3); d: dropout(0.0); e: dropout(-0.0) }")
    a, b, c = (net.layer(n) for n in ("a", "b", "c"))
    assert a["args"] == b["args"] and a["args"] is not b["args"]
    assert (a["shape"], b["shape"], c["shape"]) == ((4, 8, 8), (4, 8, 8), (4, 6, 6))
    d, e = (net.layer(n)["args"]["p"] for n in ("d", "e"))
    assert str(d) == "0.0" and str(e) == "-0.0"
