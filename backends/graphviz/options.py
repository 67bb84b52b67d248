"""What a diagram shows: the options of `archdsl draw`, `net.draw(...)` and `to_dot(...)`."""

from __future__ import annotations

from dataclasses import dataclass, field

RANKDIRS = ("TB", "LR", "BT", "RL")


@dataclass(frozen=True)
class DrawOptions:
    """Every knob of the diagram, with the defaults the CLI uses.

    - `depth`: collapse each block or named group at this nesting depth (1 = top level) into
      one node; None draws every layer, each block instance as a box around its layers.
    - `merge_chains`: draw conv/linear -> batchnorm -> activation as one node.
    - `focus`: draw only the layers inside this scope (e.g. `inception3a`), with stubs for
      what flows in and out.
    - `diagnostics`: the run's diagnostics; an error's message becomes a note on the drawing.
    """

    depth: int | None = None
    rankdir: str = "TB"
    shapes: bool = True
    params: bool = True
    merge_chains: bool = False
    title: bool = True
    legend: bool = True
    focus: str | None = None
    diagnostics: tuple = field(default=(), compare=False)

    def __post_init__(self):
        if self.depth is not None and self.depth < 1:
            raise ValueError(f"depth must be 1 or more, got {self.depth}")
        if self.rankdir not in RANKDIRS:
            raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {self.rankdir!r}")
        object.__setattr__(self, "diagnostics", tuple(self.diagnostics))


def options(**kw) -> DrawOptions:
    """`DrawOptions` from keyword arguments, with a clear error for a misspelt one."""
    known = DrawOptions.__dataclass_fields__
    unknown = sorted(set(kw) - set(known))
    if unknown:
        raise TypeError(f"unknown drawing option(s): {', '.join(unknown)}; "
                        f"known: {', '.join(known)}")
    return DrawOptions(**kw)
