"""Argument declarations and binding: how `conv(64, 3x3, stride=2)` becomes a checked dict.

Used for layer kinds (the op registry), block parameters and init functions alike, so every
call in the language reports unknown, missing, duplicate and mistyped arguments the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from .budget import CURRENT
from .values import POISON, Dims, Tensor, describe_value, type_name

REQUIRED = object()


class ArgProblem(Exception):
    """A bad argument value; `help` suggests the fix."""

    def __init__(self, message: str, help: str | None = None):
        super().__init__(message)
        self.message = message
        self.help = help


Coerce = Callable[[object], object]


@dataclass(frozen=True)
class ArgSpec:
    name: str
    type: Coerce
    default: object = REQUIRED
    positional: bool = False
    aliases: tuple[str, ...] = ()
    doc: str = ""
    # The last positional argument may also be spelled as several, which it takes as one
    # tuple: `permute(1, 2, 0)` is `permute((1, 2, 0))`, as torch's `Tensor.permute(*dims)`.
    variadic: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


# ---------------------------------------------------------------- types
def _int(v, what="an integer"):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ArgProblem(f"expected {what}, found {type_name(v)} `{describe_value(v)}`")
    if isinstance(v, float):
        if not v.is_integer():
            raise ArgProblem(f"expected {what}, found {v!r}")
        v = int(v)
    return v


def INT(v):
    return _int(v)


def POS_INT(v):
    v = _int(v, "a positive integer")
    if v < 1:
        raise ArgProblem(f"expected a positive integer, found {v}")
    return v


def NONNEG_INT(v):
    v = _int(v, "a non-negative integer")
    if v < 0:
        raise ArgProblem(f"expected a non-negative integer, found {v}")
    return v


def FLOAT(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ArgProblem(f"expected a number, found {type_name(v)} `{describe_value(v)}`")
    try:
        f = float(v)
    except OverflowError:  # an integer beyond 1.8e308 (only with a raised --max-int)
        raise ArgProblem("expected a number, found an integer too large for one") from None
    if not math.isfinite(f):  # the evaluator refuses these; a custom op's default might not
        raise ArgProblem(f"expected a finite number, found {f!r}")
    return f


def NONNEG_FLOAT(v):
    v = FLOAT(v)
    if v < 0:
        raise ArgProblem(f"expected a number >= 0, found {v!r}")
    return v


def PROB(v):
    f = FLOAT(v)
    if not 0.0 <= f <= 1.0:
        raise ArgProblem(f"expected a probability between 0 and 1, found {describe_value(v)}",
                         help="write it as a fraction: 0.5 is one half" if f > 1 else None)
    return f


def BOOL(v):
    if not isinstance(v, bool):
        raise ArgProblem(f"expected true or false, found {type_name(v)} `{describe_value(v)}`",
                         help="write `true` or `false`")
    return v


def _dims(v, elem, what):
    if isinstance(v, (tuple, list)) and not isinstance(v, Tensor):
        if len(v) == 0:
            raise ArgProblem(f"expected {what}, found an empty tuple")
        return tuple(elem(x) for x in v)
    return (elem(v),)


def DIMS(v):
    """A positive extent: `3`, `3x3`, `(1, 7)`. One number means the same in every dimension."""
    return _dims(v, POS_INT, "a size like 3x3")


def NONNEG_DIMS(v):
    return _dims(v, NONNEG_INT, "a size like 1x1")


def PAD(v):
    """Padding: a number, a pair/tuple, `same` or `valid`."""
    if isinstance(v, str):
        if v not in ("same", "valid"):
            raise ArgProblem(f'expected a number, "same" or "valid", found "{v}"')
        return v
    return _dims(v, NONNEG_INT, "a padding like 1 or 1x1")


def MATRIX(v):
    """A literal kernel: a list (1-D), a list of lists (2-D) or deeper, all rows equal length."""
    if not isinstance(v, list):
        raise ArgProblem(f"expected a literal kernel like [[0,1,0],[1,-4,1],[0,1,0]], "
                         f"found {type_name(v)}")

    def shape_of(x):
        if isinstance(x, list):
            if not x:
                raise ArgProblem("a literal kernel cannot have an empty row")
            subs = [shape_of(e) for e in x]
            if any(sub != subs[0] for sub in subs):
                raise ArgProblem("every row of a literal kernel must have the same length")
            return (len(x), *subs[0])
        FLOAT(x)
        return ()

    shape_of(v)
    return v


def TENSOR(v):
    if not isinstance(v, Tensor):
        raise ArgProblem(f"expected a value (a named tensor), found {type_name(v)}")
    return v


def ANY(v):
    return v


def choice(*options: str) -> Coerce:
    def coerce(v):
        if not isinstance(v, str) or v not in options:
            shown = ", ".join(f'"{o}"' for o in options)
            raise ArgProblem(f"expected one of {shown}, found `{describe_value(v)}`")
        return v

    coerce.__name__ = "choice"
    return coerce


def either(*types: Coerce) -> Coerce:
    def coerce(v):
        first = None
        for t in types:
            try:
                return t(v)
            except ArgProblem as exc:
                first = first or exc
        raise first

    return coerce


def type_label(t: Coerce) -> str:
    return {
        INT: "int", POS_INT: "int >= 1", NONNEG_INT: "int >= 0", FLOAT: "number",
        NONNEG_FLOAT: "number >= 0", PROB: "probability", BOOL: "bool", DIMS: "size (3 or 3x3)",
        NONNEG_DIMS: "size", PAD: 'padding (1, 1x2, "same")', MATRIX: "literal kernel",
        TENSOR: "tensor", ANY: "any",
    }.get(t, getattr(t, "__name__", "value"))


# ---------------------------------------------------------------- binding
@dataclass
class BindProblem:
    code: str
    message: str
    arg_index: int | None  # which argument (for its span); None: the call itself
    help: str | None = None
    on_name: bool = False  # underline the keyword, not the value


@dataclass
class Bound:
    values: dict[str, object]
    problems: list[BindProblem] = field(default_factory=list)
    poisoned: bool = False


def suggest(word: str, candidates) -> str | None:
    """`did you mean ...?` for a misspelt name, only for a real near miss (`near_miss`). Each
    answer is computed once (a failing item repeated a million times asked a million times);
    a miss is charged to the run's work budget, per candidate compared."""
    names = tuple(sorted(set(candidates)))
    key = (word, names)
    if key in _SUGGESTED:
        return _SUGGESTED[key]
    budget = CURRENT.get()
    if budget is not None:
        budget.spend("suggestion", len(names))
    hint = near_miss(word, names)
    if len(_SUGGESTED) >= 4096:  # a bound on the memory; the common case is a few entries
        _SUGGESTED.clear()
    _SUGGESTED[key] = hint
    return hint


def near_miss(word: str, names) -> str | None:
    """The candidate that `word` is a slip of, or None. As rustc decides: the same word in
    another case; else, for three letters or more, the one name that starts with it (`lin`
    -> `linear`); else the fewest edits (insert, delete, replace, swap two neighbours), at
    most one per three letters (`stide` -> `stride`, `kernal` -> `kernel`, never `int` ->
    `min`, nor a one-letter name for another). Ties go to the name with the same first
    letter, then the first in order."""
    low = word.lower()
    if len(low) > 64:  # no name is that long; a distance table of a huge word is pointless
        return None
    for n in names:
        if n.lower() == low and n != word:
            return n
    if len(low) >= 3:
        starts = [n for n in names if n.lower().startswith(low) and n != word]
        if len(starts) == 1:
            return starts[0]
    limit = max(len(low), 3) // 3
    best: tuple[int, bool, str] | None = None
    for n in names:
        if n == word or abs(len(n) - len(low)) > limit:
            continue
        d = _edits(low, n.lower(), limit)
        if d <= limit and d < len(low):  # a slip keeps a letter: never `r` -> `x`
            cand = (d, n[:1].lower() != low[:1], n)
            best = cand if best is None or cand < best else best
    return best[2] if best is not None else None


def _edits(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (Levenshtein with swaps of neighbours), stopping
    early once every path exceeds `limit`."""
    prev2: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] \
                    and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


_SUGGESTED: dict[tuple[str, tuple[str, ...]], str | None] = {}


def bind(specs: tuple[ArgSpec, ...], args: list[tuple[str | None, object]], what: str,
         max_int: int | None = None) -> Bound:
    """Match evaluated arguments to their declarations; coerce and check each value.

    `args` is a list of (keyword or None, value). Poisoned values pass through unchecked.
    With `max_int`, an integer the coercion makes (`linear(1e300)`: 1e300 is integral) is
    held to the same limit as integers written as such (E0507).
    """
    out: dict[str, object] = {}
    problems: list[BindProblem] = []
    by_name = {}
    for spec in specs:
        by_name[spec.name] = spec
        for alias in spec.aliases:
            by_name[alias] = spec
    positional = [s for s in specs if s.positional]
    if positional and positional[-1].variadic:
        args = _gather_variadic(args, len(positional))
    pos_i = 0
    seen_kw = False
    extra_reported = False
    for i, (key, value) in enumerate(args):
        if key is _GATHERED:
            continue
        if key is None:
            if seen_kw:
                problems.append(BindProblem("E0205", "positional argument after a keyword "
                                            "argument", i, "put positional arguments first"))
                continue
            while pos_i < len(positional) and positional[pos_i].name in out:
                pos_i += 1
            if pos_i >= len(positional):
                if extra_reported:  # one message for all the extra arguments
                    continue
                extra_reported = True
                names = ", ".join(s.name for s in positional) or "none"
                problems.append(BindProblem(
                    "E0205", f"too many positional arguments for {what}", i,
                    f"{what} takes {len(positional)} positional argument"
                    f"{'s' if len(positional) != 1 else ''} ({names}); name the others, "
                    f"as in `stride=2`"))
                continue
            spec = positional[pos_i]
            pos_i += 1
        else:
            seen_kw = True
            spec = by_name.get(key)
            if spec is None:
                hint = suggest(key, by_name)
                known = ", ".join(s.name for s in specs) or "no arguments"
                problems.append(BindProblem(
                    "E0202",
                    f"unknown argument `{key}` for {what}"
                    + (f" (did you mean `{hint}`?)" if hint else ""),
                    i, f"{what} takes: {known}", on_name=True))
                continue
            if spec.name in out:
                alias = f" (`{key}` is another name for `{spec.name}`)" if key != spec.name else ""
                problems.append(BindProblem("E0206", f"argument `{spec.name}` given twice{alias}",
                                            i, "give each argument once", on_name=True))
                continue
        if value is POISON:
            out[spec.name] = POISON
            continue
        try:
            out[spec.name] = coerced = spec.type(value)
        except ArgProblem as exc:
            problems.append(BindProblem("E0204", f"`{spec.name}` of {what}: {exc.message}", i,
                                        exc.help))
            out[spec.name] = POISON
            continue
        if max_int is not None and _too_large(coerced, max_int):
            problems.append(BindProblem("E0507", f"`{spec.name}` of {what}: "
                                        f"{describe_value(value)} is too large for an integer "
                                        f"(limit {max_int})", i,
                                        "sizes this large cannot be allocated"))
            out[spec.name] = POISON
    for spec in specs:
        if spec.name not in out:
            if spec.required:
                problems.append(BindProblem(
                    "E0203", f"{what} needs `{spec.name}`", None,
                    f"give it as `{spec.name}=...`" if not spec.positional
                    else f"pass it, as in {_example(what, specs, spec)}"))
                out[spec.name] = POISON
            else:
                out[spec.name] = spec.default
    poisoned = any(v is POISON for v in out.values())
    return Bound(out, problems, poisoned)


_GATHERED = object()  # the key of a positional argument taken into the one before it


def _gather_variadic(args, n_positional: int):
    """The leading positional arguments from the last declared one on, as one tuple.

    The list keeps its length (the gathered ones are marked, not removed) so that each
    problem still points at the argument it is about."""
    run = 0
    while run < len(args) and args[run][0] is None:
        run += 1
    if run <= n_positional:
        return args
    first = n_positional - 1
    values = tuple(v for _, v in args[first:run])
    gathered = POISON if any(v is POISON for v in values) else values
    return [*args[:first], (None, gathered), *((_GATHERED, None) for _ in range(first + 1, run)),
            *args[run:]]


def _too_large(v, max_int: int) -> bool:
    if type(v) is int:  # the common case first: bools and floats are never too large
        return abs(v) > max_int
    if isinstance(v, tuple):
        return any(_too_large(x, max_int) for x in v)
    return False


def _example(what: str, specs: tuple[ArgSpec, ...], spec: ArgSpec) -> str:
    """`linear(features)`, `conv(filters, kernel)`: the call up to the missing argument."""
    callee = what.split("`")[1] if "`" in what else what
    names = []
    for s in specs:
        if s.positional:
            names.append(s.name)
        if s is spec:
            break
    return f"`{callee}({', '.join(names)})`"


__all__ = [
    "ANY",
    "BOOL",
    "DIMS",
    "FLOAT",
    "INT",
    "MATRIX",
    "NONNEG_DIMS",
    "NONNEG_FLOAT",
    "NONNEG_INT",
    "PAD",
    "POS_INT",
    "PROB",
    "REQUIRED",
    "TENSOR",
    "ArgProblem",
    "ArgSpec",
    "Bound",
    "Dims",
    "bind",
    "choice",
    "either",
    "suggest",
    "type_label",
]
