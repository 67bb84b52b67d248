"""ONNX export of every layer kind of issue 12: exported (with the file checked and compared
by `to_onnx` itself), then run here in onnxruntime on a batch of 3 (the batch axis is dynamic)
and compared with the torch module within 1e-5; and the settings ONNX cannot express answered
with E0601 at the layer, saying why."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import archdsl  # noqa: E402
from archdsl.diagnostics import ArchError  # noqa: E402
from tests.kinds.examples import EXAMPLES, program  # noqa: E402

from .helpers import seeded  # noqa: E402


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_onnxruntime_matches_torch(name, tmp_path):
    net = archdsl.parse(program(name))
    model = seeded(net, 3)
    path = tmp_path / f"{name}.onnx"
    net.to_onnx(path, model=model)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = torch.randn(3, *net.input_shape)
    (got,) = session.run(None, {"input": x.numpy()})
    with torch.no_grad():
        want = model.eval()(x).numpy()
    assert got.shape == want.shape
    assert abs(got - want).max() <= 1e-5


@pytest.mark.parametrize("shape,layer,reason", [
    ("4x3x3", "instancenorm(track=true)", "ONNX's InstanceNormalization always uses the "
     "sample's own statistics"),
    ("4x3x3", "softplus(threshold=2)", "ONNX's Softplus has no threshold"),
    ("4x5x5", "adaptive_maxpool(3)", "its 5x5 input is not a multiple of its 3x3 output"),
])
def test_what_onnx_cannot_express_is_located(shape, layer, reason, tmp_path):
    net = archdsl.parse(f"network n {{\n    input {shape}\n    relu\n    t: {layer}\n}}\n")
    with pytest.raises(ArchError) as info:
        net.to_onnx(tmp_path / "x.onnx")
    (diag,) = info.value.diagnostics
    assert diag.code == "E0601"
    assert diag.span.line == 4  # at the layer
    label = archdsl.ops.get(layer.split("(")[0]).label(net.ir.node(net.ir.output)["args"])
    assert f"cannot export layer `t` ({label}) to ONNX: {reason}" in diag.message
    assert not (tmp_path / "x.onnx").exists()
