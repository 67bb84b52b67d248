"""Graphviz diagrams of a network: pure DOT text generation and a thin render step.

>>> import archdsl
>>> from archdsl.backends.graphviz import to_dot
>>> to_dot(archdsl.zoo("lenet5").ir).startswith('digraph "lenet5"')
True

`to_dot(ir, **options)` is text in, text out (see `DrawOptions` for the options);
`draw(ir, path, **options)` writes `.dot`, `.svg`, `.png` or `.pdf` (the last three run
Graphviz's `dot`); `svg_or_none(ir)` is what Jupyter shows.
"""

from __future__ import annotations

from ...fileio import write_atomic
from ...ir import IR
from .dot import to_dot as _to_dot
from .options import DrawOptions, options
from .render import FORMATS, DotNotFound, RenderFailed, format_of, render

__all__ = ["FORMATS", "DotNotFound", "DrawOptions", "RenderFailed", "draw", "format_of",
           "render", "svg_or_none", "to_dot"]


def to_dot(ir: IR, **kw) -> str:
    """The diagram as DOT text. Options: depth, rankdir, shapes, params, merge_chains,
    title, legend, focus, diagnostics (see `DrawOptions`)."""
    return _to_dot(ir, options(**kw))


def draw(ir: IR, path: str, *, format: str | None = None, **kw) -> str:
    """Write the diagram to `path` (format from `format` or the extension); returns `path`.

    Raises `DotNotFound` (with install instructions) for svg/png/pdf when `dot` is missing.
    """
    fmt = format_of(path, format)
    data = render(to_dot(ir, **kw), fmt)
    write_atomic(path, data.decode("utf-8") if fmt == "dot" else data)
    return path


def svg_or_none(ir: IR, **kw) -> str | None:
    """The diagram as SVG text, or None when `dot` is missing (Jupyter then shows the repr)."""
    try:
        return render(to_dot(ir, **kw), "svg").decode("utf-8")
    except (DotNotFound, RenderFailed):
        return None
