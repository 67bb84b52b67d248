"""Lowering: module tree and state_dict order, straight-line forwards, dead branches, the
layers' locations, and the forward's numbers against torch.nn.functional written out by hand."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import archdsl  # noqa: E402
from archdsl.backends.torch import ArchModule, LoweringError, register_lowering  # noqa: E402
from archdsl.backends.torch.lowering import LOWERINGS, Lowering, ModuleCall  # noqa: E402
from archdsl.backends.torch.module import trace  # noqa: E402
from tests.conftest import reference  # noqa: E402

from .helpers import branched, seeded  # noqa: E402


def test_lenet5_modules_in_file_order():
    model = archdsl.zoo("lenet5").to_torch()
    assert isinstance(model, ArchModule) and type(model).__name__ == "Lenet5"
    # the unnamed (numbered) activations are named after their kind: no state_dict key moves
    assert [k for k, _ in model.named_children()] == [
        "conv1", "tanh", "pool1", "conv2", "tanh2", "pool2", "flatten", "fc1", "tanh3", "fc2",
        "tanh4", "output"]
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == [
        ("conv1.weight", (6, 1, 5, 5)), ("conv1.bias", (6,)),
        ("conv2.weight", (16, 6, 5, 5)), ("conv2.bias", (16,)),
        ("fc1.weight", (120, 400)), ("fc1.bias", (120,)),
        ("fc2.weight", (84, 120)), ("fc2.bias", (84,)),
        ("output.weight", (10, 84)), ("output.bias", (10,))]
    assert model(torch.zeros(3, 1, 32, 32)).shape == (3, 10)


def test_resnet50_state_dict_is_torchvisions():
    ref = reference("torchvision/resnet50")
    model = archdsl.zoo("resnet50").to_torch()
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == ref["state_dict"]
    assert sum(p.numel() for p in model.parameters()) == ref["total_params"]
    # A stage is an nn.Sequential of Bottleneck blocks; leaves are the torch.nn layers.
    assert type(model.layer1) is torch.nn.Sequential and len(model.layer1) == 3
    assert type(model.get_submodule("layer1.0")).__name__ == "Bottleneck"
    assert type(model.layer1[0]) is type(model.layer4[2])  # one class for every instance
    assert isinstance(model.get_submodule("layer1.0.downsample.0"), torch.nn.Conv2d)
    assert model.layer1[1].downsample is None


def test_dead_branch_keeps_its_modules_but_forward_skips_it():
    # GoogLeNet's auxiliary heads do not reach the output: registered (after inception5b, as
    # torchvision has them) but never computed.
    net = archdsl.zoo("googlenet", aux=True)
    model = net.to_torch()
    names = [k for k, _ in model.named_children()]
    assert names.index("aux1") == names.index("inception5b") + 1
    assert names.index("aux2") == names.index("aux1") + 1
    assert sum(p.numel() for p in model.parameters()) == 13_004_888  # torchvision aux_logits
    assert "aux1" not in model.code and "aux2" not in model.code
    called = {n.target for n in trace(model).graph.nodes if n.op == "call_module"}
    assert not any(t.startswith("aux") for t in called)


def test_forward_is_straight_line_code_with_arch_locations():
    model = branched().to_torch()
    body = model.code.strip().split("\n")[1:]
    assert body and not any(w in line for line in body for w in ("if ", "for ", "while "))
    assert "torch.cat([b1, b3, b5, bp], 1)" in model.source  # Mix.forward
    assert "        out += x\n" in model.source  # a residual add accumulates
    assert type(model.mix).__name__ == "Mix" and type(model.res).__name__ == "Res"
    graph = trace(model).graph
    for node in graph.nodes:
        if node.op in ("call_module", "call_function"):
            info = node.meta["arch_info"]
            assert ".arch:" in info.location and node.meta["arch_name"] == info.name
    conv = next(n for n in graph.nodes if n.target == "res.conv1")
    assert conv.meta["arch_info"].location.endswith("branched.arch:18:18")
    cat = next(n for n in graph.nodes if n.meta.get("arch_name") == "mix.concat")
    assert cat.target is torch.cat


def test_branched_forward_equals_functional_by_hand():
    model = seeded(branched(), 1).eval()
    p = dict(model.named_parameters())
    b = dict(model.named_buffers())

    def conv(x, name, pad=0):
        return F.conv2d(x, p[f"{name}.weight"], p.get(f"{name}.bias"), padding=pad)

    def bn(x, name):
        return F.batch_norm(x, b[f"{name}.running_mean"], b[f"{name}.running_var"],
                            p[f"{name}.weight"], p[f"{name}.bias"], False, 0.1, 1e-5)

    x = torch.randn(2, 3, 16, 16)
    s = F.relu(conv(x, "stem", 1))
    m = F.relu(torch.cat([conv(s, "mix.b1"),
                          conv(F.relu(conv(s, "mix.b3.0")), "mix.b3.2", 1),
                          conv(s, "mix.b5.0", 2),
                          conv(F.max_pool2d(s, 3, 1, 1), "mix.bp.1")], dim=1))
    q = F.max_pool2d(m, 2)
    r = F.relu(bn(conv(F.relu(bn(conv(q, "res.conv1", 1), "res.bn1")), "res.conv2", 1),
                  "res.bn2") + q)
    want = F.linear(r.mean((2, 3)), p["head.fc.weight"], p["head.fc.bias"])
    with torch.no_grad():
        got = model(x)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_lowering_table_covers_every_registered_kind():
    from archdsl import ops

    assert set(ops.kinds()) <= set(LOWERINGS)


@pytest.mark.parametrize("text, cls, check", [
    ("conv(4, 3, dilation=2, groups=2)", "Conv1d",
     lambda m: m.dilation == (2,) and m.groups == 2),
    ("maxpool(3, stride=2, pad=1, ceil=true)", "MaxPool1d", lambda m: m.ceil_mode),
    ("avgpool(2x2, count_include_pad=false)", "AvgPool2d", lambda m: not m.count_include_pad),
    ("avgpool(global=true)", "AdaptiveAvgPool2d", lambda m: m.output_size == 1),
    ("maxpool(global=true)", "AdaptiveMaxPool2d", lambda m: m.output_size == 1),
    ("adaptive_avgpool(2x3)", "AdaptiveAvgPool2d", lambda m: m.output_size == (2, 3)),
    ("batchnorm(eps=0.001)", "BatchNorm2d", lambda m: m.eps == 0.001),
    ("lrn(5, alpha=0.0001, beta=0.75, k=2)", "LocalResponseNorm", lambda m: m.k == 2),
    ("softmax", "Softmax", lambda m: m.dim == 1),
    ("softmax(-1)", "Softmax", lambda m: m.dim == -1),
    ("leaky_relu(0.2)", "LeakyReLU", lambda m: m.negative_slope == 0.2),
    ("gelu(approximate=\"tanh\")", "GELU", lambda m: m.approximate == "tanh"),
    ("dropout(0.3)", "Dropout", lambda m: m.p == 0.3),
])
def test_each_kind_lowers_to_its_module(text, cls, check):
    shape = "4x9" if cls.endswith("1d") else "4x9x9"
    net = archdsl.parse(f"network t {{ input {shape}\n layer: {text} }}")
    module = net.to_torch().get_submodule("layer")
    assert type(module).__name__ == cls and check(module)
    y = net.to_torch()(torch.randn(2, *net.input_shape))
    assert tuple(y.shape[1:]) == net.output_shape


def test_identity_leaves_no_module_and_no_node():
    net = archdsl.parse("network t { input 2x4x4\n conv(3, 1x1); identity; relu }")
    model = net.to_torch()
    assert [k for k, _ in model.named_children()] == ["0", "relu"]
    assert [n.op for n in trace(model).graph.nodes] == ["placeholder", "call_module",
                                                        "call_module", "output"]


def test_custom_kind_needs_a_lowering():
    from archdsl.argspec import ArgSpec  # noqa: F401  (custom ops come in through Python)
    from archdsl.ops import OpSpec, unregister

    archdsl.register_op(OpSpec("swish_t", "activation"), replace=True)
    try:
        net = archdsl.parse("network t { input 4 \n swish_t }")
        LOWERINGS.pop("swish_t", None)
        with pytest.raises(LoweringError, match=r"swish_t.*register_lowering"):
            net.to_torch()
        register_lowering("swish_t", Lowering(module=lambda a: ModuleCall("SiLU")))
        x = torch.randn(2, 4)
        torch.testing.assert_close(net.to_torch()(x), F.silu(x))
    finally:  # the registry is global: leave it as the other tests expect it
        LOWERINGS.pop("swish_t", None)
        unregister("swish_t")


def test_model_carries_its_input_shape():
    import copy
    import pickle

    model = archdsl.zoo("lenet5").to_torch()
    assert model.input_shape == (1, 32, 32)
    assert model(torch.randn(2, *model.input_shape)).shape == (2, 10)
    assert copy.deepcopy(model).input_shape == (1, 32, 32)
    assert pickle.loads(pickle.dumps(model)).input_shape == (1, 32, 32)
    assert branched().to_torch(optimize=True).input_shape == (3, 16, 16)
