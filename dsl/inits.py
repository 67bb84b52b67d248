"""Initialisation rules a file can state: `init conv.weight = kaiming_normal(mode="fan_out")`.

The front end checks names and arguments here; the torch backend carries them out. A rule
written in a block applies to the layers of every instance of that block; a later or
more deeply nested rule wins over an earlier or outer one.
"""

from __future__ import annotations

from dataclasses import dataclass

from .argspec import FLOAT, NONNEG_FLOAT, ArgSpec, choice
from .source import Span

_MODE = ArgSpec("mode", choice("fan_in", "fan_out"), "fan_in")
_NONLIN = ArgSpec("nonlinearity", choice("relu", "leaky_relu", "linear", "tanh", "sigmoid"),
                  "leaky_relu")

INIT_FUNCTIONS: dict[str, tuple[ArgSpec, ...]] = {
    "kaiming_normal": (_MODE, _NONLIN, ArgSpec("a", FLOAT, 0.0)),
    "kaiming_uniform": (_MODE, _NONLIN, ArgSpec("a", FLOAT, 0.0)),
    "xavier_normal": (ArgSpec("gain", FLOAT, 1.0, positional=True),),
    "xavier_uniform": (ArgSpec("gain", FLOAT, 1.0, positional=True),),
    "normal": (ArgSpec("mean", FLOAT, 0.0), ArgSpec("std", NONNEG_FLOAT, 1.0, positional=True)),
    "uniform": (ArgSpec("a", FLOAT, 0.0, positional=True), ArgSpec("b", FLOAT, 1.0,
                                                                    positional=True)),
    "trunc_normal": (ArgSpec("mean", FLOAT, 0.0), ArgSpec("std", NONNEG_FLOAT, 1.0,
                                                          positional=True),
                     ArgSpec("a", FLOAT, -2.0), ArgSpec("b", FLOAT, 2.0)),
    "constant": (ArgSpec("value", FLOAT, positional=True),),
    "zeros": (),
    "ones": (),
    "default": (),
}

PARAM_NAMES = ("weight", "bias")


@dataclass(frozen=True)
class InitRule:
    """One `init` statement, evaluated: which layers, which parameter, which function."""

    target: tuple[str, ...]  # ("conv", "weight") or ("bn3", "weight")
    func: str
    args: tuple[tuple[str, object], ...]
    span: Span
    base: tuple[str, ...]  # the path of the block or network that states it

    @property
    def param(self) -> str:
        return self.target[1] if len(self.target) > 1 else "weight"

    def matches(self, op: str, path: tuple[str, ...]) -> bool:
        head = self.target[0]
        if head == op:
            return path[: len(self.base)] == self.base
        rel = path[len(self.base):] if path[: len(self.base)] == self.base else None
        return bool(rel) and rel[0] == head
