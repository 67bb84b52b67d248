"""Hostile text through `archdsl draw` (issue 11): a broken file whose name holds CR, LF,
quotes, backslashes (`\\N` is Graphviz's node-name escape, also inside HTML labels), markup,
entities and bidi controls is drawn with its error note. The DOT text holds printable
characters only, Graphviz reads back exactly the nodes and edges of the same file under a
harmless name, and the SVG shows the path as the terminal does, as text."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET

import pytest

from archdsl.escape import dot_html, visible
from tests.conftest import run_cli
from tests.graphviz.helpers import needs_dot

HOSTILE = 'e"\r\n<b>&amp;\\N\\l "\u202e\u2028\u2066 \'x\' ]; n9 [label=pwned]; {.arch'
TEXT = """block unit(w) {
    conv(w, 3x3, pad=1)
    relu
}

network n {
    input 3x8x8
    a: unit(4)
    b: { conv(4, 1x1); relu }
    c1: conv(4, 9x9)
    relu
}
"""


def _draw(folder, name: str) -> str:
    """DOT text of the file `name` in `folder`, drawn from there (so the note names it as it
    is, on one line of the note)."""
    folder.mkdir()
    (folder / name).write_text(TEXT)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        code, _, err = run_cli("draw", name, "-o", "x.dot")
    assert code == 1 and "partial diagram" in err, err  # drawn up to the failing layer
    return (folder / "x.dot").read_text()


def _graph(dot: str) -> tuple[list, list]:
    done = subprocess.run(["dot", "-Tjson0"], input=dot.encode(), capture_output=True,
                          check=True)
    g = json.loads(done.stdout)
    objects = [o["name"] for o in g["objects"]]
    edges = [(objects[e["tail"]], objects[e["head"]]) for e in g.get("edges", [])]
    return objects, edges


def test_the_dot_text_holds_printable_characters_only(tmp_path):
    dot = _draw(tmp_path / "evil", HOSTILE)
    assert all(ch == "\n" or ch.isprintable() for ch in dot)
    assert dot_html(HOSTILE) in dot  # the note's location line went through the one function


@needs_dot
def test_graphviz_reads_back_the_intended_graph(tmp_path):
    evil = _graph(_draw(tmp_path / "evil", HOSTILE))
    good = _graph(_draw(tmp_path / "good", "good.arch"))
    assert evil == good
    assert "note0" in evil[0] and "n9" not in evil[0]


@needs_dot
def test_the_svg_shows_the_path_as_text(tmp_path):
    dot = _draw(tmp_path / "evil", HOSTILE)
    svg = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True,
                         check=True).stdout
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    texts = ["".join(t.itertext()) for t in root.iter(f"{ns}text")]
    assert visible(HOSTILE) + ":10:9" in texts, texts
    tags = {el.tag.removeprefix(ns) for el in root.iter()}
    # `a` carries the tooltips (xlink:title); no link anywhere
    assert tags <= {"svg", "g", "a", "title", "polygon", "path", "text", "ellipse", "polyline"}
    assert not [el for el in root.iter() if any("href" in k for k in el.attrib)]


@pytest.mark.parametrize("name", ["n", "a_b", "none", "digraph", "node", "edge", "subgraph"])
def test_network_names_that_are_dot_keywords(tmp_path, name):
    (tmp_path / "k.arch").write_text(f"network {name} {{ input 4 relu }}\n")
    code, dot, err = run_cli("draw", str(tmp_path / "k.arch"), "--format", "dot")
    assert code == 0, err
    assert dot.startswith(f'digraph "{name}" {{')
