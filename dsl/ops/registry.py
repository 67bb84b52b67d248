"""The op registry: every layer kind is declared once, here and in its sibling modules.

A declaration names the kind's arguments (with types and defaults), how it normalises them
once the input's rank is known, its shape rule, its parameter count and its MAC count.
Backends look a kind up by name and keep their own table of lowerings; nothing outside this
package switches on the kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..argspec import TENSOR, ArgSpec

Shape = tuple[int, ...]


class ShapeProblem(Exception):
    """A shape rule failed. The elaborator adds where the input came from.

    `message` is the headline; `notes` carry the arithmetic (formula with numbers, result);
    `inputs` maps an input position to a remark drawn under that input's source.
    """

    def __init__(self, message: str, *, notes: list[str] | None = None, help: str | None = None,
                 label: str = "", inputs: dict[int, str] | None = None, code: str = "E0301"):
        super().__init__(message)
        self.message = message
        self.notes = notes or []
        self.help = help
        self.label = label
        self.inputs = inputs or {}
        self.code = code


def dim_range(rank: int) -> str:
    """The note under an out-of-range `dim`: which dimensions exist."""
    if rank == 1:
        return "a vector (batch left out) has only dim 0 (or -1)"
    return f"a {rank}-dimensional input (batch left out) has dims 0 to {rank - 1} (or -{rank} " \
           "to -1)"


def check_dim(kind: str, d: int, shape, what: str = "dim") -> int:
    """`d` (batch left out, negative from the end) made non-negative; E0309 when out of
    range."""
    rank = len(shape)
    if not -rank <= d < rank:
        from ..values import fmt_shape

        raise ShapeProblem(f"{kind} {what}={d} is out of range for its {fmt_shape(shape)} input",
                           code="E0309", notes=[dim_range(rank)],
                           help="dimensions count from 0 = channels (the batch is left out)")
    return d % rank


@dataclass(frozen=True)
class Counts:
    """What a layer holds: weights and biases (parameters) and buffers (running stats)."""

    weights: int = 0
    biases: int = 0
    buffers: int = 0
    frozen: int = 0  # parameters that are not trained (a literal kernel)

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def trainable(self) -> int:
        return self.params - self.frozen


NO_COUNTS = Counts()


def _same(args, ins):
    return ins[0]


def _no_counts(args, ins, out):
    return NO_COUNTS


def _no_macs(args, ins, out):
    return 0


def _resolve_identity(args, ins):
    return args


@dataclass(frozen=True)
class OpSpec:
    kind: str
    family: str  # conv, pool, linear, norm, activation, dropout, merge, reshape, io
    args: tuple[ArgSpec, ...] = ()
    shape: Callable[[dict, list[Shape]], Shape] = _same
    resolve: Callable[[dict, list[Shape]], dict] = _resolve_identity
    counts: Callable[[dict, list[Shape], Shape], Counts] = _no_counts
    macs: Callable[[dict, list[Shape], Shape], int] = _no_macs
    describe: Callable[[dict], str] | None = None
    validate: Callable[[dict], None] | None = None  # cross-argument checks, before any shape
    arity: tuple[int, int | None] = (1, 1)  # min, max inputs (None: unbounded)
    doc: str = ""
    aliases: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    def label(self, args: dict) -> str:
        """Kind with its K/F/S/P, e.g. `conv 64 7x7 /2 p3`."""
        return self.describe(args) if self.describe else self.kind


def takes_values(spec: OpSpec) -> bool:
    """Whether a kind is called with the values it merges as its arguments (`mul(x, s)`,
    `concat(a, b)`): it takes more than one input, and none through a tensor argument (a kind
    with `like=skip` takes the pipeline's value as its first input, the argument's as the next).
    """
    hi = spec.arity[1]
    return (hi is None or hi > 1) and not tensor_args(spec)


def tensor_args(spec: OpSpec) -> tuple[str, ...]:
    """The arguments of `spec` whose values are tensors: each becomes an input of the node
    (after the pipeline's), and the argument holds that input's position."""
    return tuple(a.name for a in spec.args if a.type is TENSOR)


# Layout: whether a layer's output is a channels-first feature map (CxHxW as a conv makes it),
# which tells a `linear` after it that `flatten` was forgotten, from a tensor that was made
# channels-last on purpose (`permute`), to which linear applies over the last dimension as
# torch does. "map": makes one (conv, pool, and the network's input of rank 2 or more);
# "keep": is one when an input is (element-wise layers, merges); "free": is not (reshapes,
# linear). A kind says so in `extra["layout"]`, or its family does.
FAMILY_LAYOUT = {"conv": "map", "pool": "map", "activation": "keep", "norm": "keep",
                 "dropout": "keep", "merge": "keep"}


def makes_map(spec: OpSpec, shape, input_maps) -> bool:
    """Is the output of this layer (`spec`, output `shape`) a channels-first feature map?"""
    if spec.kind == "input":
        return shape is not None and len(shape) >= 2
    layout = spec.extra.get("layout") or FAMILY_LAYOUT.get(spec.family, "free")
    if layout == "map":
        return True
    return layout == "keep" and any(input_maps)


_REGISTRY: dict[str, OpSpec] = {}
_ALIASES: dict[str, str] = {}


def register(spec: OpSpec, *, replace: bool = False) -> OpSpec:
    """Add a layer kind. Custom layers come in through here, never through a `.arch` file."""
    if spec.kind in _REGISTRY and not replace:
        raise ValueError(f"op `{spec.kind}` is already registered")
    _REGISTRY[spec.kind] = spec
    for alias in spec.aliases:
        _ALIASES[alias] = spec.kind
    return spec


def unregister(kind: str) -> None:
    """Remove a custom layer kind (and its aliases); for tests and plugins that clean up."""
    spec = _REGISTRY.pop(kind, None)
    for alias in spec.aliases if spec else ():
        _ALIASES.pop(alias, None)


def lookup(kind: str) -> OpSpec | None:
    return _REGISTRY.get(kind) or _REGISTRY.get(_ALIASES.get(kind, ""))


def get(kind: str) -> OpSpec:
    spec = lookup(kind)
    if spec is None:
        raise KeyError(kind)
    return spec


def kinds() -> list[str]:
    return sorted(_REGISTRY)


def names() -> list[str]:
    """Kinds and aliases: every word that names a layer."""
    return sorted(set(_REGISTRY) | set(_ALIASES))
