"""The look: one colour per layer family (soft fills, so black text stays legible), fonts,
and the Graphviz attributes every drawing starts from."""

from __future__ import annotations

FONT = "Helvetica"  # fontconfig maps it to Liberation Sans / Arial: metrics stay stable

# family -> (fill, border). The legend lists them in this order.
FAMILIES: dict[str, tuple[str, str]] = {
    "conv": ("#cfe2ff", "#3d6fb6"),
    "pool": ("#d3f0dc", "#3c8c58"),
    "linear": ("#e6dcf7", "#7553b5"),
    "norm": ("#fff1c2", "#b38b00"),
    "activation": ("#ffe3d1", "#c7672d"),
    "dropout": ("#eeeeee", "#888888"),
    "reshape": ("#f1f3f5", "#888888"),
    "merge": ("#ffffff", "#333333"),
    "block": ("#f7ecdc", "#9a6a2f"),
    "io": ("#ffffff", "#555555"),
}

ERROR = "#d62728"
EDGE = "#59606b"
MUTED = "#59606b"

GRAPH = {
    "fontname": FONT, "fontsize": "10", "nodesep": "0.3", "ranksep": "0.32",
    "newrank": "true", "labelloc": "t", "labeljust": "c", "bgcolor": "white",
    "pad": "0.2",
}
NODE = {
    "shape": "box", "style": "rounded,filled", "fontname": FONT, "fontsize": "10",
    "margin": "0.12,0.05", "penwidth": "1", "height": "0.3",
}
EDGES = {
    "fontname": FONT, "fontsize": "8", "fontcolor": MUTED, "color": EDGE, "arrowsize": "0.6",
    "penwidth": "0.9",
}
CLUSTER_BLOCK = {"style": "rounded", "color": "#9a6a2f", "penwidth": "1"}
CLUSTER_GROUP = {"style": "rounded,dashed", "color": "#8a8f98", "penwidth": "1"}

# Layers that are just a word (relu, flatten) are drawn smaller than the ones with weights.
LIGHT = ("activation", "dropout", "reshape")


def colours(family: str) -> tuple[str, str]:
    return FAMILIES.get(family, FAMILIES["reshape"])
