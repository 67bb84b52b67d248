"""Random valid architectures (tests/strategies.py, hypothesis) compiled and compared with the IR
by `tests/fuzz/differential.compare` (shapes, parameters, values, aliasing, MACs), the
standalone source against `to_torch`, and `optimize(model)` against the eager module.
Hypothesis shrinks a failing program.

Examples per run come from the hypothesis profile (tests/conftest.py): 200, derandomized, in
CI; `ARCHDSL_HYPOTHESIS_PROFILE=long` runs 5,000 fresh ones. The seeded runner over every back
end is tests/fuzz/valid.py (`make fuzz-valid`).
"""

from __future__ import annotations

import pytest
from hypothesis import event, given, note, settings

import archdsl
from archdsl.backends.torch.module import submodule

from .strategies import architectures

torch = pytest.importorskip("torch")
from tests.fuzz.checks import joined  # noqa: E402
from tests.fuzz.differential import BATCH, compare  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors: threads only cost


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


def test_inplace_activation_in_a_branch():
    """An in-place layer whose input another branch still reads (or that is the caller's
    input) is lowered out of place; one whose input has no other reader stays in place."""
    net = archdsl.parse("network t { input 2x3x3\n add { { relu(inplace=true) } {} } }")
    model = net.to_torch()
    assert not compare(net, model)
    assert submodule(model, "0").inplace is False
    chain = archdsl.parse("network t { input 2x3x3\n conv(2, 1x1); relu(inplace=true) }")
    assert submodule(chain.to_torch(), "1").inplace is True


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
        assert torch.allclose(joined(model(x.clone())), joined(other(x.clone())), equal_nan=True)


@given(architectures())
def test_optimized_module_equals_eager(arch):
    """`optimize(model)` (batch norms folded, channels-last where exact) computes what the
    eager module computes in eval mode, with non-trivial batch-norm statistics."""
    from archdsl.backends.torch.optimize import optimize
    from tests.fuzz.checks import OPT_ATOL, OPT_RTOL, _close, _randomize_norms, joined

    note(arch.text)
    net = archdsl.parse(arch.text)
    model = _randomize_norms(net.to_torch().eval())
    fast = optimize(model)
    x = torch.randn(BATCH, *net.input_shape)
    with torch.no_grad():
        assert _close(joined(fast(x.clone())), joined(model(x.clone())), OPT_RTOL, OPT_ATOL)


@pytest.mark.parametrize("text", [
    "network p { input 3x4x5  permute(1, 2, 0); conv(2, 1x1) }",
    "network t { input 3x4x5  transpose(0, 2); conv(2, 1x1) }",
    'network l { input 3x4x5  layernorm(over="channels"); conv(2, 1x1) }',
])
def test_a_reordered_layout_handed_on_is_found(text, monkeypatch):
    """The reorders copy into the default layout (runtime.py); the comparison finds a lowering
    that hands on torch.permute's view instead."""
    import torch

    net = archdsl.parse(text)
    assert compare(net, net.to_torch()) == []
    monkeypatch.setattr(torch.Tensor, "clone", lambda self, **kw: self)  # the view itself
    assert any("not PyTorch's default order" in p for p in compare(net, net.to_torch()))
