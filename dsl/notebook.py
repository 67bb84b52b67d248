"""How a network looks in Jupyter: its summary table and its diagram, at a depth that fits.

`Network._repr_html_` is `network_html`; `Network.show(depth=...)` returns a `Diagram`,
which Jupyter draws (SVG, when Graphviz's `dot` is installed; otherwise a note saying how to
install it, with the DOT text). Everything shown is escaped: names come from the file.
"""

from __future__ import annotations

import html

from .ir import IR
from .summary import HEADERS, _cells, _rows, _totals_lines, sensible_depth

RIGHT = {3, 4, 5, 6}  # the numeric columns, as in the text table


def summary_html(ir: IR, depth: int | None) -> str:
    """The summary as an HTML table with its totals."""
    esc = html.escape
    head = "".join(f'<th style="text-align:{"right" if i in RIGHT else "left"}">{esc(h)}</th>'
                   for i, h in enumerate(HEADERS))
    body = []
    for row in _rows(ir, depth):
        cells = _cells(row)
        tds = "".join(f'<td style="text-align:{"right" if i in RIGHT else "left"}">'
                      f"{esc(c)}</td>" for i, c in enumerate(cells))
        style = ' style="color:#b00020"' if row["error"] else ""
        body.append(f"<tr{style}>{tds}</tr>")
    totals = ir.attrs.get("totals")
    foot = ""
    if totals is not None:
        foot = "<ul>" + "".join(f"<li>{esc(k)}: {esc(v)}</li>"
                                for k, v in _totals_lines(totals)) + "</ul>"
    shown = "every layer" if depth is None else f"depth {depth}"
    return (f"<div><b>{esc(ir.name)}</b> <small>({esc(shown)})</small>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"{foot}</div>")


class Diagram:
    """A network's diagram for a notebook: `dot` is the DOT text, `svg()` the picture
    (None without Graphviz). Jupyter shows the SVG, or the DOT text with a note."""

    def __init__(self, dot: str):
        self.dot = dot

    def svg(self) -> str | None:
        from .backends.graphviz import DotNotFound, RenderFailed, render

        try:
            return render(self.dot, "svg").decode("utf-8")
        except (DotNotFound, RenderFailed):
            return None

    def _repr_svg_(self) -> str | None:
        return self.svg()

    def _repr_html_(self) -> str:
        svg = self.svg()
        if svg is not None:  # inline: without the XML prolog and DOCTYPE of a file
            start = svg.find("<svg")
            return svg[start:] if start >= 0 else svg
        from .backends.graphviz.render import install_hint

        return (f"<p><i>{html.escape(install_hint())}</i></p>"
                f"<pre>{html.escape(self.dot)}</pre>")

    def __repr__(self) -> str:
        return f"<Diagram: {len(self.dot):,} characters of DOT; .svg() draws it>"


def network_html(net, limit: int = 40) -> str:
    """The summary table and the diagram at the depth where the table has about `limit`
    rows (`summary.sensible_depth`): ResNet-50 at depth 2 (its bottlenecks), LeNet-5 whole."""
    depth = sensible_depth(net.ir, limit)
    diagram = Diagram(net.to_dot(depth=depth, diagnostics=net.diagnostics))
    return summary_html(net.ir, depth) + diagram._repr_html_()
