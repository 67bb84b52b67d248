"""Aliasing and in-place updates, held to torch itself.

1. Every built-in kind's declaration in the lowering table (`aliases`, `saves_output`,
   `inplace`) is checked against what torch does: the layer runs (train and eval mode) and
   its output's storage is compared with its inputs'; its output is overwritten in place
   after the forward and `backward()` tells whether autograd kept it.
2. Every in-place-capable kind after every kind (issue 12's writers after one kind of each
   class of aliasing facts), wired so that the tensor it would
   overwrite is private, read by another branch, the caller's input, or read later: the
   forward gives the out-of-place reference's values, the caller's input is unchanged, and
   `backward()` works and gives the reference's gradients.
"""

from __future__ import annotations

import itertools

import pytest

torch = pytest.importorskip("torch")
fx = torch.fx

import archdsl  # noqa: E402
from archdsl import ops  # noqa: E402
from archdsl.backends.torch.inplace import saves_output, with_inplace  # noqa: E402
from archdsl.backends.torch.lowering import LOWERINGS  # noqa: E402
from archdsl.backends.torch.module import submodule, trace  # noqa: E402

from .helpers import out_of_place  # noqa: E402

BATCH = 2

# (input shape, the layer) for every built-in kind but `input`, degenerate settings included
# (a 1x1 window, an adaptive pool to its input's size, p = 0 and 1, a vector flattened).
CASES: dict[str, list[tuple[str, str]]] = {
    "conv": [("3x5x5", "conv(4, 3x3, pad=1)"), ("3x5x5", "conv(3, 1x1)"), ("2x6", "conv(2, 3)"),
             ("1x3x3", "conv([[0, 1, 0], [1, -4, 1], [0, 1, 0]])")],
    "linear": [("6", "linear(6)"), ("6", "linear(4, bias=false)")],
    "maxpool": [("3x4x4", "maxpool(2)"), ("3x4x4", "maxpool(1)"), ("3x4x4", "maxpool(global=true)"),
                ("2x5x5", "maxpool(2, stride=2, pad=1, ceil=true)")],
    "avgpool": [("3x4x4", "avgpool(2)"), ("3x4x4", "avgpool(1)"),
                ("3x4x4", "avgpool(global=true)")],
    "adaptive_avgpool": [("3x4x4", "adaptive_avgpool(4)"), ("3x4x4", "adaptive_avgpool(1)"),
                         ("3x1x1", "adaptive_avgpool(1)")],
    "flatten": [("3x4x4", "flatten"), ("6", "flatten")],
    "batchnorm": [("3x4x4", "batchnorm"), ("3x4x4", "batchnorm(track=false)"),
                  ("6", "batchnorm(affine=false)")],
    "lrn": [("4x3x3", "lrn(2)"), ("4x3x3", "lrn(5)")],
    "dropout": [("6", "dropout"), ("6", "dropout(0)"), ("6", "dropout(1)"),
                ("3x4x4", "dropout(0.3, inplace=true)")],
    "relu": [("6", "relu"), ("6", "relu(inplace=true)")],
    "relu6": [("6", "relu6"), ("6", "relu6(inplace=true)")],
    "leaky_relu": [("6", "leaky_relu(0.1)"), ("6", "leaky_relu(0.1, inplace=true)")],
    "tanh": [("6", "tanh")],
    "sigmoid": [("6", "sigmoid")],
    "gelu": [("6", "gelu"), ("6", 'gelu(approximate="tanh")')],
    "softmax": [("3x4", "softmax"), ("3x4", "softmax(-1)")],
    "identity": [("6", "identity")],
    "concat": [("3x4x4", "concat { {} { relu } }"), ("3x4x4", "concat { { tanh } }")],
    "add": [("3x4x4", "add { { tanh } {} }"), ("3x4x4", "add { { conv(3, 1x1) } { relu } }")],
    # the kinds of issue 12
    "conv_transpose": [("3x4x4", "conv_transpose(2, 2, stride=2)"),
                       ("2x5", "conv_transpose(2, 1)")],
    "pixel_shuffle": [("4x3x3", "pixel_shuffle(2)"), ("3x3x3", "pixel_shuffle(1)")],
    "pixel_unshuffle": [("2x4x4", "pixel_unshuffle(2)"), ("2x3x3", "pixel_unshuffle(1)")],
    "silu": [("6", "silu"), ("6", "silu(inplace=true)")],
    "hardswish": [("6", "hardswish"), ("6", "hardswish(inplace=true)")],
    "hardsigmoid": [("6", "hardsigmoid"), ("6", "hardsigmoid(inplace=true)")],
    "mish": [("6", "mish"), ("6", "mish(inplace=true)")],
    "selu": [("6", "selu"), ("6", "selu(inplace=true)")],
    "elu": [("6", "elu(0.5)"), ("6", "elu(inplace=true)")],
    "celu": [("6", "celu(2)"), ("6", "celu(inplace=true)")],
    "hardtanh": [("6", "hardtanh"), ("6", "hardtanh(-2, 2, inplace=true)")],
    "softplus": [("6", "softplus"), ("6", "softplus(2, threshold=1)")],
    "log_softmax": [("3x4", "log_softmax"), ("3x4", "log_softmax(-1)")],
    "prelu": [("3x4x4", "prelu"), ("3x4x4", "prelu(per_channel=true)")],
    "glu": [("4x2", "glu"), ("4x2", "glu(0)")],
    "groupnorm": [("4x3x3", "groupnorm(2)"), ("4x2", "groupnorm(4, affine=false)")],
    "layernorm": [("4x3x3", "layernorm"), ("4x3x3", 'layernorm(over="channels")'),
                  ("6", "layernorm(affine=false)")],
    "instancenorm": [("3x4x4", "instancenorm"), ("3x5", "instancenorm(affine=true, track=true)")],
    "scale": [("3x4x4", "scale"), ("6", "scale(0.5)")],
    "reshape": [("3x4x4", "reshape(12x4)"), ("6", "reshape(6)")],
    "unflatten": [("12", "unflatten(3x4)"), ("3x4x4", "unflatten(2x2, dim=-1)")],
    "permute": [("3x4x4", "permute((1, 2, 0))"), ("3x4", "permute((0, 1))")],
    "transpose": [("3x4x4", "transpose(0, 2)"), ("3x4", "transpose(1, 1)")],
    "channel_shuffle": [("4x3x3", "channel_shuffle(2)"), ("4x3x3", "channel_shuffle(1)")],
    "mean": [("3x4x4", "mean((1, 2))"), ("3x4x4", "mean(0, keepdim=true)")],
    "pad": [("3x4x4", "pad(1)"), ("3x4x4", 'pad((1, 0, 0, 1), mode="reflect")'),
            ("3x4x4", "pad(0)")],
    "adaptive_maxpool": [("3x4x4", "adaptive_maxpool(2)"), ("3x4x4", "adaptive_maxpool(4)")],
    "dropout1d": [("3x4", "dropout1d"), ("3x4", "dropout1d(0.3, inplace=true)")],
    "dropout2d": [("3x4x4", "dropout2d"), ("3x4x4", "dropout2d(0)")],
    "dropout3d": [("2x3x3x3", "dropout3d"), ("2x3x3x3", "dropout3d(1)")],
    "alpha_dropout": [("6", "alpha_dropout"), ("6", "alpha_dropout(0.2, inplace=true)")],
    "stochastic_depth": [("3x4x4", "stochastic_depth(0.2)"),
                         ("3x4x4", 'stochastic_depth(0.5, mode="batch")'),
                         ("3x4x4", "stochastic_depth(0)")],
    # issue 12's structure: merges of named values (`in` is the network's input), resizing,
    # crops (a view) and pieces (views)
    "mul": [("3x4x4", "mul(in, in)"), ("3x4x4", "mul(in, in, in)")],
    "sub": [("3x4x4", "sub(in, in)")],
    "div": [("3x4x4", "div(in, in)")],
    "max": [("3x4x4", "max(in, in)")],
    "min": [("3x4x4", "min(in, in)")],
    "upsample": [("3x4x4", "upsample(2)"), ("3x4x4", 'upsample(like=in, mode="bilinear")'),
                 ("3x4x4", "upsample(1)")],
    "crop": [("3x4x4", "crop(2x3)"), ("3x4x4", "crop(like=in)")],
    "chunk": [("4x3x3", "[a, b] = chunk(2)\n    concat(b, a)"),
              ("4x3x3", "[a] = chunk(1, dim=1)")],
    "split": [("4x3x3", "[a, b] = split((1, 3))\n    concat(b, a)"),
              ("4x3x3", "[a, b] = split(2, dim=-1)\n    concat(a, b, dim=-1)")],
}
# The in-place-capable layers, as written in a file (`add` writes when the plan lets it).
WRITERS = {"relu": "relu(inplace=true)", "relu6": "relu6(inplace=true)",
           "leaky_relu": "leaky_relu(0.2, inplace=true)", "dropout": "dropout(0.5, inplace=true)",
           "silu": "silu(inplace=true)", "hardswish": "hardswish(inplace=true)",
           "hardsigmoid": "hardsigmoid(inplace=true)", "mish": "mish(inplace=true)",
           "selu": "selu(inplace=true)", "elu": "elu(inplace=true)",
           "celu": "celu(inplace=true)", "hardtanh": "hardtanh(inplace=true)",
           "alpha_dropout": "alpha_dropout(0.5, inplace=true)"}


def _program(shape: str, body: str) -> str:
    return f"network t {{\n    input {shape}\n    {body}\n}}\n"


def _target(model, name: str) -> fx.Node:
    return [n for n in model.graph.nodes if n.meta.get("arch_name") == name][-1]


def _tensors(value) -> list:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


class _Probe(fx.Interpreter):
    """Runs the module; for the node `name` records whether its output shares storage with
    one of its inputs, and (`poke`) overwrites its output in place right after it is made."""

    def __init__(self, module, name: str, poke: bool = False):
        super().__init__(module)
        self.name, self.poke, self.shares = name, poke, None

    def run_node(self, n):
        if n.meta.get("arch_name") != self.name:
            return super().run_node(n)
        args, kwargs = self.fetch_args_kwargs_from_env(n)
        ptrs = {t.untyped_storage().data_ptr() for t in _tensors(args)}
        out = getattr(self, n.op)(n.target, args, kwargs)
        if not isinstance(out, torch.Tensor):  # a size read at run time (`crop(like=...)`)
            return out
        self.shares = out.untyped_storage().data_ptr() in ptrs
        if self.poke:
            out.add_(1.0)
        return out


def _writes(model, node: fx.Node) -> bool:
    """Does this node, as lowered, write its first input in place?"""
    import operator

    if node.op == "call_module":
        return bool(getattr(model.get_submodule(node.target), "inplace", False))
    return node.target is operator.iadd


def _all_cases():
    return [(kind, shape, text) for kind, cases in CASES.items() for shape, text in cases]


def test_every_kind_has_cases_and_a_declaration():
    kinds = set(ops.kinds()) - {"input"}
    assert kinds <= set(CASES), f"add aliasing cases for: {sorted(kinds - set(CASES))}"
    for kind in kinds:
        low = LOWERINGS[kind]
        assert low.aliases is not None and low.saves_output is not None, kind
        takes_flag = any(a.name == "inplace" for a in ops.get(kind).args)
        assert (low.inplace == "arg") == takes_flag, kind
        assert low.inplace in ("", "arg", "auto"), kind


@pytest.mark.parametrize("kind", sorted(CASES))
def test_alias_declaration_matches_torch(kind):
    """A kind declared not to alias never returns storage of its input, in either mode; one
    declared to alias does so in at least one case (the declaration is needed)."""
    low = LOWERINGS[kind]
    seen = False
    for shape, text in CASES[kind]:
        net = archdsl.parse(_program(shape, "batchnorm\n    t: " + text))
        model = trace(net.to_torch())
        if low.passthrough:
            assert not [n for n in model.graph.nodes if n.meta.get("arch_name") == "t"]
            seen = True  # no node at all: the input itself flows on
            continue
        node = _target(model, "t")
        if _writes(model, node):
            continue  # an in-place writer shares its input's storage by design
        for training in (True, False):
            model.train(training)
            probe = _Probe(model, "t")
            with torch.no_grad():
                probe.run(torch.randn(BATCH, *net.input_shape))
            assert low.aliases or not probe.shares, f"{text} ({training=}) returns its input"
            seen |= probe.shares
    assert seen or not low.aliases, f"{kind} is declared to alias but never does"


@pytest.mark.parametrize("kind,shape,text", _all_cases(), ids=lambda v: str(v))
def test_saves_output_declaration_matches_torch(kind, shape, text):
    """Overwriting the layer's output after the forward breaks `backward()` exactly when the
    kind is declared to save its output (with the arguments it was lowered with)."""
    net = archdsl.parse(_program(shape, "batchnorm\n    t: " + text))
    model = trace(net.to_torch().train())
    low = LOWERINGS[kind]
    if low.passthrough:
        assert low.saves_output is False
        return
    node = _target(model, "t")
    nid = next(i for i, d in net.ir.nodes() if d["name"] == "t")
    args = with_inplace(net.ir.node(nid)["args"], _writes(model, node))
    x = torch.randn(BATCH, *net.input_shape, requires_grad=True)
    out = _Probe(model, "t", poke=True).run(x)
    try:
        out.sum().backward()
        broke = False
    except RuntimeError as exc:
        assert "modified by an inplace operation" in str(exc), exc
        broke = True
    assert broke == saves_output(low, args), f"{text}: torch says saves_output={broke}"


def _wirings(p: str, w: str) -> dict[str, str]:
    """Ways to put writer `w` after layer `p` (each a network body after `input`)."""
    return {
        "private": f"batchnorm\n    {p}\n    {w}",
        "branch": f"batchnorm\n    concat {{\n        {{ {p}; {w} }}\n        {{ {p} }}\n    }}",
        "caller": f"{p}\n    {w}",
        "read later": f"batchnorm\n    x = {p}\n    y = {w}\n    concat(y, x)",
    }


# Issue 12's writers go through the same `inplace="arg"` path as relu's: each is put after one
# kind of every class of aliasing facts (which is all the plan reads of the kind before it),
# not after every kind, which would multiply this matrix by seven.
OLD_WRITERS = ("relu", "relu6", "leaky_relu", "dropout")


def _fact_class(kind: str):
    low = LOWERINGS[kind]
    saves = low.saves_output if not callable(low.saves_output) else "args"
    return low.passthrough, low.aliases, saves, low.inplace


def _representatives() -> set[str]:
    first: dict = {}
    for kind in CASES:
        first.setdefault(_fact_class(kind), kind)
    return set(first.values())


def _matrix():
    cases = []
    representatives = _representatives()
    for kind, cs in CASES.items():
        shape, text = cs[0]
        for wkind, writer in WRITERS.items():
            if wkind not in OLD_WRITERS and kind not in representatives:
                continue
            for wiring, body in _wirings(text, writer).items():
                cases.append(pytest.param(shape, body, id=f"{kind}-{wkind}-{wiring}"))
        # add's `+=`: two copies of the layer, summed
        cases.append(pytest.param(shape, f"batchnorm\n    add {{ {{ {text} }} {{ {text} }} }}",
                                  id=f"{kind}-add"))
        cases.append(pytest.param(shape, f"add {{ {{ {text} }} {{ {text} }} }}",
                                  id=f"{kind}-add-caller"))
    return cases


def _grads(model, x):
    return [x.grad] + [p.grad for p in model.parameters()]


@pytest.mark.parametrize("shape,body", _matrix())
def test_in_place_after_every_kind(shape, body):
    net = archdsl.parse(_program(shape, body))
    torch.manual_seed(0)
    model = net.to_torch()
    ref = out_of_place(model)
    data = torch.randn(BATCH, *net.input_shape)
    for training in (True, False):
        model.train(training)
        ref.train(training)
        x, x_ref = data.clone().requires_grad_(), data.clone().requires_grad_()
        torch.manual_seed(1)
        out = model(x)
        torch.manual_seed(1)
        want = ref(x_ref)
        assert torch.equal(x.detach(), data), "the caller's input was overwritten"
        torch.testing.assert_close(out, want, rtol=1e-5, atol=1e-6, equal_nan=True)
        if not out.requires_grad:
            continue
        out.sum().backward()  # raises if an in-place layer overwrote a saved tensor
        want.sum().backward()
        for got, exp in itertools.zip_longest(_grads(model, x), _grads(ref, x_ref)):
            if exp is None:
                assert got is None
            else:
                # the ELU family's in-place backward works from its result (exp of a log):
                # the same gradient up to float rounding, summed over a batch norm's inputs
                torch.testing.assert_close(got, exp, rtol=1e-5, atol=1e-5, equal_nan=True)
        for p in itertools.chain(model.parameters(), ref.parameters(), (x, x_ref)):
            p.grad = None


@pytest.mark.parametrize("text,output", [
    # issue 11: eval-mode dropout returns its input, so the relu wrote the linear's output,
    # which the identity branch still read: 2*relu(h) instead of relu(h) + h
    ("network a { input 4  linear(4)  add { { dropout; relu(inplace=true) } {} } }", None),
    # issue 11: through dropout, the relu wrote the caller's tensor
    ("network m { input 4  dropout  relu(inplace=true) }", None),
    # issue 11: softmax keeps its output for backward
    ("network s { input 4  linear(4)  softmax  relu(inplace=true) }", None),
    ("network f { input 2x3x3  conv(2, 1)  add { { flatten; relu(inplace=true) } { flatten } } }",
     None),
])
def test_issue_reproducers(text, output):
    net = archdsl.parse(text)
    torch.manual_seed(0)
    model = net.to_torch()
    ref = out_of_place(model)
    data = torch.randn(3, *net.input_shape)
    for training in (False, True):
        model.train(training)
        ref.train(training)
        x, x_ref = data.clone().requires_grad_(), data.clone().requires_grad_()
        torch.manual_seed(2)
        out = model(x)
        torch.manual_seed(2)
        want = ref(x_ref)
        assert torch.equal(x.detach(), data)
        torch.testing.assert_close(out, want)
        out.sum().backward()
        want.sum().backward()
        torch.testing.assert_close(x.grad, x_ref.grad)


def test_reproducers_in_the_standalone_source_and_onnx(tmp_path):
    """The same plan reaches the generated file and the ONNX export: relu(h) + h there too."""
    ort = pytest.importorskip("onnxruntime")
    net = archdsl.parse("network a { input 4  linear(4)  add { { dropout; relu(inplace=true) } "
                        "{} } }")
    model = net.to_torch().eval()
    namespace: dict = {"__name__": "generated"}
    exec(compile(net.to_source(), "<a.py>", "exec"), namespace)
    other = namespace["A"]().eval()
    other.load_state_dict(model.state_dict())
    x = torch.randn(2, 4)
    h = submodule(model, "0")(x)
    want = torch.relu(h) + h
    with torch.no_grad():
        torch.testing.assert_close(model(x.clone()), want)
        torch.testing.assert_close(other(x.clone()), want)
    path = tmp_path / "a.onnx"
    net.to_onnx(path, model=model)
    (got,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"input": x.numpy()})
    torch.testing.assert_close(torch.from_numpy(got), want.detach(), rtol=1e-4, atol=1e-5)


def test_a_custom_kind_without_declarations_is_taken_as_aliasing():
    """A custom kind that says nothing about aliasing may return its input: no in-place
    layer after it writes through it."""
    from archdsl.backends.torch.lowering import Lowering, ModuleCall, register_lowering

    archdsl.register_op(ops.OpSpec("passalong", "activation"))
    register_lowering("passalong", Lowering(module=lambda a: ModuleCall("Identity")))
    try:
        net = archdsl.parse("network c { input 4  linear(4)  add { { passalong; "
                            "w: relu(inplace=true) } {} } }")
        assert net.to_torch().get_submodule("w").inplace is False
    finally:
        LOWERINGS.pop("passalong", None)
        ops.unregister("passalong")


def test_a_writer_after_one_turned_off_can_still_write():
    """The first leaky_relu would write the caller's tensor, so it is lowered out of place;
    its output is then a new tensor that the second may overwrite (a non-inplace leaky_relu
    keeps its input, not its output, for backward)."""
    net = archdsl.parse("network l { input 4  a: leaky_relu(0.1, inplace=true)\n"
                        "  b: leaky_relu(0.2, inplace=true) }")
    model = net.to_torch()
    assert (model.get_submodule("a").inplace, model.get_submodule("b").inplace) == (False, True)
    x = torch.randn(3, 4, requires_grad=True)
    ref = out_of_place(model)
    x_ref = x.detach().clone().requires_grad_()
    model(x).sum().backward()
    ref(x_ref).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad)


def test_the_analysis_is_linear_in_the_network():
    """20,000 in-place dropouts whose first input is read again at the end: each is turned off
    in turn (a fixpoint over the whole graph took 25 s for 2,000)."""
    import time

    from archdsl.backends.torch.inplace import writers

    text = ("network w { input 4\n x = linear(4)\n" + "dropout(inplace=true)\n" * 20_000
            + " y = relu\n add(x, y) }")
    ir = archdsl.parse(text, limits=archdsl.Limits(max_work=10**9)).ir  # past the budget
    t0 = time.process_time()
    assert writers(ir, ir.live()) == set()
    assert time.process_time() - t0 < 10  # about 0.3 s; generous for a loaded machine
