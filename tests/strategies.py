"""Hypothesis strategies over the generator of valid programs (tests/fuzz/programs.py).

`architectures()` draws a whole program with hypothesis making every choice, so a failing
program is shrunk to a small one. The generator itself, its size arithmetic (`conv_size`,
`pool_size`, `down`) and its vocabulary live in tests/fuzz/programs.py, shared with the
seeded runner `python -m tests.fuzz.valid`.
"""

from __future__ import annotations

from hypothesis import strategies as st

from tests.fuzz.programs import (  # noqa: F401  (re-exported for the tests)
    ACTIVATIONS,
    MAX_CH,
    MAX_ELEMS,
    Arch,
    conv_size,
    down,
    generate,
    pool_size,
)


class DrawChoices:
    """The generator's choices drawn by hypothesis."""

    def __init__(self, draw):
        self.draw = draw

    def int(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def pick(self, options):
        return self.draw(st.sampled_from(list(options)))


@st.composite
def architectures(draw, max_items: int = 7) -> Arch:
    """A random valid `.arch` file (see `tests.fuzz.programs.generate`)."""
    return generate(DrawChoices(draw), max_items)
