"""Which layers may update a tensor in place: the plan's aliasing and autograd analysis.

An in-place layer (`relu(inplace=true)`, `dropout(inplace=true)`, the `+=` of a residual `add`)
overwrites its first input. That is safe only when nothing else will read the value it
overwrites and autograd did not keep it for backward. Three facts per layer kind decide it,
declared once in the lowering table (`Lowering.aliases`, `.saves_output`, `.inplace`;
tests/torch/test_aliasing.py checks each built-in kind's declaration against torch itself):

- a kind that *aliases* may return its input tensor or a view of it (`identity`; `dropout`,
  which returns its input in eval mode; `flatten`, a view): a write through its output reaches
  its input;
- a kind that *saves its output* has a backward that reads its own result (`relu`, `sigmoid`,
  `tanh`, `softmax`...): overwriting that result breaks `backward()`;
- a kind with `inplace` writes its first input when asked (`"arg"`: the `inplace` argument)
  or wherever the plan finds it safe (`"auto"`: `add`'s `+=`, as torchvision's
  `out += identity`).

The analysis follows *values* and *storage*. A layer that writes in place makes a new value in
its input's storage; an aliasing layer that does not write passes its input's value on; any
other layer makes a new value in new storage. A writer is kept in place when

1. its input's storage is not the network input's (the caller's tensor is never written);
2. it is the only layer that reads the value it overwrites (each layer counts once per input
   it reads it through, through any chain of aliases; the network output counts as a reader:
   the caller reads it);
3. the layer that made that value does not save its output for backward;
4. (per forward) the storage was made inside the module whose forward runs the writer: a
   block called on its own (`model.layer2(x)`, `model.features[3:](x)`) never writes the
   tensor its caller passed in. `scopes` gives each node's module path (the scope around it).

The decisions are made in one pass in topological order (`writers` says why that is exact):
linear in the network's size. Undeclared facts (a custom kind's `None`) count as the unsafe
answer: it aliases, it saves.
"""

from __future__ import annotations

from collections import Counter

from .lowering import Lowering, lowering_for


def _low(ir, nid: int) -> Lowering:
    data = ir.node(nid)
    return lowering_for(data["op"], data["name"], data["span"].location())


def aliases(low: Lowering) -> bool:
    """May the output be the input tensor or a view of it (when the layer does not write)?"""
    return low.passthrough or low.aliases is not False


def saves_output(low: Lowering, args: dict) -> bool:
    """Does autograd keep the layer's output for its backward (with these arguments)?"""
    saves = low.saves_output
    if callable(saves):
        return bool(saves(args))
    return saves is not False


def wants_inplace(low: Lowering, args: dict) -> bool:
    """Does the layer, as written, ask to write its first input?"""
    return low.inplace == "auto" or (low.inplace == "arg" and bool(args.get("inplace")))


def with_inplace(args: dict, enabled: bool) -> dict:
    """`args` as the lowering should see them: `inplace` true exactly where the plan allows."""
    return {**args, "inplace": enabled}


def _inside(path: str, scope: str) -> bool:
    return scope == "" or path == scope or path.startswith(scope + ".")


def writers(ir, live: set[int], scopes: dict[int, str] | None = None) -> set[int]:
    """The live nodes that may overwrite their first input in place.

    One pass in topological order. Values are classes of a union-find whose root is the node
    that made the value. Reads are first counted as if every in-place layer wrote (each is a
    reader of its input's value); a layer then decided not to write, if it aliases, joins its
    input's value, which takes over its readers. Deciding in order is exact: a layer's
    storage and value depend only on the layers before it, and whether it is the only reader
    of its value does not depend on the later ones (any other path from that value reaches at
    least one reader, written in place or not).
    """
    order = sorted(live)  # node ids are a topological order
    lows = {nid: _low(ir, nid) for nid in order}
    wants = {nid for nid in order
             if ir.inputs(nid) and wants_inplace(lows[nid], ir.node(nid)["args"])}
    parent: dict[int, int] = {}

    def find(n: int) -> int:
        root = n
        while parent[root] != root:
            root = parent[root]
        while parent[n] != root:
            parent[n], n = root, parent[n]
        return root

    readers: Counter[int] = Counter()
    for nid in order:
        ins = ir.inputs(nid)
        if ins and nid not in wants and aliases(lows[nid]):
            parent[nid] = find(ins[0])  # passes its input on: the layers reading it read that
            continue
        parent[nid] = nid
        for i in ins:
            readers[find(i)] += 1
    for _, out in ir.results():
        readers[find(out)] += 1  # the caller reads each output

    storage: dict[int, int] = {}
    enabled: set[int] = set()
    for nid in order:
        ins = ir.inputs(nid)
        if not ins:  # the input (or a source with no input)
            storage[nid] = nid
            continue
        src = ins[0]
        if nid in wants:
            maker = find(src)
            args = with_inplace(ir.node(maker)["args"], maker in enabled)
            own = scopes is None or _inside(scopes[storage[src]], scopes[nid])
            if (storage[src] != storage[ir.input] and readers[maker] == 1 and own
                    and not saves_output(lows[maker], args)):
                enabled.add(nid)
                storage[nid] = storage[src]
            elif aliases(lows[nid]):  # (dropout) no longer writes: passes its input on
                readers[maker] += readers.pop(nid, 0) - 1
                parent[nid] = maker
                storage[nid] = storage[src]
            else:
                storage[nid] = nid
        else:
            storage[nid] = storage[src] if aliases(lows[nid]) else nid
    return enabled
