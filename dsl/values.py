"""Run-time values of elaboration: tensors flowing between layers, dims, and the poison
value that stands for "unknown because of an earlier error" (so one mistake is reported once)."""

from __future__ import annotations

from dataclasses import dataclass

from .source import Span


class _Poison:
    """Unknown because of an earlier error; every operation on it yields it again, silently."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        return False


POISON = _Poison()


class Dims(tuple):
    """A literal like `5x5` or `3x224x224`."""

    def __str__(self) -> str:
        return "x".join(str(d) for d in self)


@dataclass(frozen=True)
class Tensor:
    """The output of an IR node, as seen by the language: `in`, `x` in `x = conv(...)`."""

    node: int
    shape: tuple[int, ...] | None  # None when unknown because of an earlier error
    name: str
    span: Span

    @property
    def known(self) -> bool:
        return self.shape is not None


def fmt_shape(shape) -> str:
    """`64x56x56`, the way the lecture writes a volume (channels first, batch left out)."""
    if shape is None:
        return "?"
    return "x".join(str(d) for d in shape) if len(shape) else "scalar"


def fmt_bytes(n: int) -> str:
    """`37.3 GiB`: a size in bytes, in binary units, as the memory messages give it."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,} bytes"


SHOWN_ITEMS = 8  # elements of a list or tuple a message shows; the rest is `...`
SHOWN_CHARS = 60  # characters of a string a message shows


def describe_value(v) -> str:
    """A value as messages show it. Bounded whatever the value: a list of 200,000 numbers,
    described once per copy of a failing repetition, must not cost a megabyte each time."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Tensor):
        return f"a tensor {fmt_shape(v.shape)}"
    if isinstance(v, Dims):
        return _items(v, "", "", "x") if len(v) > SHOWN_ITEMS else str(v)
    if isinstance(v, tuple):
        return _items(v, "(", ")", ", ")
    if isinstance(v, list):
        return _items(v, "[", "]", ", ")
    if isinstance(v, str):
        if len(v) > SHOWN_CHARS:
            v = v[:SHOWN_CHARS - 3] + "..."
        return f'"{v}"'
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, int) and v.bit_length() > 1000:  # Python prints at most 4,300 digits
        return f"a {int(v.bit_length() * 0.30103) + 1:,}-digit integer"
    return str(v)


def _items(v, open_: str, close: str, sep: str) -> str:
    shown = [describe_value(x) for x in v[:SHOWN_ITEMS]]
    if len(v) > SHOWN_ITEMS:
        shown.append(f"... {len(v) - SHOWN_ITEMS:,} more")
    return open_ + sep.join(shown) + close


def type_name(v) -> str:
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, Tensor):
        return "a tensor"
    if isinstance(v, Dims):
        return "a size"
    if isinstance(v, tuple):
        return "a tuple"
    if isinstance(v, list):
        return "a list"
    return type(v).__name__
