"""The functions an expression can call: numbers (`min`, `max`, `abs`, `round`, `floor`, `ceil`,
`int`, `float`) and lists (`len`, `sum`, `range`, `enumerate`, `zip`).

Each means what Python's function of that name means, so a table or a width rule copied from
torch code gives the same numbers: `round` rounds half to even and gives an integer, `int`
rounds towards zero, `floor` and `ceil` give integers. Only the kinds of values the language
has are taken (numbers, sizes, strings, lists and tuples; never a tensor). A function that
makes a list charges the work budget for each element first, and `range` is held to the
longest repetition (`--max-repeat`): `range(10**12)` is an error at the call, not a hang.

A function reports a mistake by raising `Problem`; the evaluator places it (dsl/evaluate.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .values import Dims, Tensor, describe_value, type_name


class Problem(Exception):
    """A mistake in a call: `at` is the index of the argument to point at (None: the call)."""

    def __init__(self, code: str, message: str, at: int | None = None, help: str | None = None,
                 label: str = ""):
        super().__init__(message)
        self.code, self.message, self.at, self.help, self.label = code, message, at, help, label


@dataclass
class Context:
    """What a function may need from the run: the largest integer, the longest list a function
    may make, and the work budget's `charge(kind, n)`."""

    max_int: int
    max_list: int
    charge: Callable[[str, int], None]


def is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_sequence(v) -> bool:
    """A list, a tuple or a size: what a loop goes over and an index reads."""
    return isinstance(v, (list, tuple))


def need_int(v, at: int | None, what: str) -> int:
    """`v` when it is an integer, else E0243 (`2.0` is not one: write `int(x)`)."""
    if is_int(v):
        return v
    raise Problem("E0243", f"{what} is an integer, found {type_name(v)} `{describe_value(v)}`",
                  at, help="make one with `int(x)`, `round(x)`, `floor(x)` or `ceil(x)`"
                  if is_num(v) else None)


def _number(name: str, v, at: int) -> None:
    if not is_num(v):
        raise Problem("E0214", f"`{name}` needs a number, found {type_name(v)} "
                      f"`{describe_value(v)}`", at)


def _sequence(name: str, v, at: int | None) -> None:
    if not is_sequence(v):
        raise Problem("E0240", f"`{name}` needs a list, found {type_name(v)} "
                      f"`{describe_value(v)}`", at,
                      help="lists are written `[1, 2, 3]`, tuples `(1, 2)`; `range(n)` makes one"
                      if not isinstance(v, Tensor) else "a tensor's sizes are `x.shape`")


def _arity(name: str, vals: list, lo: int, hi: int) -> None:
    if not lo <= len(vals) <= hi:
        want = f"{lo}" if lo == hi else f"{lo} to {hi}"
        raise Problem("E0214", f"`{name}` takes {want} argument{'s' if hi != 1 else ''}, "
                      f"found {len(vals)}", None)


def _checked_int(v: int, ctx: Context, at: int | None) -> int:
    if abs(v) > ctx.max_int:
        raise Problem("E0507", f"integer result {describe_value(v)} is too large (limit "
                      f"{ctx.max_int})", at)
    return v


def _extreme(name: str, vals: list, ctx: Context):
    """`min(a, b, ...)` or `min(list)`, as Python's."""
    items, single = vals, len(vals) == 1 and is_sequence(vals[0])
    if single:
        items = vals[0]
        ctx.charge("expression", len(items))
    if not items:
        raise Problem("E0214", f"`{name}` of an empty list", 0 if single else None)
    for i, v in enumerate(items):
        if not is_num(v):
            raise Problem("E0214", f"`{name}` needs numbers, found {type_name(v)} "
                          f"`{describe_value(v)}`", 0 if single else i)
    return min(items) if name == "min" else max(items)


def _abs(vals, ctx):
    _arity("abs", vals, 1, 1)
    _number("abs", vals[0], 0)
    return abs(vals[0])


def _rounding(name: str, fn):
    def apply(vals, ctx):
        _arity(name, vals, 1, 1)
        _number(name, vals[0], 0)
        return _checked_int(fn(vals[0]), ctx, 0)
    return apply


def _round(vals, ctx):
    """Python's `round`: half to even (`round(2.5)` is 2), an integer without `ndigits`."""
    _arity("round", vals, 1, 2)
    _number("round", vals[0], 0)
    if len(vals) == 1:
        return _checked_int(round(vals[0]), ctx, 0)
    digits = need_int(vals[1], 1, "the digits of `round`")
    if abs(digits) > 64:
        raise Problem("E0507", f"{digits} digits are too many", 1)
    return round(vals[0], digits)


def _float(vals, ctx):
    _arity("float", vals, 1, 1)
    _number("float", vals[0], 0)
    return float(vals[0])


def _len(vals, ctx):
    _arity("len", vals, 1, 1)
    if isinstance(vals[0], str):
        return len(vals[0])
    _sequence("len", vals[0], 0)
    return len(vals[0])


def _sum(vals, ctx):
    _arity("sum", vals, 1, 1)
    _sequence("sum", vals[0], 0)
    ctx.charge("expression", len(vals[0]))
    for v in vals[0]:
        if not is_num(v):
            raise Problem("E0214", f"`sum` adds numbers, found {type_name(v)} "
                          f"`{describe_value(v)}`", 0)
    out = sum(vals[0])
    if isinstance(out, float) and not math.isfinite(out):
        raise Problem("E0507", "the sum is too large", 0)
    return _checked_int(out, ctx, 0) if is_int(out) else out


def _range(vals, ctx):
    """`range(stop)`, `range(start, stop)`, `range(start, stop, step)`: a list of integers."""
    _arity("range", vals, 1, 3)
    bounds = [need_int(v, i, "an argument of `range`") for i, v in enumerate(vals)]
    if len(bounds) == 3 and bounds[2] == 0:
        raise Problem("E0214", "`range` with a step of 0", 2, help="a step is not 0")
    r = range(*bounds)
    if len(r) > ctx.max_list:
        raise Problem("E0502", f"`range` of {len(r):,} numbers exceeds the limit of "
                      f"{ctx.max_list:,}", None, help="a list is as long as a repetition may "
                      "be; raise the limit with --max-repeat if you mean it")
    ctx.charge("expression", len(r))
    return list(r)


def _enumerate(vals, ctx):
    """`enumerate(xs)`, `enumerate(xs, 1)`: the list of (index, element) pairs."""
    _arity("enumerate", vals, 1, 2)
    _sequence("enumerate", vals[0], 0)
    start = need_int(vals[1], 1, "the start of `enumerate`") if len(vals) == 2 else 0
    ctx.charge("expression", len(vals[0]))
    return [(_checked_int(start + i, ctx, 1), v) for i, v in enumerate(vals[0])]


def _zip(vals, ctx):
    """`zip(a, b, ...)`: the list of tuples of the lists' elements, as long as the shortest."""
    if not vals:
        raise Problem("E0214", "`zip` takes one or more lists", None)
    for i, v in enumerate(vals):
        _sequence("zip", v, i)
    ctx.charge("expression", min(len(v) for v in vals) * len(vals))
    return [tuple(t) for t in zip(*vals, strict=False)]


FUNCTIONS: dict[str, Callable] = {
    "min": lambda vals, ctx: _extreme("min", vals, ctx),
    "max": lambda vals, ctx: _extreme("max", vals, ctx),
    "abs": _abs,
    "round": _round,
    "floor": _rounding("floor", math.floor),
    "ceil": _rounding("ceil", math.ceil),
    "int": _rounding("int", int),
    "float": _float,
    "len": _len,
    "sum": _sum,
    "range": _range,
    "enumerate": _enumerate,
    "zip": _zip,
}


# what each function does, as hover and completion in editors show it
DOCS = {
    "min": "min(a, b, ...) or min(xs): the smallest",
    "max": "max(a, b, ...) or max(xs): the largest",
    "abs": "abs(x): the absolute value",
    "round": "round(x): the nearest integer (half to even, as Python); round(x, n): n digits",
    "floor": "floor(x): the integer at or below x",
    "ceil": "ceil(x): the integer at or above x",
    "int": "int(x): the integer part of x (towards zero)",
    "float": "float(x): x as a number with a fraction",
    "len": "len(xs): the number of elements of a list, tuple, size or string",
    "sum": "sum(xs): the total of a list of numbers",
    "range": "range(n), range(a, b), range(a, b, step): the list of integers",
    "enumerate": "enumerate(xs), enumerate(xs, start): the list of (index, element) pairs",
    "zip": "zip(xs, ys, ...): the list of tuples of their elements",
}


def index(obj, i, ctx: Context):
    """`obj[i]`: an element of a list, tuple, size or string, counted from the end when
    negative (Python's rule)."""
    if not (is_sequence(obj) or isinstance(obj, str)):
        raise Problem("E0240", f"{type_name(obj)} cannot be indexed", 0,
                      help="index a list, a tuple, a size or a string; a tensor's sizes are "
                           "`x.shape[i]`" if isinstance(obj, Tensor) else
                      "index a list, a tuple, a size or a string")
    k = need_int(i, 1, "an index")
    if not -len(obj) <= k < len(obj):
        last = f"0 to {len(obj) - 1}" if obj else "none"
        raise Problem("E0242", f"index {k} is out of range for {type_name(obj)} of "
                      f"{len(obj)} element{'s' if len(obj) != 1 else ''}", 1,
                      label=f"indexes: {last} (or -1 to -{len(obj)} from the end)"
                      if obj else "it is empty")
    return obj[k]


def slice_of(obj, start, stop, ctx: Context):
    """`obj[a:b]`, either bound left out: a part of a list, tuple, size or string (Python's
    rule: bounds beyond the ends are clipped)."""
    if not (is_sequence(obj) or isinstance(obj, str)):
        raise Problem("E0240", f"{type_name(obj)} cannot be sliced", 0)
    a = None if start is None else need_int(start, 1, "a slice bound")
    b = None if stop is None else need_int(stop, 2, "a slice bound")
    out = obj[a:b]
    ctx.charge("expression", len(out))
    return Dims(out) if isinstance(obj, Dims) else out


def concat(a, b, ctx: Context):
    """`a + b` for two lists, or two tuples: one after the other."""
    ctx.charge("expression", len(a) + len(b))
    return a + b if isinstance(a, list) else tuple(a) + tuple(b)
