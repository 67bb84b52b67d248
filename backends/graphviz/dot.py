"""DOT text from a view (view.py): nodes with HTML-like labels, boxes for block instances,
edges labelled with shapes, a title with totals and a legend, notes for errors.

Pure text in, text out, and deterministic: everything is emitted in the IR's flow order and
ids come from node numbers, never from hashing.
"""

from __future__ import annotations

import textwrap
from itertools import pairwise

from ...escape import dot_str, visible
from ...ir import IR
from ...summary import human
from . import style
from .labels import count, esc, kind_text, local_name, shape_text, short_kind, span_name
from .options import DrawOptions
from .view import Unit, View, build

# The merges' circles: a glyph for each built-in merge (a custom one shows its kind)
GLYPHS = {"add": "+", "concat": "‖", "mul": "×", "sub": "−", "div": "÷", "max": "max",
          "min": "min"}

SMALL = '<font point-size="8" color="{c}">{t}</font>'


def quote(value: str) -> str:
    """A DOT value: an HTML-like label `<...>` as is (its text went through `esc`), anything
    else as a quoted string (archdsl/escape.py `dot_str`)."""
    if value.startswith("<") and value.endswith(">"):
        return value
    return dot_str(value)


def attr_list(attrs: dict) -> str:
    return "[" + ", ".join(f"{k}={quote(str(v))}" for k, v in attrs.items()) + "]"


def to_dot(ir: IR, opt: DrawOptions) -> str:
    return _Writer(ir, opt, build(ir, opt)).text()


class _Writer:
    def __init__(self, ir: IR, opt: DrawOptions, view: View):
        self.ir, self.opt, self.view = ir, opt, view
        self.lines: list[str] = []

    def text(self) -> str:
        opt = self.opt
        out = self.lines
        out.append(f"digraph {quote(self.ir.name)} {{")
        graph = dict(style.GRAPH, rankdir=opt.rankdir)
        if opt.title or opt.legend:
            graph["label"] = self._title()
        out.append(f"  graph {attr_list(graph)}")
        out.append(f"  node {attr_list(style.NODE)}")
        out.append(f"  edge {attr_list(style.EDGES)}")
        self._emit_scope(None, "  ")
        for edge in self.view.edges:
            attrs = {}
            if opt.shapes and edge.shape is not None:
                attrs["label"] = " " + shape_text(edge.shape)
            if edge.error:
                attrs.update(color=style.ERROR, fontcolor=style.ERROR, penwidth="2.2")
            out.append(f"  {edge.src} -> {edge.dst}" + (f" {attr_list(attrs)}" if attrs else ""))
        self._result()
        self._notes()
        out.append("}")
        return "\n".join(out) + "\n"

    # boxes, in the order of the flow -----------------------------------------------------
    def _emit_scope(self, path: str | None, indent: str) -> None:
        items: list[tuple[int, str, object]] = []
        for unit in self.view.units:
            if unit.cluster == path:
                items.append((unit.members[0] if unit.members else 1 << 60, "u", unit))
        for cl in self.view.clusters.values():
            if cl.parent == path:
                items.append((cl.first, "c", cl))
        for _, what, item in sorted(items, key=lambda t: (t[0], t[1])):
            if what == "u":
                self.lines.append(f"{indent}{item.uid} {attr_list(self._node(item))}")
                continue
            idx = list(self.view.clusters).index(item.path)
            block = item.kind != "group"
            name = local_name(item.path, path)
            label = f"<<b>{esc(name)}</b>" + (f" · {esc(item.kind)}" if block else "") + ">"
            attrs = dict(style.CLUSTER_BLOCK if block else style.CLUSTER_GROUP, label=label,
                         labeljust="l", fontsize="9", tooltip=item.path)
            self.lines.append(f"{indent}subgraph cluster_{idx} {{")
            self.lines.append(f"{indent}  graph {attr_list(attrs)}")
            self._emit_scope(item.path, indent + "  ")
            self.lines.append(f"{indent}}}")

    # nodes -------------------------------------------------------------------------------
    def _node(self, unit: Unit) -> dict:
        fill, border = style.colours(unit.family)
        attrs: dict = {}
        if unit.role == "merge":
            attrs = self._merge(unit)
        elif unit.op == "input":
            shape = shape_text(unit.out_shape)
            attrs = {"label": f"<<b>input</b><br/>{esc(shape)}>", "fillcolor": fill,
                     "color": border, "tooltip": f"input {shape}"}
        elif unit.role == "stub":
            way = "from" if unit.op == "in" else "to"
            attrs = {"label": f"<{way} <b>{esc(unit.name)}</b>>", "style": "rounded,dashed",
                     "color": style.MUTED, "fontcolor": style.MUTED, "fontsize": "9"}
        else:
            rows = self._block_rows(unit) if unit.role == "block" else self._layer_rows(unit)
            if unit.error:
                rows.append(f'<font color="{style.ERROR}"><b>shape error</b></font>')
            tip = unit.name if unit.repeat == 1 else f"{unit.name} … {unit.last_name}"
            attrs = {"label": "<" + "<br/>".join(rows) + ">", "fillcolor": fill,
                     "color": border, "tooltip": tip}
            if unit.role == "block" and unit.repeat > 1:
                # A stack of boxes for a folded run; extra margin keeps text off the 3-D edge.
                attrs.update(shape="box3d", style="filled", margin="0.16,0.09")
            if unit.role == "layer" and unit.family in style.LIGHT and len(rows) == 1:
                attrs.update(fontsize="9", height="0.22", margin="0.08,0.03")
        if unit.error:
            attrs.update(color=style.ERROR, penwidth="2.2")
        return attrs

    def _merge(self, unit: Unit) -> dict:
        # Small glyphs, not boxes: a branch point reads at a glance.
        glyph = GLYPHS.get(unit.op, unit.op)
        fill, border = style.colours("merge")
        return {"shape": "circle", "label": glyph, "fixedsize": "true", "width": "0.3",
                "fontsize": "14" if len(glyph) == 1 else "7", "style": "filled",
                "fillcolor": fill, "color": border,
                "tooltip": f"{unit.name} ({unit.op})"}

    def _show_name(self, unit: Unit, name: str) -> bool:
        # `layer1.0.0` is just the number nn.Sequential gives a relu, and `relu: relu` says
        # the same thing twice: neither is worth a line.
        last = name.rpartition(".")[2]
        if unit.role == "layer" and last == unit.op:
            return False
        return not last.isdigit() or unit.params > 0

    def _layer_rows(self, unit: Unit) -> list[str]:
        d = self.ir.node(unit.members[0])
        name = local_name(unit.name, unit.cluster)
        kind = kind_text(d["op"], d["args"])
        if unit.tail:
            kind += "".join(f" + {short_kind(op)}" for op in unit.tail)
        rows = []
        if unit.box is not None:
            path, box_kind = unit.box
            rows.append(f"<b>{esc(local_name(path, unit.cluster))}</b>"
                        + (f" · {esc(box_kind)}" if box_kind != "group" else ""))
        elif self._show_name(unit, name):
            rows.append(f"<b>{esc(name)}</b>")
        rows.append(esc(kind))
        if self.opt.params and unit.params:
            rows.append(SMALL.format(c=style.MUTED, t=f"{count(unit.params)} params"))
        return rows

    def _block_rows(self, unit: Unit) -> list[str]:
        name = unit.name if unit.repeat == 1 else span_name(unit.name, unit.last_name)
        kind = self._contents(unit) if unit.op == "group" else unit.op
        if unit.repeat > 1:
            kind = f"{kind} × {unit.repeat}"
        rows = [f"<b>{esc(name)}</b>", esc(kind)]
        inner = self._short_chain(unit)
        if inner:
            rows.append(esc(inner))
        if self.opt.params and unit.params:
            each = f" ({unit.repeat} × {count(unit.params // unit.repeat)})" \
                if unit.repeat > 1 else ""
            rows.append(SMALL.format(c=style.MUTED, t=f"{count(unit.params)} params{each}"))
        if self.opt.shapes:
            ins = list(dict.fromkeys(shape_text(s) for s in unit.in_shapes)) or ["?"]
            flow = f"{', '.join(ins)} → {shape_text(unit.out_shape)}"
            rows.append(SMALL.format(c=style.MUTED, t=esc(flow)))
        return rows

    def _short_chain(self, unit: Unit) -> str:
        """A small block (GoogLeNet's conv unit) told by its layers: `conv 64 · 1×1 + bn + relu`."""
        first = unit.members[: len(unit.members) // unit.repeat]
        if unit.op == "group" or not 1 <= len(first) <= 3:
            return ""
        if any(self.ir.inputs(b) != [a] for a, b in pairwise(first)):
            return ""
        head = self.ir.node(first[0])
        tail = [short_kind(self.ir.node(n)["op"]) for n in first[1:]]
        return " + ".join([kind_text(head["op"], head["args"]), *tail])

    def _contents(self, unit: Unit) -> str:
        """What a collapsed group holds: its blocks (`bottleneck × 4`) or its layers."""
        depth = unit.name.count(".") + 2
        seen: dict[str, str] = {}
        for nid in unit.members:
            for sc in self.ir.node(nid)["scopes"]:
                if sc.depth == depth and sc.path not in seen:
                    seen[sc.path] = sc.kind
        kinds = [k for k in seen.values()]
        if kinds and all(k != "group" for k in kinds):
            runs: list[list] = []
            for k in kinds:
                if runs and runs[-1][0] == k:
                    runs[-1][1] += 1
                else:
                    runs.append([k, 1])
            return ", ".join(k if n == 1 else f"{k} × {n}" for k, n in runs)
        ops = [short_kind(self.ir.node(n)["op"]) for n in unit.members]
        return " → ".join(ops) if len(ops) <= 3 else f"{len(ops)} layers"

    # title, legend, notes ----------------------------------------------------------------
    def _title(self) -> str:
        opt, ir = self.opt, self.ir
        rows = []
        if opt.title:
            name = ir.name + (f" › {opt.focus}" if opt.focus else "")
            rows.append(f'<font point-size="15"><b>{esc(name)}</b></font>')
            rows.append(esc(self._totals()))
            if self.view.failing:
                rows.append(f'<font color="{style.ERROR}">shape error: drawn up to the failing '
                            "layer (red)</font>")
        if opt.legend:
            legend = self._legend()
            if legend:
                rows.append(legend)
        cells = "".join(f'<tr><td align="center">{r}</td></tr>' for r in rows[:-1])
        cells += f'<tr><td align="center" cellpadding="6">{rows[-1]}</td></tr>' if rows else ""
        return f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="2">{cells}</table>>'

    def _totals(self) -> str:
        ir = self.ir
        members = [n for u in self.view.units for n in u.members]
        if self.opt.focus:
            params = sum(ir.node(n).get("params", 0) for n in members)
            macs = sum(ir.node(n).get("macs", 0) for n in members)
            head = []
        else:
            totals = ir.graph.graph.get("totals")
            params = totals.params if totals else 0
            macs = totals.macs if totals else 0
            head = [f"input {shape_text(ir.node(ir.input)['shape'])}"]
        more = " (up to the error)" if self.view.failing else ""
        return " · ".join([*head, f"{count(params)} parameters{more}", f"{human(macs)} MACs"])

    def _legend(self) -> str:
        """One line: a coloured square per layer family present, then the merge glyphs.

        Text rather than a nested table, which Graphviz would stretch to the title's width.
        """
        present = {u.family for u in self.view.units if u.role != "stub"}
        for u in self.view.units:
            if u.role == "chain":
                present |= {"norm" if op == "batchnorm" else "activation" for op in u.tail}
        items = [f'<font color="{border}">■</font> {family}'
                 for family, (_, border) in style.FAMILIES.items()
                 if family in present and family not in ("merge", "io")]
        glyph = {op: f"{g} {op}" if g != op else op for op, g in GLYPHS.items()}
        items += [f"<b>{esc(glyph.get(op, op))}</b>"
                  for op in sorted({u.op for u in self.view.units if u.role == "merge"})]
        if not items:
            return ""
        return '<font point-size="9">' + "    ".join(items) + "</font>"

    def _result(self) -> None:
        """A sink after each of the network's outputs, so each output's shape shows on an edge
        too (one `output`, or one per name of `return main, aux`)."""
        ir = self.ir
        if self.opt.focus or ir.output is None:
            return
        results = ir.results()
        for i, (name, nid) in enumerate(results):
            if ir.node(nid)["shape"] is None:
                continue
            unit = next((u for u in self.view.units if nid in u.members), None)
            if unit is None:
                continue
            fill, border = style.colours("io")
            text = "output" if len(results) == 1 else f"output {esc(name)}"
            sink = {"label": f"<<b>{text}</b>>", "fillcolor": fill, "color": border}
            uid = "result" if i == 0 else f"result{i}"
            self.lines.append(f"  {uid} {attr_list(sink)}")
            shape = shape_text(ir.node(nid)["shape"])
            attrs = {"label": " " + shape} if self.opt.shapes else {}
            self.lines.append(f"  {unit.uid} -> {uid}" + (f" {attr_list(attrs)}" if attrs
                                                           else ""))

    def _notes(self) -> None:
        """The failing layer's error message, as a note pinned next to it."""
        errors = [d for d in self.opt.diagnostics if getattr(d, "severity", "") == "error"]
        used: set[int] = set()
        for i, unit in enumerate(self.view.failing):
            diag = self._diagnostic_for(unit, errors, used)
            if diag is None:
                lines = [f"error: the shape check failed at `{unit.name}`"]
            else:
                lines = [diag.span.location()] if diag.span is not None else []
                lines.append(f"error[{diag.code}]: {diag.message}")
                lines += [f"note: {n}" for n in diag.notes]
                if diag.help:
                    lines.append(f"help: {diag.help}")
            # Escaped before wrapping: textwrap would turn a CR or LF in a path into a space.
            body = "".join(esc(part) + '<br align="left"/>'
                           for line in lines for part in textwrap.wrap(
                               visible(line), 80, subsequent_indent="    ",
                               break_on_hyphens=False))
            attrs = {"label": f"<{body}>", "shape": "note", "style": "filled",
                     "fillcolor": "#fff5f5", "color": style.ERROR, "fontcolor": "#5c0a0a",
                     "fontsize": "9", "margin": "0.12,0.08"}
            self.lines.append(f"  note{i} {attr_list(attrs)}")
            self.lines.append(f"  {unit.uid} -> note{i} "
                              + attr_list({"style": "dashed", "color": style.ERROR,
                                           "arrowhead": "none"}))

    def _diagnostic_for(self, unit: Unit, errors: list, used: set[int]):
        """The diagnostic whose span lies in the failing layer's span; else the first unused."""
        spans = [self.ir.node(n)["span"] for n in unit.members
                 if self.ir.node(n).get("error")]
        for j, diag in enumerate(errors):
            s = diag.span
            if j in used or s is None:
                continue
            if any(sp.path == s.path and sp.start <= s.start < max(sp.end, sp.start + 1)
                   for sp in spans):
                used.add(j)
                return diag
        for j, diag in enumerate(errors):
            if j not in used:
                used.add(j)
                return diag
        return None

