"""ONNX files as PyTorch module trees (backends/importer/onnx_module.py), held to onnxruntime.

Each model is exported by torch.onnx, converted back, and run on the same random batch as
onnxruntime runs the file: the outputs must agree within 1e-5. Every operator the converter
knows is in one of the models; what it does not know is listed, every node of it.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from archdsl.backends.importer.onnx_module import (  # noqa: E402
    OnnxFileError,
    OnnxUnsupported,
    onnx_to_module,
)


def exported(model: nn.Module, shape, opset: int = 17) -> bytes:
    buf = io.BytesIO()
    torch.onnx.export(model.eval(), (torch.randn(1, *shape),), buf, dynamo=False,
                      opset_version=opset, input_names=["input"],
                      dynamic_axes={"input": {0: "batch"}})
    return buf.getvalue()


def agrees_with_onnxruntime(data: bytes, shape) -> nn.Module:
    module, input_shape = onnx_to_module(data)
    assert input_shape == tuple(shape)
    x = torch.randn(3, *shape)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    (want,) = session.run(None, {"input": x.numpy()})
    with torch.no_grad():
        got = module(x).numpy()
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-5
    return module


class Convs(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.grouped = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=4)
        self.up = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
        self.norm = nn.InstanceNorm2d(4, affine=True)
        self.prelu = nn.PReLU(4)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x):
        x = F.relu(self.bn(self.stem(x)))
        x = F.leaky_relu(self.grouped(x), 0.2)
        x = self.prelu(self.norm(self.up(x)))
        return self.shuffle(x)


class Activations(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 4, 3, padding=1)

    def forward(self, x):
        a = F.elu(self.conv(x), 0.5) + F.selu(x) - F.celu(x, 2.0)
        b = F.hardswish(x) * F.hardsigmoid(x) / (F.softplus(x) + torch.sigmoid(x))
        c = torch.maximum(torch.tanh(a), torch.sigmoid(b)) + torch.minimum(F.relu6(a), b)
        d = F.hardtanh(c, -0.5, 0.5) + F.mish(c)
        return F.log_softmax(d, dim=1) + F.softmax(d, dim=-1)


class Pools(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, (3, 5), padding=(1, 2))
        self.max = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.avg = nn.AvgPool2d(2, stride=2, count_include_pad=False)
        self.head = nn.Linear(12, 5)

    def forward(self, x):
        x = self.avg(self.max(self.conv(x)))
        g = torch.cat([F.adaptive_avg_pool2d(x, 1), F.adaptive_max_pool2d(x, 1)], dim=1)
        return self.head(torch.flatten(g, 1))


class Reshapes(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 1)
        self.norm = nn.LayerNorm(4)
        self.fc = nn.Linear(4, 6)

    def forward(self, x):
        x = F.pad(self.conv(x), (1, 2, 0, 1), value=0.5)
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = F.interpolate(x, size=(9, 7), mode="bilinear", align_corners=False)
        x = self.fc(self.norm(x.permute(0, 2, 3, 1)))      # a linear over the last dim
        x = x.mean((1, 2), keepdim=False)
        return x.reshape(-1, 2, 3) + x.view(x.size(0), 2, -1)


@pytest.mark.parametrize("model,shape", [
    (Convs(), (3, 16, 16)), (Activations(), (4, 10)), (Pools(), (3, 17, 15)),
    (Reshapes(), (2, 6, 5))], ids=["convs", "activations", "pools", "reshapes"])
def test_converted_module_computes_what_onnxruntime_does(model, shape):
    agrees_with_onnxruntime(exported(model, shape), shape)


def test_module_paths_are_torchs():
    """The scopes torch.onnx writes into node names become the module tree again: the weights
    sit under the original's names (batch norms folded into their convolutions)."""
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(),
                          nn.Sequential(nn.Conv2d(4, 4, 1), nn.ReLU()), nn.Flatten(),
                          nn.LazyLinear(2))
    model(torch.randn(1, 3, 6, 6))
    module = agrees_with_onnxruntime(exported(model, (3, 6, 6)), (3, 6, 6))
    assert list(module.state_dict()) == list(model.state_dict())
    assert isinstance(module.get_submodule("2"), nn.Sequential)


def test_scopes_of_one_structure_share_a_class():
    class Unit(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv = nn.Conv2d(c, c, 3, padding=1)

        def forward(self, x):
            return F.relu(self.conv(x)) + x

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = Unit(3), Unit(3)
            self.c = nn.Conv2d(3, 3, 1)

        def forward(self, x):
            return self.c(self.b(self.a(x)))

    module = agrees_with_onnxruntime(exported(Net(), (3, 8, 8)), (3, 8, 8))
    assert type(module.a) is type(module.b)
    assert type(module.a).__name__ == "Block1"


def test_every_node_without_a_layer_is_listed():
    class Odd(nn.Module):
        def forward(self, x):
            y = torch.exp(x)
            return torch.matmul(y, y.transpose(1, 2)) + torch.sort(x, dim=-1).values.sum()

    with pytest.raises(OnnxUnsupported) as info:
        onnx_to_module(exported(Odd(), (4, 4)))
    found = {(p.op, p.why.split(" (")[0]) for p in info.value.problems}
    assert ("Exp", "no archdsl layer computes it") in found
    assert any(op == "MatMul" for op, _ in found)
    assert all(p.node for p in info.value.problems)


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "net.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(OnnxFileError, match="not an ONNX model"):
        onnx_to_module(path)


def test_an_input_of_unknown_size_asks_for_it():
    buf = io.BytesIO()
    torch.onnx.export(nn.Conv2d(3, 4, 3).eval(), (torch.randn(1, 3, 8, 8),), buf, dynamo=False,
                      input_names=["input"], dynamic_axes={"input": {0: "b", 2: "h", 3: "w"}})
    with pytest.raises(OnnxFileError, match="--input"):
        onnx_to_module(buf.getvalue())
    _, shape = onnx_to_module(buf.getvalue(), input_shape=(3, 8, 8))
    assert shape == (3, 8, 8)
