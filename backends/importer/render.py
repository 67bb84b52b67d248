"""Entries (structure.py) as `.arch` lines, one renderer for block bodies and networks.

A renderer runs in one of two modes. *Collect* writes every integer argument as `?` and
records its value: two instances of a block whose collected text is the same differ only in
those integers (blocks.py compares them). *Final* writes each integer as the expression
blocks.py found for its column (`width`, `4 * width`, `in.channels`), or as the number, and
leaves out an argument that equals its default. Both modes visit the integers in the same
order, so column k of one is column k of the other.
"""

from __future__ import annotations

import re

from archdsl.ops import get as op_spec

from .kinds import NONE
from .structure import Branches, Child, Layer, Merge

KERNEL_ARGS = {"kernel"}  # written `3x3` when the same in every dimension


class Hole:
    """An integer argument's place: its value, and what it is (for naming a parameter)."""

    def __init__(self, value: int, name: str, default):
        self.value = value
        self.name = name
        self.default = default


def fmt_number(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError(f"not a finite number: {v}")
        if v == int(v) and abs(v) < 1e15:
            return f"{v:.1f}"
        # 12 digits: `1 - 0.9997` is written 0.0003 (a difference of 1e-17, no number changes)
        text = repr(float(f"{v:.12g}"))
        return re.sub(r"e([+-])0*(\d)", lambda m: f"e{'-' if m.group(1) == '-' else ''}"
                      f"{m.group(2)}", text)
    raise ValueError(f"not a number: {v!r}")


def fmt_literal(v, name: str = "") -> str:
    """A value as archdsl writes it: `3x3`, `(1, 7)`, `"same"`, `1e-5`, `true`."""
    if isinstance(v, str):
        if not v.isprintable() or '"' in v:
            raise ValueError(f"a string archdsl cannot hold: {v!r}")
        return f'"{v}"'
    if isinstance(v, tuple):
        if len(set(v)) == 1 and all(isinstance(x, int) for x in v):
            if name in KERNEL_ARGS and len(v) > 1:
                return "x".join(str(x) for x in v)
            return str(v[0])
        if len(v) == 1:
            return f"({fmt_literal(v[0])},)"
        return "(" + ", ".join(fmt_literal(x) for x in v) + ")"
    return fmt_number(v)


def is_default(value, default) -> bool:
    if default is NONE:
        return False
    if value == default:
        return True
    if isinstance(value, tuple) and isinstance(default, tuple) and len(set(value)) == 1 \
            and len(set(default)) == 1:
        return value[0] == default[0]
    return False


def _uniform_int(v) -> int | None:
    """The integer an argument is, if it is one (or one size repeated): a hole's value."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, tuple) and v and len(set(v)) == 1 and isinstance(v[0], int) \
            and not isinstance(v[0], bool):
        return v[0]
    return None


def is_label(name: str) -> bool:
    """Whether `name` can be written as an archdsl label (numbered names are not)."""
    from archdsl.elaborate import reserved_label

    return (re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None
            and reserved_label(name) is None)


class Name:
    """An argument written as a name (the network's parameter `classes`)."""

    def __init__(self, text: str):
        self.text = text


class Renderer:
    """Renders entries; `collect` mode records holes, final mode resolves them."""

    def __init__(self, traced, collect: bool, exprs: list | None = None,
                 optional: dict | None = None, comments: bool = False):
        self.traced = traced
        self.collect = collect
        self.exprs = exprs or []  # final: per column, an expression string or None (literal)
        self.holes: list[Hole] = []
        self.k = 0
        self.optional = optional or {}  # label -> (condition text, Renderer for its body)
        self.skipped: dict[str, list] = {}  # collect: label -> entries left out
        self.names: dict[int, str] = {}
        self.needed: set[int] = set()
        self.comments = comments
        self.body_in: int | None = None
        self.depth = 0

    # ------------------------------------------------------------------ values

    def num(self, value: int, name: str, default, style: object) -> str | None:
        """An integer argument: `?` (collect), or its expression; None when it is the
        default and can be left out."""
        hole = Hole(value, name, default)
        self.holes.append(hole)
        k = self.k
        self.k += 1
        if self.collect:
            return "?"
        expr = self.exprs[k] if k < len(self.exprs) else None
        if expr is not None:
            return expr
        if is_default(style, default):
            return None
        return fmt_literal(style, name)

    def arg(self, name: str, value, default) -> str | None:
        if isinstance(value, Name):
            return value.text
        n = _uniform_int(value)
        if n is not None and name not in ("dims",):
            return self.num(n, name, default, value)
        if is_default(value, default):
            return None
        return fmt_literal(value, name)

    def name_of(self, v: int) -> str:
        if v == self.body_in:
            return "in"
        self.needed.add(v)
        return self.names.get(v, f"t{v}")

    # ------------------------------------------------------------------ entries

    def body(self, items: list, current: int, out: int | None) -> list[str]:
        lines: list[str] = []
        items = list(items)
        i = 0
        while i < len(items):
            run = _numbered_run(items, i, self.bound)
            if run > 2 and items[i].ins[0] == current and \
                    items[i + run - 1].out not in self.bound:  # three lines pay off from 3
                lines.extend(self.loop(items[i:i + run]))
                current = items[i + run - 1].out
                i += run
                continue
            e = items[i]
            i += 1
            if isinstance(e, Layer) and e.op.kind == "_piece":
                continue  # named by its chunk's line
            if isinstance(e, Layer) and e.op.kind == "chunk":
                if e.ins[0] != current:
                    lines.append(self.name_of(e.ins[0]))
                lines.append(self.chunk(e.op))
                current = e.op.pieces[-1].id
                continue
            if isinstance(e, Child) and e.scope.local in self.skipped_labels():
                # collect mode: the optional child is compared on its own (blocks.py)
                self.skipped.setdefault(e.scope.local, []).append(e)
                current = e.out
                continue
            if not isinstance(e, Merge) and e.ins[0] != current:
                lines.append(self.name_of(e.ins[0]))
            out_lines = self.entry(e)
            marked = getattr(e.scope if isinstance(e, Child) else getattr(e, "op", None),
                             "renamed_from", None)
            if marked is not None:  # --mark-unsupported
                from archdsl.escape import visible

                out_lines[0] += f"  # UNSUPPORTED: named `{visible(marked)}` in the model"
            if self.comments and self.depth == 0 and isinstance(e, Child) and e.out in \
                    self.traced.shapes and marked is None:
                shape = "x".join(str(d) for d in self.traced.shapes[e.out])
                out_lines[-1] += f"  # -> {shape}"
            lines.extend(out_lines)
            current = e.out
        if out is not None and current != out:
            lines.append(self.name_of(out))
        return lines

    def loop(self, run: list) -> list[str]:
        """`for i in range(n) { denselayer{i + 1}: dense_layer }`: calls of one block with
        the same arguments, labelled with consecutive numbers (a loop makes no scope, so the
        labels land where the calls were)."""
        prefix, start = _split_label(run[0].scope.local)
        count = self.num(len(run), "layers", NONE, len(run))
        index = "i" if start == 0 else f"i + {start}"
        call = self.block_call(run[0])
        return [f"for i in range({count}) {{", f"    {prefix}{{{index}}}: {call}", "}"]

    def skipped_labels(self):
        return self.optional if self.collect else ()

    def bind(self, e) -> str:
        if e.out in self.bound:
            self.names.setdefault(e.out, f"t{len(self.names) + 1}")
            return f"{self.names[e.out]} = "
        return ""

    def entry(self, e) -> list[str]:
        if isinstance(e, Layer):
            return [self.bind(e) + self.layer(e.op)]
        if isinstance(e, Merge):
            return [self.bind(e) + self.merge(e)]
        if isinstance(e, Branches):
            return self.branches(e)
        return self.child(e)

    def layer(self, op) -> str:
        label = ""
        if op.path and op.stateful and is_label(op.local):
            label = f"{op.local}: "
        args = op.args
        if op.kind == "upsample" and len(op.ins) == 2:  # the size of another tensor
            args = [*args, ("like", Name(self.name_of(op.ins[1])), None)]
        if op.id == self.classes_op:  # the network's `classes` parameter
            args = [(n, Name("classes") if n == "features" else v, d) for n, v, d in args]
        return label + self.call(op.kind, args)

    def call(self, kind: str, args: list) -> str:
        spec = op_spec(kind)
        positional = [a.name for a in spec.args if a.positional]
        given = {}
        for name, value, default in args:
            text = self.arg(name, value, default)
            if text is not None:
                given[name] = text
        parts, keyword_only = [], False
        for a in spec.args:
            if a.name not in given:
                if a.positional:
                    keyword_only = True
                continue
            if a.name in positional and not keyword_only:
                parts.append(given[a.name])
            else:
                parts.append(f"{a.name}={given[a.name]}")
        return f"{kind}({', '.join(parts)})" if parts else kind

    def chunk(self, op) -> str:
        """`[t1, t2] = chunk(2)`: every piece named, the pipeline going on from the last."""
        names = []
        for piece in op.pieces:
            self.names.setdefault(piece.id, f"t{len(self.names) + 1}")
            names.append(self.names[piece.id])
        return f"[{', '.join(names)}] = {self.call('chunk', op.args)}"

    def merge(self, e) -> str:
        names = [self.name_of(v) for v in e.ins]
        extra = []
        if e.op.kind == "concat":
            dim = dict((n, v) for n, v, _ in e.op.args).get("dim", 0)
            if dim != 0:
                extra.append(f"dim={dim}")
        elif e.op.kind == "add":
            shapes = {self.traced.shapes[v] for v in e.ins}
            if len(shapes) > 1:
                extra.append("broadcast=true")
        return f"{e.op.kind}({', '.join(names + extra)})"

    def branches(self, e) -> list[str]:
        lines = [self.bind(e) + f"{e.op.kind} {{"]
        for chain in e.branches:
            self.depth += 1
            inner = self.body(chain, e.ins[0], None)
            self.depth -= 1
            if not inner:
                lines.append("{}")
            elif len(chain) == 1 and isinstance(chain[0], (Child, Layer)) and (
                    len(inner) == 1 or not inner[0].startswith("{")) and not _BOUND.match(
                    inner[0]) and not (lines and lines[-1] == inner[0]):
                # one item needs no braces around it (unless it is the branch before it
                # again: two equal lines would read as, and be collapsed into, a repetition)
                lines.extend(inner)
            else:
                lines.append("{")
                lines.extend("    " + x for x in inner)
                lines.append("}")
        lines.append("}")
        return lines

    def child(self, e: Child) -> list[str]:
        label = e.scope.local
        bind = self.bind(e)
        if label in self.optional and not self.collect:
            cond, sub = self.optional[label]
            sub.names, sub.bound, sub.body_in = self.names, self.bound, self.body_in
            inner = sub.body(e.body, e.ins[0], e.out)
            return [f"{bind}{label}: if {cond} {{", *("    " + x for x in inner), "}"]
        prefix = bind + (f"{label}: " if is_label(label) else "")
        if e.block is not None:
            return [prefix + self.block_call(e)]
        self.depth += 1
        bound = self.bound
        self.bound = bound - {e.out}  # named at the child's line, not again inside
        inner = self.body(e.body, e.ins[0], e.out)
        self.bound = bound
        self.depth -= 1
        short = collapse(inner)
        if inner and all(_is_call_line(x) for x in inner) and sum(map(len, short)) < 64:
            return [prefix + "[" + ", ".join(short) + "]"]
        return [prefix + "{", *("    " + x for x in collapse(inner)), "}"]

    def block_call(self, e: Child) -> str:
        block = e.block
        parts, keyword_only = [], False
        for p in block.params:
            value = e.args[p.name]
            text = self.num(value, p.name, p.default, value)
            if text is None:
                keyword_only = True
                continue
            parts.append(f"{p.name}={text}" if keyword_only or p.default is not NONE
                         else text)
        return f"{block.name}({', '.join(parts)})" if parts else block.name

    bound: set[int] = frozenset()
    classes_op: int | None = None  # the final linear, whose width is `classes`


def _split_label(label: str) -> tuple[str, int]:
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*?)(\d+)", label)
    return (m.group(1), int(m.group(2))) if m else ("", -1)


def _numbered_run(items: list, i: int, bound) -> int:
    """How many entries from `i` on are calls of one block with the same arguments, each
    reading the one before, labelled `name1`, `name2`, ... (consecutive numbers)."""
    first = items[i]
    if not isinstance(first, Child) or first.block is None:
        return 0
    prefix, start = _split_label(first.scope.local)
    if not prefix or start < 0 or not is_label(prefix):
        return 0
    n = 1
    while i + n < len(items):
        e = items[i + n]
        prev = items[i + n - 1]
        if not (isinstance(e, Child) and e.block is first.block and e.args == first.args
                and e.scope.local == f"{prefix}{start + n}" and e.ins[0] == prev.out
                and prev.out not in bound):
            break
        n += 1
    return n


_BOUND = re.compile(r"[A-Za-z_]\w* = ")
_CALL = re.compile(r"[a-z_][a-z0-9_]*(\(.*\))?")


def _is_call_line(line: str) -> bool:
    return _CALL.fullmatch(line) is not None


def collapse(lines: list[str]) -> list[str]:
    """Runs of the same unlabelled layer or call as a repetition: `bottleneck(64) * 3`."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        while j + 1 < len(lines) and lines[j + 1] == lines[i]:
            j += 1
        n = j - i + 1
        if n > 1 and _is_call_line(lines[i]):
            out.append(f"{lines[i]} * {n}")
        else:
            out.extend(lines[i:j + 1])
        i = j + 1
    return out


def render(traced, items, current, out, **kw) -> tuple[list[str], Renderer]:
    """Render a body twice: once to learn which values need names, then with them bound."""
    classes = kw.pop("classes_op", None)
    r = Renderer(traced, **kw)
    r.body_in, r.classes_op = current, classes
    r.body(items, current, out)
    needed = set(r.needed)
    r2 = Renderer(traced, **kw)
    r2.body_in, r2.classes_op = current, classes
    r2.bound = needed
    for sub in (kw.get("optional") or {}).values():
        if isinstance(sub, tuple):
            sub[1].bound = needed
    lines = r2.body(items, current, out)
    return lines, r2
