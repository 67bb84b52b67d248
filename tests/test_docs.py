"""Every example of the language reference (docs/language.md) goes through the front end.

Conventions (stated at the top of the page): ```arch is a whole file that checks clean,
```arch error E0xxx ... fails with exactly those codes, ```arch warning W0xxx ... checks with
exactly those warnings and no error, ```arch fragment is body lines that
only need to parse, ```arch names checks clean and the ```text block after it lists the
module path of every layer in order. Imports resolve in the zoo folder.
"""

from __future__ import annotations

import re

import pytest

from archdsl import ops
from archdsl.loader import LoadOptions
from archdsl.parser import parse_module
from archdsl.pipeline import run
from archdsl.source import SourceFile
from tests.conftest import ROOT

DOC = ROOT / "docs" / "language.md"
ZOO = ROOT / "architectures"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```\s*$", re.S | re.M)


def _blocks():
    text = DOC.read_text()
    out = []
    for m in FENCE.finditer(text):
        info = m.group(1).split()
        if info and info[0] == "arch":
            line = text.count("\n", 0, m.start()) + 1
            after = FENCE.search(text, m.end())
            out.append((line, info[1:], m.group(2), after))
    return out


BLOCKS = _blocks()


def _run(code: str, line: int):
    return run(text=code, display=f"language.md:{line}", require_network=False,
               load=LoadOptions(search_path=(str(ZOO),)))


def _id(block) -> str:
    line, info, _, _ = block
    return f"line{line}" + ("-" + "-".join(info) if info else "")


@pytest.mark.parametrize("block", BLOCKS, ids=_id)
def test_example(block):
    line, info, code, after = block
    kind = info[0] if info else "ok"
    if kind == "fragment":
        from archdsl.diagnostics import Diagnostics

        diags = Diagnostics()
        wrapped = "block fragment {\n" + code + "\n}\n"
        assert parse_module(SourceFile("fragment", wrapped), diags) is not None, \
            [d.message for d in diags]
        return
    result = _run(code, line)
    codes = [d.code for d in result.diagnostics.items]
    if kind in ("error", "warning"):
        assert set(codes) == set(info[1:]) and codes, [(d.code, d.message)
                                                       for d in result.diagnostics.items]
        if kind == "warning":  # warnings only: the example still checks
            assert {d.severity for d in result.diagnostics.items} == {"warning"}
        return
    assert kind in ("ok", "names"), f"unknown fence info {info} at line {line}"
    assert not codes, [(d.code, d.span, d.message) for d in result.diagnostics.items]
    if kind == "names":
        assert after is not None and after.group(1).strip() == "text"
        expected = after.group(2).split()
        names = [data["name"] for nid, data in result.ir.nodes() if data["op"] != "input"]
        assert names == expected


def test_there_are_examples_of_each_kind():
    kinds = {(b[1][0] if b[1] else "ok") for b in BLOCKS}
    assert {"ok", "error", "names"} <= kinds
    assert len(BLOCKS) >= 25


def _table_rows() -> dict[str, str]:
    text = DOC.read_text()
    section = text.split("## Layer kinds", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            for kind in re.findall(r"`([a-z_0-9]+)`", first):
                rows[kind] = line
    return rows


def test_layer_table_lists_every_kind_and_argument():
    rows = _table_rows()
    for kind in ops.kinds():
        if kind == "input":
            continue
        assert kind in rows, f"docs/language.md: no row for `{kind}`"
        spec = ops.get(kind)
        for alias in spec.aliases:
            assert alias in rows, f"`{kind}` alias `{alias}` missing"
        for arg in spec.args:
            for name in (arg.name, *arg.aliases):
                assert f"`{name}`" in rows[kind], f"`{kind}` row lacks argument `{name}`"


def test_every_code_mentioned_exists():
    from archdsl.codes import CATALOGUE

    for code in set(re.findall(r"\b[EW]0\d{3}\b", DOC.read_text())):
        assert code in CATALOGUE, code


def test_readme_kind_table_lists_every_kind_and_alias():
    text = (DOC.parent.parent / "README.md").read_text()
    section = text.split("## Layer kinds", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([a-z_0-9]+)`", section))
    missing = sorted(set(ops.names()) - {"input"} - listed)
    assert not missing, f"README.md's kind table lacks {missing}"
