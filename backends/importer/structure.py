"""The traced scopes as archdsl items: layers, submodules, and merges with their branches.

A scope's items in forward order become a list of entries, each reading values and making
one. A merge (`add`, `concat` on the channels) whose inputs are chains of single-use items
back to one value is rewritten as the language's branch form, `add { {...} {...} }`, so a
residual block reads as the zoo writes it; any other merge stays a call on named values
(`add(a, b)`). Rewriting works from the inside out, so a branch may hold merges of its own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .trace import Missing, Op, Scope, Traced


@dataclass(eq=False)
class Layer:
    op: Op
    ins: list[int]
    out: int


@dataclass(eq=False)
class Merge:  # a merge of named values: `add(a, b)`, `concat(a, b, dim=1)`
    op: Op
    ins: list[int]
    out: int


@dataclass(eq=False)
class Branches:  # `add { {...} {...} }`: each branch starts from ins[0]
    op: Op
    branches: list[list]
    ins: list[int]
    out: int


@dataclass(eq=False)
class Child:  # a submodule: a block call, or a labelled group
    scope: Scope
    body: list
    ins: list[int]
    out: int
    block: object = None  # blocks.Block, once recovered
    args: dict = field(default_factory=dict)  # the block's parameters for this instance


MERGE_KINDS = {"add", "mul", "sub", "div", "max", "min", "concat"}


def entries(traced: Traced, missing: list[Missing]) -> list:
    """The root scope's body."""
    return _body(traced.root, missing)


def _body(scope: Scope, missing: list[Missing]) -> list:
    out = []
    for item in scope.items:
        path = item.path
        parent = path.rsplit(".", 1)[0] if "." in path else ""
        if path and parent != scope.path:  # inside an nn.ModuleList or ModuleDict
            module = item.module if isinstance(item, Scope) else None
            what = f"{type(module).__module__}.{type(module).__qualname__}" if module is not \
                None else item.kind
            holder = parent[len(scope.path) + 1:] if scope.path else parent
            missing.append(Missing(path, what, f"sits in `{holder}`, a container forward does "
                                   "not call (an nn.ModuleList or ModuleDict): archdsl has no "
                                   "scope for it"))
            continue
        if isinstance(item, Scope):
            if len(item.ins) != 1 or len(item.outs) != 1:
                cls = item.cls
                missing.append(Missing(item.path, f"{cls.__module__}.{cls.__qualname__}",
                                       f"takes {len(item.ins)} tensors and gives "
                                       f"{len(item.outs)} (a block takes one and gives one)"))
                continue
            out.append(Child(item, _structure(_body(item, missing), item.outs[0]), item.ins,
                             item.outs[0]))
        elif item.kind in MERGE_KINDS and len(item.ins) > 1:
            out.append(Merge(item, list(item.ins), item.id))
        else:
            out.append(Layer(item, list(item.ins), item.id))
    return _structure(out, scope.outs[0] if scope.outs else None)


def _structure(items: list, body_out) -> list:
    """Rewrite merges fed by chains from one value as branches, innermost first."""
    changed = True
    while changed:
        changed = False
        uses = Counter(v for e in items for v in e.ins)
        uses[body_out] += 1
        producer = {e.out: i for i, e in enumerate(items)}
        for at, m in enumerate(items):
            if not isinstance(m, Merge) or not _branchable(m.op):
                continue
            chains, forks = [], set()
            for v in m.ins:
                chain = []
                while v in producer and producer[v] < at:
                    e = items[producer[v]]
                    if len(e.ins) != 1 or uses[v] != 1 or isinstance(e, Merge) or (
                            isinstance(e, Layer) and e.op.kind in ("chunk", "_piece")):
                        break
                    chain.insert(0, e)
                    v = e.ins[0]
                forks.add(v)
                chains.append(chain)
            if len(forks) != 1:
                continue
            members = {id(e) for c in chains for e in c}
            new = Branches(m.op, chains, [forks.pop()], m.out)
            items = [e for e in items[:at] if id(e) not in members] + [new] + items[at + 1:]
            changed = True
            break
    return items


def _branchable(op: Op) -> bool:
    if op.kind == "add":
        return op.shape == op.in_shape
    if op.kind == "concat":
        return dict((n, v) for n, v, _ in op.args).get("dim", 0) == 0
    return False
