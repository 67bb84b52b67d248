"""The proof that compiled modules equal the IR: random valid architectures, run in torch.

For each program drawn by `tests/strategies.py`, `net = archdsl.parse(text)` and
`model = net.to_torch()`; the model runs on a random batch of 2 under an `fx.Interpreter` that
records every fx node's output (fx nodes carry their IR name in `meta["arch_name"]`). Then, for
every IR node:

- its shape equals the shape torch produced (batch left out); a node lowered to nothing
  (identity) must produce its input's tensor;
- a layer lowered to a module: parameters, trainable parameters and buffers equal the numel
  sums of `model.get_submodule(name)`; a merge or identity holds nothing;
- its values equal those of a reference run that walks the IR's own edges, calling the same
  submodules on copies of their inputs (this checks the wiring, concat order and aliasing);
- its MACs equal `FlopCounterMode`'s FLOPs for that module / 2 / batch, and the network's total
  equals the whole run's FLOPs / 2 / batch (which count conv and matmuls only: checked).

Examples per run come from the hypothesis profile (tests/conftest.py): 200, derandomized, in
CI; `ARCHDSL_HYPOTHESIS_PROFILE=long` runs 5,000 fresh ones.
"""

from __future__ import annotations

import functools
import operator

import pytest
from hypothesis import event, given, note, settings

import archdsl
from archdsl import ops

from .strategies import architectures

torch = pytest.importorskip("torch")
fx = torch.fx
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

BATCH = 2
COUNTED_OPS = {"aten.convolution", "aten.mm", "aten.addmm", "aten.bmm"}
NO_MODULE = {"input", "identity", "add", "concat"}  # kinds that own no submodule
PASSTHROUGH = {"identity"}  # kinds that leave no fx node
pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors: threads only cost


class _Recorder(fx.Interpreter):
    """Runs the graph, keeping each IR node's output (the last fx node made for it)."""

    def __init__(self, module):
        super().__init__(module)
        self.outputs: dict[str, torch.Tensor] = {}

    def run_node(self, n):
        result = super().run_node(n)
        name = n.meta.get("arch_name")
        if name is not None:
            # a copy: a later in-place layer may overwrite this tensor, as it is allowed to
            self.outputs[name] = result.clone() if isinstance(result, torch.Tensor) else result
        return result


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
        else:
            values[nid] = model.get_submodule(data["name"])(*[t.clone() for t in ins])
    return values


def _numel(tensors) -> int:
    return sum(t.numel() for t in tensors)


def compare(net, model) -> list[str]:
    """Every disagreement between the IR and the compiled model, as readable lines."""
    ir = net.ir
    problems: list[str] = []
    x = torch.randn(BATCH, *net.input_shape)
    model.eval()
    with torch.no_grad():
        rec = _Recorder(model)
        # each run gets its own copy: an inplace layer may overwrite its input
        final = rec.run(x.clone())
        with FlopCounterMode(display=False) as counter:
            direct = model(x.clone())
        expected = reference_run(net, model, x.clone())
    if tuple(final.shape) != tuple(direct.shape):
        problems.append(f"interpreter output {tuple(final.shape)} != forward {direct.shape}")

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
    if not torch.allclose(direct, expected[ir.output], rtol=1e-5, atol=1e-6, equal_nan=True):
        problems.append("the forward's output differs from the IR's own evaluation")
    out = ir.node(ir.output)
    if tuple(direct.shape[1:]) != tuple(out["shape"]):
        problems.append(f"output: IR {out['shape']}, torch {tuple(direct.shape)}")

    # parameters, trainable parameters and buffers, layer by layer
    for _, data in ir.layers():
        name, op = data["name"], data["op"]
        if op in NO_MODULE:
            if data["params"] or data["buffers"]:
                problems.append(f"`{name}` ({op}) owns no module but counts parameters")
            continue
        try:
            mod = model.get_submodule(name)
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
        per_module = counts.get(f"{prefix}.{data['name']}", {})
        flops = sum(per_module.values())
        if data["op"] not in NO_MODULE and flops != 2 * BATCH * data["macs"]:
            problems.append(f"`{data['name']}` ({data['op']}) MACs: IR {data['macs']}, "
                            f"torch {flops / 2 / BATCH}")
    return problems


@settings(deadline=None)
@given(architectures())
def test_generated_programs_check_clean(arch):
    """The generator's programs are valid, and its own shape arithmetic agrees with the IR."""
    note(arch.text)
    net = archdsl.parse(arch.text)
    assert not [d for d in net.diagnostics if d.severity == "error"]
    assert net.input_shape == arch.input_shape
    assert net.output_shape == arch.output_shape
    net.ir.verify()


@settings(deadline=None)
@given(architectures())
def test_compiled_module_equals_ir(arch):
    note(arch.text)
    for feature in sorted(arch.features):
        event(feature)
    net = archdsl.parse(arch.text)
    model = net.to_torch()
    problems = compare(net, model)
    assert not problems, "the compiled module disagrees with the IR:\n  " + "\n  ".join(
        problems)


@pytest.mark.parametrize("text", [
    # a dead branch: `v2` feeds nothing; its module exists but never runs
    'network t { input 1x1x1\n v1 = relu; v2 = conv(1, 1x1, pad="same", bias=false); v1 }',
    # an identity in an add, an inplace-free residual, a repeated group
    "network t { input 2x5x5\n add { { conv(2, 3x3, pad=1) } { identity } }\n"
    " { conv(3, 1x1); relu } * 2 }",
])
def test_known_cases(text):
    net = archdsl.parse(text)
    assert not compare(net, net.to_torch())


def test_kinds_the_generator_covers():
    """Every built-in layer kind appears in the generator's vocabulary (a new kind should
    be added to tests/strategies.py so the differential test exercises it)."""
    from pathlib import Path

    text = Path(__file__).with_name("strategies.py").read_text()
    missing = [k for k in ops.kinds() if k not in text and k != "input"]
    assert not missing, f"kinds the generator never writes: {missing}"


def test_inplace_activation_in_a_branch():
    """An in-place layer whose input another branch still reads (or that is the caller's
    input) is lowered out of place; one whose input has no other reader stays in place."""
    net = archdsl.parse("network t { input 2x3x3\n add { { relu(inplace=true) } {} } }")
    model = net.to_torch()
    assert not compare(net, model)
    assert model.get_submodule("0").inplace is False
    chain = archdsl.parse("network t { input 2x3x3\n conv(2, 1x1); relu(inplace=true) }")
    assert chain.to_torch().get_submodule("1").inplace is True


def _standalone(net, model):
    """The class that `to_source` writes, executed: it needs only torch."""
    namespace: dict = {"__name__": "archdsl_generated"}
    exec(compile(net.to_source(), f"<{net.name}.py>", "exec"), namespace)
    return namespace[type(model).__name__]()


@given(architectures())
def test_standalone_source_equals_module(arch):
    """`to_source` reproduces `to_torch`: the same state_dict keys, shapes and order, and the
    same trainable flags, and the same outputs once it holds the same weights."""
    note(arch.text)
    net = archdsl.parse(arch.text)
    model = net.to_torch().eval()
    other = _standalone(net, model).eval()
    ours, theirs = model.state_dict(), other.state_dict()
    assert [(k, tuple(v.shape)) for k, v in theirs.items()] == \
        [(k, tuple(v.shape)) for k, v in ours.items()]
    assert [p.requires_grad for p in other.parameters()] == \
        [p.requires_grad for p in model.parameters()]
    other.load_state_dict(ours)
    x = torch.randn(BATCH, *net.input_shape)
    with torch.no_grad():
        assert torch.allclose(model(x.clone()), other(x.clone()), equal_nan=True)
