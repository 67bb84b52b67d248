"""Text on the drawing: kinds with K/F/S/P, shapes, counts, and escaping for HTML labels."""

from __future__ import annotations

import re

from ...escape import dot_html
from ...ops import get as get_op

_TIMES = re.compile(r"(?<=\d)x(?=\d)")


def esc(text: str) -> str:
    """Escape text for a Graphviz HTML-like label (archdsl/escape.py `dot_html`)."""
    return dot_html(text)


def shape_text(shape) -> str:
    """`64×56×56` (channels first, batch left out); `?` when unknown."""
    if shape is None:
        return "?"
    return "×".join(map(str, shape)) if len(shape) else "scalar"


def count(n: int) -> str:
    return f"{n:,}"


def kind_text(op: str, args: dict) -> str:
    """The registry's label, dressed for reading: `conv 64 · 7×7 /2 p3`.

    The defaults stride 1 and padding 0 are left out (`conv 6 · 5×5`), as the lecture writes
    them; the filter count is set apart from the window by a dot.
    """
    try:
        label = get_op(op).label(args)
    except (KeyError, TypeError, IndexError):  # args unresolved after an error
        label = op
    words = [w for w in label.split(" ") if w not in ("/1", "p0")]
    if len(words) > 2 and words[1].isdigit():
        words = [words[0], words[1], "·", *words[2:]]
    return _TIMES.sub("×", " ".join(words))


def short_kind(op: str) -> str:
    """The few words used inside a merged chain: `bn`, `relu`."""
    return {"batchnorm": "bn"}.get(op, op)


def local_name(name: str, cluster: str | None) -> str:
    """A layer's name inside the box drawn for `cluster` (`layer1.0.conv1` -> `conv1`)."""
    if cluster and name.startswith(cluster + "."):
        return name[len(cluster) + 1:]
    return name


def span_name(first: str, last: str) -> str:
    """`layer2.1–3` for the folded run `layer2.1` ... `layer2.3`."""
    a, _, a_tail = first.rpartition(".")
    b, _, b_tail = last.rpartition(".")
    if a == b and a_tail.isdigit() and b_tail.isdigit():
        return f"{first}–{b_tail}"
    return f"{first} … {last}"
