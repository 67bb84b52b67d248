"""The proof that compiled modules equal the IR, for one program: shared by the hypothesis
tests (tests/test_differential.py) and the seeded runner (tests/fuzz/valid.py).

`compare(net, model)` runs a float64 copy of `model` on a random batch of 2 under an
`fx.Interpreter` that records every fx node's output (fx nodes carry their IR name in
`meta["arch_name"]`). Then, for every IR node:

- its shape equals the shape torch produced (batch left out); a node lowered to nothing
  (identity) must produce its input's tensor;
- a layer whose kind is declared not to alias (backends/torch/lowering.py) and that does not
  write in place returns storage of none of its inputs;
- a layer lowered to a module: parameters, trainable parameters and buffers equal the numel
  sums of `model.get_submodule(name)`; a merge or identity holds nothing;
- its output's strides are in PyTorch's default order (no reordered layout reaches a conv);
- its values equal those of a reference run that walks the IR's own edges, calling the same
  submodules on copies of their inputs (this checks the wiring, concat order and aliasing);
- its MACs equal `FlopCounterMode`'s FLOPs for that module / 2 / batch, and the network's total
  equals the whole run's FLOPs / 2 / batch (which count conv and matmuls only: checked).
"""

from __future__ import annotations

import copy
import functools
import operator

import torch
from torch import fx
from torch.utils.flop_counter import FlopCounterMode

from archdsl.backends.torch.lowering import LOWERINGS
from archdsl.backends.torch.module import module_path, submodule, trace

BATCH = 2
COUNTED_OPS = {"aten.convolution", "aten.mm", "aten.addmm", "aten.bmm"}
# Kinds without parameters that the reference evaluates its own way, written here from torch's
# documentation (the batch is dim 0), not from the lowering. The reorders copy, as the
# compiled layers do (an LRN cannot take a view).
FUNCTIONS = {
    "reshape": lambda a, x: x.reshape(x.shape[0], *a["shape"]),
    "permute": lambda a, x: x.permute(0, *(d + 1 for d in a["dims"])).contiguous(),
    "transpose": lambda a, x: x.transpose(a["dim0"] % (x.ndim - 1) + 1,
                                          a["dim1"] % (x.ndim - 1) + 1).contiguous(),
    "mean": lambda a, x: x.mean([d + 1 for d in a["dims"]], keepdim=a["keepdim"]),
    "pad": lambda a, x: torch.nn.functional.pad(x, list(a["pad"]), mode=a["mode"],
                                                **({"value": a["value"]}
                                                   if a["mode"] == "constant" else {})),
}


def _crop(a, ins):
    x = ins[0]
    size = ins[a["like"]].shape[2:] if a.get("like") is not None else a["size"]
    index = [slice(None), slice(None)] + [slice((n - c) // 2, (n - c) // 2 + c)
                                          for n, c in zip(x.shape[2:], size, strict=True)]
    return x[tuple(index)]


def _upsample(a, ins):
    kw = {"mode": a["mode"]}
    if a.get("like") is not None:
        kw["size"] = tuple(ins[a["like"]].shape[2:])
    elif a.get("size") is not None:
        kw["size"] = a["size"]
    else:
        kw["scale_factor"] = a["scale"]
    if a.get("align_corners") is not None:
        kw["align_corners"] = a["align_corners"]
    return torch.nn.functional.interpolate(ins[0], **kw)


# Kinds with several inputs (or one piece of several outputs), from torch's documentation.
MULTI = {
    "mul": lambda a, ins: functools.reduce(torch.mul, ins),
    "sub": lambda a, ins: torch.sub(*ins),
    "div": lambda a, ins: torch.div(*ins),
    "max": lambda a, ins: functools.reduce(torch.maximum, ins),
    "min": lambda a, ins: functools.reduce(torch.minimum, ins),
    "upsample": _upsample,
    "crop": _crop,
    "chunk": lambda a, ins: torch.chunk(ins[0], a["chunks"], a["dim"] + 1)[a["piece"]],
    "split": lambda a, ins: torch.split(ins[0], a["sizes"], a["dim"] + 1)[a["piece"]],
}
NO_MODULE = {"input", "identity", "add", "concat", *FUNCTIONS, *MULTI}  # own no submodule
PASSTHROUGH = {"identity"}  # kinds that leave no fx node


class _Recorder(fx.Interpreter):
    """Runs the graph, keeping each IR node's output (the last fx node made for it), and the
    names of the layers declared not to alias whose output shares storage with an input. A
    layer may take several fx nodes (`torch.permute(x, ...).clone(...)`): its inputs are those
    of its first node, its output that of its last."""

    def __init__(self, module):
        super().__init__(module)
        self.outputs: dict[str, torch.Tensor] = {}
        self._entry: dict[str, set[int]] = {}  # storage of each layer's inputs
        self._shares: dict[str, bool] = {}  # does the layer's latest output share it?
        self._held: list[torch.Tensor] = []

    @property
    def aliased(self) -> list[str]:
        return [name for name, shares in self._shares.items() if shares]

    def run_node(self, n):
        name = n.meta.get("arch_name")
        if name is None or n.op not in ("call_module", "call_function", "call_method"):
            result = super().run_node(n)
        else:
            args, kwargs = self.fetch_args_kwargs_from_env(n)
            if name not in self._entry:
                self._entry[name] = {t.untyped_storage().data_ptr() for t in _tensors(args)}
                # held until the run ends: freed, their memory could come back as the output
                self._held.extend(_tensors(args))
            entry = self._entry[name]
            result = getattr(self, n.op)(n.target, args, kwargs)
            low = LOWERINGS.get(n.meta.get("arch_op"))
            self._shares[name] = bool(
                low is not None and low.aliases is False and not _writes(self.module, n)
                and isinstance(result, torch.Tensor)
                and result.untyped_storage().data_ptr() in entry)
        if name is not None:
            # a copy: a later in-place layer may overwrite this tensor, as it is allowed to
            self.outputs[name] = result.clone() if isinstance(result, torch.Tensor) else result
        return result


def _tensors(value) -> list:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


def _writes(model, node) -> bool:
    """Does this fx node write its first input in place (an in-place module, `+=`)?"""
    if node.op == "call_module":
        return bool(getattr(model.get_submodule(node.target), "inplace", False))
    return node.target is operator.iadd


def reference_run(net, model, x) -> dict[int, torch.Tensor]:
    """Evaluate the IR itself: walk its nodes and edges, calling each layer's submodule on a
    copy of its inputs; merges as the language defines them. Checks the fx graph's wiring
    (edges, concat order, aliasing) against the IR's, with the same weights."""
    ir = net.ir
    values: dict[int, torch.Tensor] = {}
    for nid, data in ir.nodes():
        ins = [values[i] for i in ir.inputs(nid)]
        op = data["op"]
        if op == "input":
            values[nid] = x
        elif op == "identity":
            values[nid] = ins[0]
        elif op == "add":
            values[nid] = functools.reduce(operator.add, ins)
        elif op == "concat":
            d = data["args"]["dim"]
            values[nid] = torch.cat(ins, d + 1 if d >= 0 else d)
        elif op in MULTI:
            values[nid] = MULTI[op](data["args"], [t.clone() for t in ins])
        elif op in FUNCTIONS:
            values[nid] = FUNCTIONS[op](data["args"], ins[0].clone())
        else:
            values[nid] = submodule(model, data["name"])(*[t.clone() for t in ins])
    return values


def _default_order(t: torch.Tensor) -> bool:
    """Are `t`'s strides in PyTorch's default order (a crop or a channel chunk may skip
    elements, but no view reorders dimensions, not even those of size 1)? A reordered layout
    reaching a conv sends it down oneDNN's channels-last kernels, which crash or compute wrong
    numbers for some configurations (backends/torch/runtime.py): no layer may hand one on."""
    # each dimension steps over at least the whole of the next one; sizes of 1 included, whose
    # strides PyTorch reads too when it picks a layout (2x8x1 with strides 8, 1, 8 counts as
    # channels-last)
    sizes, strides = t.shape, t.stride()
    return all(strides[i] >= strides[i + 1] * sizes[i + 1] for i in range(t.dim() - 1))


def _numel(tensors) -> int:
    return sum(t.numel() for t in tensors)


def compare(net, model) -> list[str]:
    """Every disagreement between the IR and the compiled model, as readable lines."""
    ir = net.ir
    problems: list[str] = []
    # In float64, on a copy: the reference calls the same maths in another grouping, and an
    # ill-conditioned network (a batch norm over two nearly equal samples divides their
    # difference by sqrt(eps)) amplifies float32's rounding past any fixed tolerance.
    model = copy.deepcopy(model).double()
    x = torch.randn(BATCH, *net.input_shape, dtype=torch.float64)
    model.eval()
    with torch.no_grad():
        rec = _Recorder(trace(model))  # the flat fx graph, each layer's node named
        # each run gets its own copy: an inplace layer may overwrite its input
        final = rec.run(x.clone())
        with FlopCounterMode(display=False) as counter:
            direct = model(x.clone())
        expected = reference_run(net, model, x.clone())
    problems += [f"`{name}` is declared not to alias but returned its input's storage"
                 for name in rec.aliased]
    # several outputs (`return main, aux`) are a tuple: each compared with its IR node
    finals = final if isinstance(final, tuple) else (final,)
    directs = direct if isinstance(direct, tuple) else (direct,)
    results = ir.results()
    if len(directs) != len(results):
        problems.append(f"the forward returns {len(directs)} outputs, the IR has {len(results)}")
    for f, d in zip(finals, directs, strict=False):
        if tuple(f.shape) != tuple(d.shape):
            problems.append(f"interpreter output {tuple(f.shape)} != forward {d.shape}")

    # shapes, node by node
    live = ir.live()
    tensors: dict[int, torch.Tensor] = {}
    for nid, data in ir.nodes():
        name, op = data["name"], data["op"]
        if name in rec.outputs:
            tensors[nid] = rec.outputs[name]
        elif op in PASSTHROUGH and ir.inputs(nid)[0] in tensors:
            tensors[nid] = tensors[ir.inputs(nid)[0]]
        elif nid in live:
            problems.append(f"`{name}` ({op}) has no fx node")
            continue
        else:
            continue
        got = tuple(tensors[nid].shape)
        if got[1:] != tuple(data["shape"]) or got[0] != BATCH:
            problems.append(f"`{name}` ({op}): IR shape {data['shape']}, torch {got}")
        elif not torch.allclose(tensors[nid], expected[nid], rtol=1e-5, atol=1e-6,
                                equal_nan=True):
            problems.append(f"`{name}` ({op}): values differ from the IR's own evaluation")
        elif not _default_order(tensors[nid]):
            problems.append(f"`{name}` ({op}): its output has strides "
                            f"{tensors[nid].stride()}, not PyTorch's default order")
    for (rname, rid), d in zip(results, directs, strict=False):
        if not torch.allclose(d, expected[rid], rtol=1e-5, atol=1e-6, equal_nan=True):
            problems.append(f"the forward's output {rname} differs from the IR's own "
                            "evaluation")
        out = ir.node(rid)
        if tuple(d.shape[1:]) != tuple(out["shape"]):
            problems.append(f"output {rname}: IR {out['shape']}, torch {tuple(d.shape)}")

    # parameters, trainable parameters and buffers, layer by layer
    for _, data in ir.layers():
        name, op = data["name"], data["op"]
        if op in NO_MODULE:
            if data["params"] or data["buffers"]:
                problems.append(f"`{name}` ({op}) owns no module but counts parameters")
            continue
        try:
            mod = submodule(model, name)
        except AttributeError:
            problems.append(f"`{name}` ({op}) has no submodule")
            continue
        params = list(mod.parameters())
        facts = {"params": _numel(params),
                 "trainable": _numel(p for p in params if p.requires_grad),
                 "buffers": _numel(mod.buffers())}
        for key, value in facts.items():
            if data[key] != value:
                problems.append(f"`{name}` ({op}) {key}: IR {data[key]}, torch {value}")
    totals = net.totals
    params = list(model.parameters())
    for what, ir_value, value in [
        ("params", totals.params, _numel(params)),
        ("trainable", totals.trainable_params, _numel(p for p in params if p.requires_grad)),
        ("buffers", totals.buffers, _numel(model.buffers())),
    ]:
        if ir_value != value:
            problems.append(f"total {what}: IR {ir_value}, torch {value}")

    # MACs: the whole run, and each layer (FlopCounterMode keys modules `Class.path`)
    counts = counter.get_flop_counts()
    seen = {str(k) for k in counts.get("Global", {})}
    if seen - COUNTED_OPS:
        problems.append(f"FlopCounterMode counted other ops: {sorted(seen - COUNTED_OPS)}")
    total = counter.get_total_flops()
    if total != 2 * BATCH * net.macs:
        problems.append(f"total MACs: IR {net.macs}, torch {total / 2 / BATCH}")
    prefix = type(model).__name__
    for nid, data in ir.layers():
        if nid not in live:
            continue  # a dead branch never runs (its MACs are not in the total either)
        per_module = counts.get(f"{prefix}.{module_path(model, data['name'])}", {})
        flops = sum(per_module.values())
        if data["op"] not in NO_MODULE and flops != 2 * BATCH * data["macs"]:
            problems.append(f"`{data['name']}` ({data['op']}) MACs: IR {data['macs']}, "
                            f"torch {flops / 2 / BATCH}")
    return problems
