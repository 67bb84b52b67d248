"""`archdsl import model.onnx` and `from_onnx`: an ONNX file as a short `.arch` file whose
compiled module, given the file's weights, computes what onnxruntime computes from the file.

The files are the custom models of tests/importer/models.py exported by torch.onnx (batch
norms folded into their convolutions, as an eval-mode export writes them), so the test also
sees that the blocks torch.onnx's node names still show are recovered. A fixed point: the
imported file exported by archdsl and imported again gives the same file.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import archdsl  # noqa: E402
from archdsl.backends.importer import Unexpressible, from_onnx  # noqa: E402
from tests.conftest import run_cli  # noqa: E402

from .models import CUSTOM  # noqa: E402


def exported(model, shape) -> bytes:
    buf = io.BytesIO()
    torch.onnx.export(model.eval(), (torch.randn(1, *shape),), buf, dynamo=False,
                      opset_version=17, input_names=["input"],
                      dynamic_axes={"input": {0: "batch"}})
    return buf.getvalue()


def onnxruntime_output(data: bytes, x: torch.Tensor) -> np.ndarray:
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]


def assert_computes_what_onnxruntime_does(result, data: bytes, shape, batch: int = 2):
    """The imported network compiled, given the file's weights (strict), against onnxruntime
    running the file on one random batch: within 1e-5."""
    model = result.network.to_torch().eval()
    model.load_state_dict(result.weights, strict=True)
    x = torch.randn(batch, *shape)
    with torch.no_grad():
        got = model(x).numpy()
    want = onnxruntime_output(data, x)
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-5


@pytest.mark.parametrize("name", sorted(CUSTOM))
def test_imported_file_computes_what_onnxruntime_does(name):
    factory, shape = CUSTOM[name]
    torch.manual_seed(0)
    data = exported(factory(), shape)
    assert_computes_what_onnxruntime_does(from_onnx(data, name=name), data, shape, batch=3)


def test_blocks_torch_onnx_still_names_are_recovered():
    factory, shape = CUSTOM["bottleneck_resnet"]
    result = from_onnx(exported(factory(), shape), name="r")
    assert result.blocks >= 1
    keys = list(result.weights)
    assert "layer1.0.conv1.weight" in keys and "fc.weight" in keys
    assert list(result.network.to_torch().state_dict()) == keys


def test_a_node_without_a_layer_is_listed_with_its_name():
    class Odd(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 1)

        def forward(self, x):
            return torch.exp(self.conv(x))

    with pytest.raises(Unexpressible) as info:
        from_onnx(exported(Odd(), (3, 4, 4)))
    [part] = info.value.missing
    assert (part.path, part.what) == ("/Exp", "ONNX Exp")


def test_command_writes_a_file_that_checks_and_exports_back(tmp_path):
    factory, shape = CUSTOM["basic_resnet"]
    path = tmp_path / "small-resnet.onnx"
    path.write_bytes(exported(factory(), shape))
    out = tmp_path / "net.arch"
    code, _, err = run_cli("import", str(path), "-o", str(out))
    assert code == 0, err
    text = out.read_text()
    assert text.startswith("# From small-resnet.onnx by `archdsl import`")
    assert "input 3x32x32" in text.splitlines()[0]
    assert "network small_resnet(classes = 10) {" in text
    assert run_cli("check", str(out))[0] == 0
    # the fixed point: export the imported network, import that file, the same network
    again = tmp_path / "again.onnx"
    net = archdsl.load(out)
    net.to_onnx(again)
    second = from_onnx(again, name="small_resnet", label="small-resnet.onnx")
    assert second.text == text


def test_command_unexpressible_writes_nothing(tmp_path):
    class Odd(torch.nn.Module):
        def forward(self, x):
            return torch.exp(x)

    path = tmp_path / "odd.onnx"
    path.write_bytes(exported(Odd(), (3, 4)))
    out = tmp_path / "odd.arch"
    code, _, err = run_cli("import", str(path), "-o", str(out))
    assert code == 1
    assert not out.exists()
    assert "/Exp: ONNX Exp: no archdsl layer computes it" in err
    assert "nothing written" in err and "Traceback" not in err


@pytest.mark.parametrize("content, message", [
    (b"not a model", "not an ONNX model"),
    (None, "no such file"),
])
def test_command_bad_files_are_usage_errors(tmp_path, content, message):
    path = tmp_path / "bad.onnx"
    if content is not None:
        path.write_bytes(content)
    code, _, err = run_cli("import", str(path))
    assert code == 2, err
    assert message in err and "Traceback" not in err


def test_input_fixes_what_the_file_leaves_dynamic(tmp_path):
    buf = io.BytesIO()
    torch.onnx.export(torch.nn.Conv2d(3, 4, 3).eval(), (torch.randn(1, 3, 8, 8),), buf,
                      dynamo=False, input_names=["input"],
                      dynamic_axes={"input": {0: "b", 2: "h", 3: "w"}})
    path = tmp_path / "dyn.onnx"
    path.write_bytes(buf.getvalue())
    code, _, err = run_cli("import", str(path))
    assert code == 2 and "--input" in err
    code, stdout, err = run_cli("import", str(path), "--input", "3x10x12")
    assert code == 0, err
    assert "input 3x10x12" in stdout


def test_a_weight_of_the_file_times_a_tensor_is_a_learned_scale():
    """ConvNeXt's layer scale: `x * gamma` with gamma an initializer of C x 1 x 1."""
    class Scaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
            self.gamma = torch.nn.Parameter(torch.rand(4, 1, 1) + 0.5)

        def forward(self, x):
            return self.conv(x) * self.gamma

    data = exported(Scaled(), (3, 6, 6))
    result = from_onnx(data)
    assert "gamma: scale(" in result.text
    assert_computes_what_onnxruntime_does(result, data, (3, 6, 6), batch=2)


def test_reorders_pads_resizes_and_norms_over_the_last_dimension():
    """The Reshapes model of test_onnx_module (permute, a layer norm and a linear over the
    last dimension, a mean, reshapes, a constant pad, nearest and bilinear resizes), all the
    way to an `.arch` file."""
    from .test_onnx_module import Reshapes

    torch.manual_seed(0)
    data = exported(Reshapes(), (2, 6, 5))
    result = from_onnx(data)
    for kind in ("permute(", "layernorm", "pad(", "upsample(", "mean(", "reshape("):
        assert kind in result.text, kind
    assert_computes_what_onnxruntime_does(result, data, (2, 6, 5), batch=3)


class DenseLayer(torch.nn.Module):
    def __init__(self, cin, growth):
        super().__init__()
        self.norm = torch.nn.BatchNorm2d(cin)
        self.conv = torch.nn.Conv2d(cin, growth, 3, padding=1, bias=False)

    def forward(self, features):  # torchvision's DenseNet: the layer concatenates its inputs
        return self.conv(torch.relu(self.norm(torch.cat(features, 1))))


class DenseBlock(torch.nn.ModuleDict):
    def __init__(self):
        super().__init__({f"denselayer{k + 1}": DenseLayer(4 + 2 * k, 2) for k in range(3)})

    def forward(self, x):
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class Dense(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.dense = DenseBlock()
        self.head = torch.nn.Conv2d(10, 3, 1)

    def forward(self, x):
        return self.head(self.dense(self.stem(x)))


def test_layers_that_concatenate_their_inputs_take_one_tensor():
    """A scope reading several tensors only to concatenate them (DenseNet's layers) has the
    concatenation moved before it, so it is a block taking one tensor; a concatenation of
    one tensor is that tensor."""
    data = exported(Dense(), (3, 8, 8))
    result = from_onnx(data)
    assert result.blocks >= 1
    assert_computes_what_onnxruntime_does(result, data, (3, 8, 8), batch=2)


def test_a_structure_written_with_other_names_is_refused():
    """Modules of a list that the model calls one by one, with other work between them:
    archdsl has no scope for them, so the import refuses, naming each."""
    class Listed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList(torch.nn.Conv2d(3, 3, 1) for _ in range(2))

        def forward(self, x):
            for layer in self.layers:
                x = torch.relu(layer(x))
            return x

    from archdsl.backends.importer import from_torch

    with pytest.raises(Unexpressible) as info:
        from_torch(Listed(), (3, 4, 4))
    assert [part.path for part in info.value.missing] == ["layers.0", "layers.1"]


def test_the_keys_are_checked_before_the_file_is_answered(monkeypatch):
    """The last line of defence: a file whose compiled keys are not the model's (here the
    renderer made to drop a label) is refused with the first weight it names otherwise."""
    from archdsl.backends.importer import emit, from_torch

    written = emit.file_text
    monkeypatch.setattr(emit, "file_text",
                        lambda *a: written(*a).replace("head: conv", "conv"))
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 1))
    model.add_module("head", torch.nn.Conv2d(3, 2, 1))
    with pytest.raises(Unexpressible) as info:
        from_torch(model, (3, 4, 4))
    assert any("`head.weight`" in part.reason for part in info.value.missing)


def test_archdsl_exports_a_local_response_norm_that_imports_back(tmp_path):
    """archdsl writes an LRN of odd size as ONNX's `LRN` node, which the import reads."""
    net = archdsl.parse("network z { input 3x12x12  conv(8, 3x3)  relu  lrn(3)  maxpool(2) }")
    path = tmp_path / "z.onnx"
    net.to_onnx(path)
    assert "LRN" in {n.op_type for n in onnx.load(str(path)).graph.node}
    result = from_onnx(path)
    assert "lrn(3" in result.text
    assert_computes_what_onnxruntime_does(result, path.read_bytes(), (3, 12, 12), batch=2)
