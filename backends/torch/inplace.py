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
3. the layer that made that value does not save its output for backward.

Turning a writer off can merge values (a `dropout` that no longer writes passes its input's
value on), so the check runs again until nothing changes; it only ever turns writers off.
Undeclared facts (a custom kind's `None`) count as the unsafe answer: it aliases, it saves.
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


def _flow(ir, order: list[int], lows: dict, enabled: set[int]):
    """(value, storage, readers): which value and which storage each node's output is, and
    how many reads each value has, when exactly the nodes in `enabled` write in place."""
    value, storage = {}, {}
    readers: Counter[int] = Counter()
    for nid in order:
        ins = ir.inputs(nid)
        if not ins:  # the input (or a source with no input)
            value[nid] = storage[nid] = nid
            continue
        if nid in enabled:
            value[nid], storage[nid] = nid, storage[ins[0]]
        elif aliases(lows[nid]):
            value[nid], storage[nid] = value[ins[0]], storage[ins[0]]
            continue  # passes its input on: the layers reading it are the readers
        else:
            value[nid] = storage[nid] = nid
        for i in ins:
            readers[value[i]] += 1
    readers[value[ir.output]] += 1  # the caller reads the output
    return value, storage, readers


def writers(ir, live: set[int]) -> set[int]:
    """The live nodes that may overwrite their first input in place."""
    order = sorted(live)  # node ids are a topological order
    lows = {nid: _low(ir, nid) for nid in order}
    enabled = {nid for nid in order
               if ir.inputs(nid) and wants_inplace(lows[nid], ir.node(nid)["args"])}
    while enabled:
        value, storage, readers = _flow(ir, order, lows, enabled)
        unsafe = set()
        for nid in enabled:
            src = ir.inputs(nid)[0]
            maker = value[src]
            args = with_inplace(ir.node(maker)["args"], maker in enabled)
            if (storage[src] == storage[ir.input] or readers[maker] != 1
                    or saves_output(lows[maker], args)):
                unsafe.add(nid)
        if not unsafe:
            break
        enabled -= unsafe
    return enabled
