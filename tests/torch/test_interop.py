"""The compiled module as an ordinary torch module: device/dtype, TorchScript, torch.export,
torch.compile (eager backend), state_dict round trips, pickling and deepcopy."""

from __future__ import annotations

import copy
import io

import pytest

torch = pytest.importorskip("torch")

import archdsl  # noqa: E402
from archdsl.backends.torch import ArchModule  # noqa: E402

from .helpers import branched, seeded  # noqa: E402

DEAD = """network dead { input 3x8x8
    h = stem: conv(4, 3x3)
    { h; aux: { flatten; linear(2) } }
    h
    flatten; fc: linear(3) }"""


@pytest.fixture(scope="module")
def net():
    return branched()


def test_dtype_and_device(net):
    model = net.to_torch(dtype=torch.float64, device="cpu").eval()
    assert {p.dtype for p in model.parameters()} == {torch.float64}
    assert model(torch.randn(2, 3, 16, 16, dtype=torch.float64)).dtype == torch.float64
    meta = net.to_torch(device="meta")
    assert {p.device.type for p in meta.parameters()} == {"meta"}


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
def test_torchscript(net):
    model = seeded(net).eval()
    scripted = torch.jit.script(model)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(scripted(x), model(x))


def test_torch_export(net):
    model = seeded(net).eval()
    x = torch.randn(2, 3, 16, 16)
    exported = torch.export.export(model, (x,))
    with torch.no_grad():
        torch.testing.assert_close(exported.module()(x), model(x))


def test_torch_compile_eager_backend(net):
    # The eager backend checks that dynamo traces the module (our __call__ included) without
    # needing a C++ toolchain; inductor is measured in bench/, not here.
    model = seeded(net).eval()
    compiled = torch.compile(model, backend="eager", fullgraph=True)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x))


def test_state_dict_round_trip_through_torch_save(net, tmp_path):
    a, b = seeded(net, 1).eval(), seeded(net, 2).eval()
    x = torch.randn(2, 3, 16, 16)
    assert not torch.allclose(a(x), b(x))
    torch.save(a.state_dict(), tmp_path / "w.pt")
    b.load_state_dict(torch.load(tmp_path / "w.pt", weights_only=True))
    torch.testing.assert_close(b(x), a(x))


def test_pickle_and_deepcopy_keep_dead_branches():
    model = archdsl.parse(DEAD).to_torch()
    keys = list(model.state_dict())
    assert keys == ["stem.weight", "stem.bias", "aux.1.weight", "aux.1.bias", "fc.weight",
                    "fc.bias"]
    assert "aux" not in model.code
    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    clone = copy.deepcopy(model)
    x = torch.randn(2, 3, 8, 8)
    for other in (loaded, clone):
        assert isinstance(other, ArchModule) and type(other).__name__ == "Dead"
        assert list(other.state_dict()) == keys
        torch.testing.assert_close(other(x), model(x))


def test_training_step_runs(net):
    model = seeded(net).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss = torch.nn.functional.cross_entropy(model(torch.randn(4, 3, 16, 16)),
                                             torch.tensor([0, 1, 2, 3]))
    loss.backward()
    opt.step()
    assert all(p.grad is not None for p in model.parameters())
