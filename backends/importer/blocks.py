"""Block recovery: submodules of one class whose traced structure is the same up to integer
arguments become one `block` with parameters.

For each class, from the innermost out: every instance is rendered in collect mode
(render.py). Instances with the same text differ only in integers; each column of integers
becomes a literal (the same everywhere), an expression of what is already known where that
holds for every instance (`in.channels`, a parameter, `4 * width`, `width // 2`), or a new
parameter (with the default 1 where 1 is its commonest value: a stride). A labelled child
present in some instances only (ResNet's `downsample`) becomes an `if` on the block's input
and parameters, when a condition of one or two comparisons tells exactly those instances
apart (`stride != 1 or in.channels != 4 * width`). Instances that do not fit one block are
split by their text into several (`name`, `name_2`, ...).
"""

from __future__ import annotations

import itertools
import keyword
import re
from collections import Counter
from dataclasses import dataclass, field

from .kinds import NONE
from .render import Renderer, is_label
from .structure import Branches, Child

PARAM_NAMES = {"filters": "width", "features": "features", "stride": "stride",
               "kernel": "kernel", "groups": "groups", "pad": "pad", "dilation": "dilation",
               "size": "size"}
CHANNEL_ARGS = {"filters", "features", "width"}


@dataclass
class Param:
    name: str
    default: object  # an int, or NONE
    values: list  # one per instance


@dataclass(eq=False)
class Block:
    name: str
    params: list[Param]
    lines: list[str] = field(default_factory=list)
    instances: list = field(default_factory=list)
    cls: str = ""

    def text(self) -> str:
        ps = ", ".join(p.name if p.default is NONE else f"{p.name} = {p.default}"
                       for p in self.params)
        head = f"block {self.name}({ps}) {{" if ps else f"block {self.name} {{"
        return "\n".join([head, *("    " + x for x in self.lines), "}"])


def walk(items):
    """Every Child in a list of entries, with those in branches and child bodies."""
    for e in items:
        if isinstance(e, Child):
            yield e
            yield from walk(e.body)
        elif isinstance(e, Branches):
            for chain in e.branches:
                yield from walk(chain)


def _own_children(items):
    """The Children of a body itself (in its branches too, not inside other children)."""
    for e in items:
        if isinstance(e, Child):
            yield e
        elif isinstance(e, Branches):
            for chain in e.branches:
                yield from _own_children(chain)


def snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.lstrip("_"))
    s = re.sub(r"[^A-Za-z0-9_]", "_", s).lower() or "block"
    return s if s[0].isalpha() else f"b_{s}"


_GENERATED = re.compile(r"The (block|group) `([A-Za-z_][A-Za-z0-9_]*)`")


def archdsl_class(cls) -> tuple[str, str] | None:
    """("block" or "group", name) for a class of a network archdsl compiled (its docstring
    says which definition it is: backends/torch/codegen.py), so that a compiled network
    imports back to the blocks it was compiled from."""
    if not cls.__module__.startswith("archdsl_generated_"):
        return None
    m = _GENERATED.match(cls.__doc__ or "")
    return (m.group(1), m.group(2)) if m else None


def _onnx_scope(module) -> bool:
    from .onnx_module import OnnxScope

    return isinstance(module, OnnxScope)


def is_block(child: Child) -> bool:
    """A custom class is a block; a plain nn.Sequential (or a compiled network's group, or a
    scope of an ONNX file whose children are all numbered) a labelled group, unless its name
    is a number (only a block call is numbered)."""
    import torch.nn as nn

    module = child.scope.module
    cls = type(module)
    generated = archdsl_class(cls)
    group = cls is nn.Sequential or (generated is not None and generated[0] == "group") or (
        _onnx_scope(module) and all(n.isdigit() for n in module._modules))
    return not group or not is_label(child.scope.local)


def class_key(child: Child):
    """Instances of one key are one block (or are split by their text): a class, or for an
    ONNX file's scopes (which have none) the names of the layers in them."""
    import torch.nn as nn

    module = child.scope.module
    if _onnx_scope(module):
        # the layers' names; scopes and sequences inside it (an optional `downsample`) are
        # parts the recovery compares, not the key
        return ("onnx", "unit", frozenset(n for n, m in module._modules.items()
                                          if not _onnx_scope(m)
                                          and type(m) is not nn.Sequential))
    cls = type(module)
    generated = archdsl_class(cls)
    return ("archdsl", generated[1]) if generated is not None else cls


def block_base(key) -> str:
    if isinstance(key, tuple):
        return key[1]
    return snake(key.__name__)


def recover(traced, root: list, network: str = "") -> list[Block]:
    """Give every block-like Child its Block and arguments; the blocks, innermost first."""
    from archdsl.ops import names as kind_names

    height: dict[int, int] = {}

    def h(c: Child) -> int:
        if id(c) not in height:
            height[id(c)] = 1 + max((h(x) for x in walk(c.body)), default=0)
        return height[id(c)]

    by_class: dict[object, list[Child]] = {}
    for c in walk(root):
        if is_block(c):
            by_class.setdefault(class_key(c), []).append(c)
    order = sorted(by_class, key=lambda k: max(h(c) for c in by_class[k]))
    taken = set(kind_names()) | {"in", "x", network}
    blocks: list[Block] = []
    for key in order:
        base = block_base(key)
        if base in taken or keyword.iskeyword(base) or not is_label(base):
            base = f"{base}_block"
        for b in _make(traced, by_class[key], base, taken):
            cls = type(by_class[key][0].scope.module)
            b.cls = f"{cls.__module__}.{cls.__qualname__}"
            blocks.append(b)
    return blocks


def _unique(base: str, taken: set) -> str:
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _collect(traced, child: Child, optional=()):
    r = Renderer(traced, collect=True, optional=dict.fromkeys(optional))
    r.body_in = child.ins[0]
    r.body(child.body, child.ins[0], child.out)
    r2 = Renderer(traced, collect=True, optional=dict.fromkeys(optional))
    r2.body_in, r2.bound = child.ins[0], set(r.needed)
    lines = r2.body(child.body, child.ins[0], child.out)
    subs = {}
    for label, skipped in r2.skipped.items():
        e = skipped[0]
        s = Renderer(traced, collect=True)
        s.body_in, s.bound, s.names = child.ins[0], r2.bound, r2.names
        subs[label] = (tuple(s.body(e.body, e.ins[0], e.out)), s.holes)
    return tuple(lines), r2.holes, subs


def _make(traced, instances: list[Child], base: str, taken: set) -> list[Block]:
    sigs = [_collect(traced, c) for c in instances]
    if len({s[0] for s in sigs}) == 1:
        return [_unify(traced, instances, sigs, {}, _unique(base, taken))]
    labels = [{c.scope.local for c in _own_children(i.body)} for i in instances]
    optional = set.union(*labels) - set.intersection(*labels)
    if optional:
        sigs_o = [_collect(traced, c, optional) for c in instances]
        reps = [i for i, ls in enumerate(labels) if optional <= ls]
        # each optional child left out where it is (not inside a loop) and the same wherever
        found = all(lab in sigs_o[i][2] for i, ls in enumerate(labels) for lab in optional
                    if lab in ls)
        same_inner = found and all(
            len({sigs_o[i][2][lab][0] for i, ls in enumerate(labels) if lab in ls}) == 1
            for lab in optional)
        if len({s[0] for s in sigs_o}) == 1 and reps and same_inner:
            name = _unique(base, taken)
            block = _unify(traced, instances, sigs_o, {lab: [lab in ls for ls in labels]
                                                        for lab in optional},
                           name, rep=reps[0])
            if block is not None:
                return [block]
            taken.discard(name)
    groups: dict[tuple, list[int]] = {}
    for i, s in enumerate(sigs):
        groups.setdefault(s[0], []).append(i)
    out = []
    for idx in groups.values():
        out.append(_unify(traced, [instances[i] for i in idx], [sigs[i] for i in idx], {},
                          _unique(base, taken)))
    return out


class _Columns:
    """Finds each column's expression, making parameters as needed."""

    def __init__(self, instances):
        self.instances = instances
        self.params: list[Param] = []
        self.known: list[tuple[str, list]] = []
        ranks = {len(c.scope.in_shape) for c in instances}
        self.in_channels = [c.scope.in_shape[0] for c in instances] if ranks and \
            min(ranks) >= 2 else None

    def candidates(self, idx):
        for text, vals in self.known:  # the columns already given an expression
            yield text, [vals[i] for i in idx]
        for p in self.params:
            yield p.name, [p.values[i] for i in idx]
        if self.in_channels is not None:
            yield "in.channels", [self.in_channels[i] for i in idx]

    def expr(self, holes, idx, partial=False):
        vals = [h.value for h in holes]
        if len(set(vals)) == 1:
            return None
        for text, base in self.candidates(idx):
            if vals == base:
                return text
        for text, base in self.candidates(idx):
            for k in (2, 3, 4, 6, 8):
                if vals == [k * b for b in base]:
                    return f"{k} * {text}"
                if all(b % k == 0 for b in base) and vals == [b // k for b in base]:
                    return f"{text} // {k}"
        name = holes[0].name
        pname = PARAM_NAMES.get(name, name)
        taken = {p.name for p in self.params}
        n, candidate = 2, pname
        while candidate in taken or keyword.iskeyword(candidate) or candidate in ("in", "x"):
            candidate, n = f"{pname}{n}", n + 1
        common = Counter(vals).most_common(1)[0][0]
        # a default where the commonest value is the layer's own default (`pad = 0`) or 1
        # (`stride = 1`), so that most calls leave it out
        own = _uniform(holes[0].default)
        default = common if common == own or common == 1 else NONE
        full = [None] * len(self.instances)
        for i, v in zip(idx, vals, strict=True):
            full[i] = v
        if partial:  # only some instances have it: the others take the default
            default = vals[0] if default is NONE else default
            full = [default if v is None else v for v in full]
        self.params.append(Param(candidate, default, full))
        return candidate


def _uniform(v):
    if isinstance(v, tuple) and v and len(set(v)) == 1:
        v = v[0]
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _condition(cols: _Columns, exprs, holes_by_col, present: list[bool]) -> str | None:
    atoms = []
    for p in cols.params:
        if p.default is not NONE:
            atoms.append((f"{p.name} != {p.default}", [v != p.default for v in p.values]))
    if cols.in_channels is not None:
        seen = set()
        for expr, holes in zip(exprs, holes_by_col, strict=True):
            if expr is None or expr == "in.channels" or expr in seen:
                continue
            if holes[0].name not in CHANNEL_ARGS:
                continue
            seen.add(expr)
            vals = [h.value for h in holes]
            atoms.append((f"in.channels != {expr}",
                          [c != v for c, v in zip(cols.in_channels, vals, strict=True)]))
    for a in atoms:
        if a[1] == present:
            return a[0]
    for a, b in itertools.combinations(atoms, 2):
        if [x or y for x, y in zip(a[1], b[1], strict=True)] == present:
            return f"{a[0]} or {b[0]}"
    return None


def _unify(traced, instances, sigs, optional: dict, name: str, rep: int = 0):
    cols = _Columns(instances)
    n = len(sigs[0][1])
    by_col = [[s[1][k] for s in sigs] for k in range(n)]
    all_idx = list(range(len(instances)))
    exprs = [cols.expr(by_col[k], all_idx) for k in range(n)]
    cols.known = [(e, [h.value for h in col]) for e, col in zip(exprs, by_col, strict=True)
                  if e is not None and " " in e]
    subs = {}
    for label, present in optional.items():
        idx = [i for i, p in enumerate(present) if p]
        m = len(sigs[idx[0]][2][label][1])
        sub_cols = [[sigs[i][2][label][1][k] for i in idx] for k in range(m)]
        sub_exprs = [cols.expr(sub_cols[k], idx, partial=True) for k in range(m)]
        cond = _condition(cols, exprs, by_col, present)
        if cond is None:
            return None
        subs[label] = (cond, Renderer(traced, collect=False, exprs=sub_exprs))
    cols.params.sort(key=lambda p: p.default is not NONE)
    rep_child = instances[rep]
    r = Renderer(traced, collect=False, exprs=exprs, optional=subs)
    r.body_in = rep_child.ins[0]
    r.body(rep_child.body, rep_child.ins[0], rep_child.out)
    needed = set(r.needed)
    for _, sub in subs.values():
        needed |= sub.needed
        sub.k, sub.holes, sub.needed = 0, [], set()
    r2 = Renderer(traced, collect=False, exprs=exprs, optional=subs)
    r2.body_in, r2.bound = rep_child.ins[0], needed
    from .render import collapse

    lines = collapse(r2.body(rep_child.body, rep_child.ins[0], rep_child.out))
    block = Block(name, cols.params, lines, instances)
    for i, c in enumerate(instances):
        c.block = block
        c.args = {p.name: p.values[i] for p in cols.params}
    return block
