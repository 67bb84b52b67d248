"""The syntax tree of a `.arch` file: plain dataclasses, each carrying its source span.

Items (things that transform a tensor) and expressions (things that compute values) are
separate families. Elaboration (`elaborate.py`) walks items; `evaluate.py` computes expressions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .source import Span

# The words the grammar reserves (docs/language.md, "Files, comments and separators"); none of
# them can be a label, whether the parser (`add: relu`) or the elaborator (`then: relu`) finds it
KEYWORDS = frozenset({"block", "network", "import", "input", "init", "if", "then", "else", "and",
                      "or", "not", "true", "false", "concat", "add", "inline", "for", "let"})


# ---------------------------------------------------------------- expressions


@dataclass
class Expr:
    span: Span


@dataclass
class Literal(Expr):
    """An int, float, string or bool written in the file."""

    value: object


@dataclass
class DimsLit(Expr):
    """`5x5` or `3x224x224`: a kernel extent or a shape."""

    dims: tuple[int, ...]


@dataclass
class Name(Expr):
    ident: str


@dataclass
class Attr(Expr):
    """`in.channels`: an attribute of a value (usually a tensor's shape)."""

    obj: Expr
    attr: str
    attr_span: Span


@dataclass
class BinOp(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass
class UnaryOp(Expr):
    op: str  # "-" or "not"
    operand: Expr


@dataclass
class Compare(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass
class BoolOp(Expr):
    op: str  # "and" / "or"
    left: Expr
    right: Expr


@dataclass
class CondExpr(Expr):
    """`if c then a else b`."""

    cond: Expr
    then: Expr
    other: Expr


@dataclass
class FuncCall(Expr):
    """A built-in function in an expression: `min(a, b)`, `max(a, b)`."""

    func: str
    func_span: Span
    args: list[Arg]


@dataclass
class Index(Expr):
    """`setting[i]`, `in.shape[0]`: one element of a list, tuple, size or string."""

    obj: Expr
    index: Expr


@dataclass
class Slice(Expr):
    """`setting[1:]`, `widths[:-1]`: a part of a list, tuple, size or string."""

    obj: Expr
    start: Expr | None
    stop: Expr | None


@dataclass
class TupleLit(Expr):
    items: list[Expr]


@dataclass
class ListLit(Expr):
    """`[[1, 1], [1, 1]]`: a literal matrix (fixed kernels)."""

    items: list[Expr]


@dataclass
class ListComp(Expr):
    """`[row[2] for row in setting]`, `[c for (t, c, n, s) in setting if s == 2]`: a list made
    from another, element by element, as in Python."""

    element: Expr
    targets: list[Pattern]
    iterable: Expr
    cond: Expr | None


@dataclass
class Arg:
    """One argument of a call: positional when `name` is None."""

    name: str | None
    value: Expr
    span: Span
    name_span: Span | None = None


# ---------------------------------------------------------------- patterns


@dataclass
class Pattern:
    span: Span


@dataclass
class PatName(Pattern):
    """`t` in `for t in ...` or `let t = ...`: the whole value."""

    name: str


@dataclass
class PatTuple(Pattern):
    """`(t, c, n, s)`: a tuple (or list) of exactly as many values, each to its pattern."""

    items: list[Pattern]


# ---------------------------------------------------------------- items


@dataclass
class Item:
    span: Span


@dataclass
class Ref(Item):
    """A bare name: a layer without arguments (`relu`), a block, or a value (`x`)."""

    ident: str


@dataclass
class Call(Item):
    """`conv(64, 3x3, stride=2)` or `bottleneck(64)`."""

    ident: str
    ident_span: Span
    args: list[Arg]


@dataclass
class Inline(Item):
    """`inline stem(64)`: a block call whose layers join the caller's scope and numbering
    (no scope of its own), as if its body were written out at the call."""

    keyword_span: Span
    call: Call | Ref


@dataclass
class Group(Item):
    """`{ a; b; c }`: a sequence; braces alone do not make a name."""

    items: list[Item]


@dataclass
class ItemList(Item):
    """`[a, b * 3]`: a list of calls, a sequence numbered like nn.Sequential."""

    items: list[Item]


@dataclass
class Merge(Item):
    """`concat { b1 b2 }` / `add { b1 b2 }`: branches from one input, merged."""

    kind: str
    kind_span: Span
    branches: list[Item]


@dataclass
class MergeCall(Item):
    """`concat(a, b)` / `add(x, y)`: a merge of named values."""

    kind: str
    kind_span: Span
    args: list[Arg]


@dataclass
class If(Item):
    """`if cond { ... } else item`."""

    cond: Expr
    then: Group
    other: Item | None


@dataclass
class Repeat(Item):
    """`item * N`: N copies in sequence."""

    item: Item
    count: Expr


@dataclass
class Labeled(Item):
    """`name: item`: the name becomes the module path of what the item makes. A computed label
    (`denselayer{i + 1}: item`) has `parts`, its text and expressions in order; `label` is
    then the text without the expressions (`denselayer{}`), until the elaborator computes
    it."""

    label: str
    label_span: Span
    item: Item
    parts: list[str | Expr] | None = None


@dataclass
class For(Item):
    """`for i, (t, c) in enumerate(setting) { ... }`: the body once per element, in sequence,
    each time with the element bound to the patterns (several patterns take a tuple apart)."""

    targets: list[Pattern]
    iterable: Expr
    body: Group


@dataclass
class LetStmt(Item):
    """`let w = 4 * width`: a constant of the body, from here on (a value, never a tensor)."""

    targets: list[Pattern]
    value: Expr


@dataclass
class Bind(Item):
    """`x = item`: the item's output is also available later as the value `x`."""

    name: str
    name_span: Span
    item: Item


@dataclass
class Unpack(Item):
    """`[a, b] = chunk(2)`: an item that gives several values binds each to a name."""

    names: list[str]
    name_spans: list[Span]
    item: Item


@dataclass
class ReturnStmt(Item):
    """`return main, aux`: the last line of a network with several outputs."""

    names: list[str]
    name_spans: list[Span]


@dataclass
class InputStmt(Item):
    """`input 3x224x224`: the shape of one sample fed to the network."""

    dims: DimsLit | None
    args: list[Arg]


@dataclass
class InitStmt(Item):
    """`init conv.weight = kaiming_normal(mode="fan_out")`."""

    target: list[str]
    target_span: Span
    func: str
    func_span: Span
    args: list[Arg]


# ---------------------------------------------------------------- definitions


@dataclass
class Param:
    name: str
    default: Expr | None
    span: Span


@dataclass
class Definition:
    """A `block` or a `network`; a network's body starts with an `input` statement."""

    kind: str  # "block" or "network"
    name: str
    name_span: Span
    params: list[Param]
    body: Group
    span: Span
    module: Module | None = field(default=None, repr=False, compare=False)


@dataclass
class Import:
    path: str
    span: Span


@dataclass
class Module:
    """One parsed `.arch` file."""

    path: str
    imports: list[Import]
    definitions: list[Definition]
    span: Span
    # every definition visible in this file: its own and those of the files it imports
    namespace: dict[str, Definition] = field(default_factory=dict, repr=False, compare=False)
