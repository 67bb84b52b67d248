"""The work budget of one run: every stage of the front end counts what it does against one
limit (`Limits.max_work`, `--max-work`), so that any input ends in bounded time with a result
or a located diagnostic (E0511), whatever it makes the compiler do.

Limits on what is *made* (layers, parameters) do not bound the time: a block that calls
another twice, forty deep, makes no more layers than the last level but does 2^40 calls; an
unknown layer kind inside `{ ... * 1000 } * 1000` makes no layer at all, a million times. So
the budget counts the work itself, in units of about a microsecond of CPU on the reference
machine (docs/performance.md has the calibration, `bench/work.py` measures it):

- `token`: a token lexed, parsed (LALR) and built into the syntax tree (`dsl/lexer.py`);
- `item`: an entry of a body elaborated, whether it makes anything or fails (`_item`);
- `layer`: a layer node made, with its name and the analyses and checks after it;
- `check`: a layer's arguments bound and checked, and its shape rule run (a configuration
  seen before is reused, dsl/elaborate.py `_made`, and costs no `check`);
- `call` a block call, `argument` each argument of one;
- `expression`: an expression node evaluated, or an element of a list scaled;
- `suggestion`: a name compared for "did you mean ...?" (each answer is computed once);
- `diagnostic`: a diagnostic made and placed, kept or only counted.

The default, 1,500,000 units, is about a second of the worst-case work on the reference machine
(bench/work.py) and far above what real networks need: ResNet-152 takes about 24,000 units, a
file of 10,000 layers written out one per line 0.9 to 1.4 million. Spending is deterministic:
the same input stops at the same place on any machine, unlike a timeout.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .diagnostics import Diagnostic

# Units per unit of work (see the table above). Calibrated with bench/work.py so that a unit
# costs at most about a microsecond on the reference machine, whatever the input.
COSTS = {
    "token": 16,
    "item": 4,
    "layer": 16,
    "check": 8,
    "call": 16,
    "argument": 2,
    "expression": 3,
    "suggestion": 4,
    "diagnostic": 40,
}
# What the notes of E0511 call each kind, in the order they are listed.
NAMES = {
    "token": "tokens parsed", "item": "items elaborated", "layer": "layers made",
    "check": "layers checked", "call": "block calls", "argument": "block arguments",
    "expression": "expression nodes evaluated", "suggestion": "names compared for suggestions",
    "diagnostic": "diagnostics",
}

MAX_WORK = 1_500_000


class OutOfWork(Exception):
    """The budget is spent. The stage that was working catches it and reports E0511 where it
    was (the token, the item); `kind` is what was being counted when it ran out, `offset`
    where in the text, when the lexer knows."""

    def __init__(self, kind: str, offset: int | None = None):
        super().__init__(kind)
        self.kind = kind
        self.offset = offset
        self.where = None  # the elaborator's item and call chain when it ran out there
        self.chain: list[str] | None = None


class Budget:
    """Units of work left for one run. `charge` raises `OutOfWork` once they are spent."""

    __slots__ = ("done", "exhausted", "left", "limit")

    def __init__(self, limit: int = MAX_WORK):
        self.limit = limit
        self.left = limit
        self.done = dict.fromkeys(COSTS, 0)
        self.exhausted = False

    def charge(self, kind: str, n: int = 1) -> None:
        self.done[kind] += n
        self.left -= COSTS[kind] * n
        if self.left < 0:
            raise self.out(kind)

    def spend(self, kind: str, n: int = 1) -> None:
        """Count work that must not stop where it happens (a diagnostic being recorded): the
        next `charge` finds the budget spent."""
        self.done[kind] += n
        self.left -= COSTS[kind] * n

    def out(self, kind: str, offset: int | None = None) -> OutOfWork:
        """The exception to raise when `kind` finds nothing left (the budget is spent)."""
        self.exhausted = True
        return OutOfWork(kind, offset)

    def affords(self, kind: str, n: int) -> bool:
        """Whether `n` more of `kind` fit in what is left (a projection; nothing is spent)."""
        return COSTS[kind] * n <= self.left

    @property
    def spent(self) -> int:
        return self.limit - self.left

    def summary(self) -> str:
        """`so far: 262,144 block calls, 524,288 items elaborated, ...`, the largest first."""
        parts = sorted(((COSTS[k] * n, k, n) for k, n in self.done.items() if n), reverse=True)
        return "work done so far: " + ", ".join(f"{n:,} {NAMES[k]}" for _, k, n in parts[:4])


CURRENT: ContextVar[Budget | None] = ContextVar("archdsl_budget", default=None)


@contextmanager
def spending(budget: Budget | None) -> Iterator[Budget | None]:
    """Make `budget` the one the lexer charges while parsing (it has no other way in: Lark
    calls it)."""
    token = CURRENT.set(budget)
    try:
        yield budget
    finally:
        CURRENT.reset(token)


# The fallback when the fast lexer is not in place (another lark, dsl/load_grammar.py): tokens
# counted before parsing (in C, about 0.2 us each), as names and numbers (a run of letters,
# digits and `_`), strings and any other visible character. Comments and spaces before a token
# are part of its match (an atomic group: never given back) and cost nothing; a final `;`
# gives a trailing comment a token to precede. Close to the lexer's count (`1.5` counts three).
_TOKEN = re.compile(r'(?>(?:#[^\n]*|\s+)*)(?:[A-Za-z0-9_]+|"[^"\n]*"|\S)')


def count_tokens(text: str) -> int:
    """About how many tokens `text` has (comments and whitespace are free)."""
    return _TOKEN.subn("", text + "\n;")[1] - 1


def token_offset(text: str, n: int) -> int:
    """Where the n-th token (as `count_tokens` counts them) ends: the place a parse that runs
    out of budget points at. Only called on that error path."""
    for seen, m in enumerate(_TOKEN.finditer(text), 1):
        if seen >= n:
            return m.end() - 1
    return len(text)


def out_of_work(budget: Budget, span, what: str, notes: list[str] = (),
                label: str = "the work budget ran out here") -> Diagnostic:
    """E0511 where the budget ran out (or will: `label` then says why); `what` says which
    stage (`parsing the file`)."""
    return Diagnostic("E0511", f"{what} takes more than the limit of {budget.limit:,} units "
                      "of work", span, label=label,
                      notes=[budget.summary(), *notes],
                      help="a block that calls another more than once, or a repetition inside "
                           "a repetition, multiplies the work; check them, or raise the limit "
                           "with --max-work N")
