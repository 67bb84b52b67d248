"""The network's input: a node with no inputs whose shape is the `input` statement's."""

from __future__ import annotations

from ..argspec import ANY, ArgSpec
from .registry import OpSpec, register

INPUT = register(OpSpec(
    "input", "io", args=(ArgSpec("shape", ANY),), arity=(0, 0),
    shape=lambda a, ins: tuple(a["shape"]),
    describe=lambda a: "input",
    doc="One sample's shape, batch left out: `input 3x224x224`.",
))
