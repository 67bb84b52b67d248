"""Inlay hints: the output shape at the end of each line that makes layers, like the zoo's
`# -> 64x112x112` comments, but computed. A line inside a block shows the shapes of its
instances (`-> 256x56x56 | 512x28x28 | ...`); a block call shows what leaves the block."""

from __future__ import annotations

from lsprotocol import types as lsp

from ..values import fmt_shape
from .nodes import analyses_for
from .workspace import Workspace

MAX_SHAPES = 3  # distinct shapes shown on one line before "..."


def inlay_hints(ws: Workspace, uri: str, rng: lsp.Range | None = None) -> list[lsp.InlayHint]:
    view = ws.view(uri)
    if view is None:
        return []
    doc = view.doc
    lines = ws.pos.lines(doc.text)
    first, last = (rng.start.line, rng.end.line) if rng is not None else (0, len(lines) - 1)
    # line -> instance key -> (node id, shape): per instance, the last node ending on the line
    found: dict[int, dict[tuple, tuple[int, object]]] = {}
    for a, path in analyses_for(ws, view):
        ir = a.ir
        if ir is None:
            continue
        for nid in a.nodes_in(path):
            data = ir.node(nid)
            if data["op"] == "input" or data["shape"] is None:
                continue
            _note(found, view, lines, first, last, data["span"], (id(a), _instance(data)),
                  nid, data["shape"])
        for call in a.calls_in(path):
            last_node = ir.node(call.last)
            if last_node["shape"] is not None:
                outer = tuple(p for p in _instance(last_node) if p != call.path
                              and not p.startswith(call.path + "."))
                _note(found, view, lines, first, last, call.span, (id(a), outer), call.last,
                      last_node["shape"])
    out = []
    for line in sorted(found):
        shapes: list[str] = []
        for _nid, shape in sorted(found[line].values(), key=lambda v: v[0]):
            shown = fmt_shape(shape)
            if shown not in shapes:
                shapes.append(shown)
        label = "-> " + " | ".join(shapes[:MAX_SHAPES]) + (" | ..." if len(shapes) >
                                                           MAX_SHAPES else "")
        end = lines.ends[line]
        out.append(lsp.InlayHint(position=ws.pos.position(doc.text, end), label=label,
                                 kind=lsp.InlayHintKind.Type, padding_left=True))
    return out


def _instance(data: dict) -> tuple:
    """Which block instance a node belongs to: the paths of its enclosing block calls."""
    return tuple(sc.path for sc in data["scopes"] if sc.kind != "group")


def _note(found, view, lines, first, last, span, instance, nid, shape) -> None:
    mapped = view.doc_span(span)
    if mapped is None:
        return
    line = lines.line_of(mapped[1])
    if not first <= line <= last:
        return
    per = found.setdefault(line, {})
    have = per.get(instance)
    if have is None or nid > have[0]:
        per[instance] = (nid, shape)
