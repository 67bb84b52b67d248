"""ONNX export: passes onnx.checker; onnxruntime agrees with torch within 1e-4."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import archdsl  # noqa: E402
from archdsl.fileio import OutputRefused  # noqa: E402

from .helpers import branched, seeded  # noqa: E402


@pytest.mark.parametrize("which", ["lenet5", "branched"])
def test_onnxruntime_matches_torch(which, tmp_path):
    net = archdsl.zoo("lenet5") if which == "lenet5" else branched()
    model = seeded(net, 7)
    path = tmp_path / f"{which}.onnx"
    assert net.to_onnx(path, model=model) == str(path)
    assert model.training  # export puts it in eval mode only for the export
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == ["input"]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = torch.randn(3, *net.input_shape)  # batch 3: the batch axis is dynamic
    (got,) = session.run(None, {"input": x.numpy()})
    with torch.no_grad():
        want = model.eval()(x).numpy()
    assert got.shape == want.shape
    assert abs(got - want).max() <= 1e-4


def test_refuses_arch_output(tmp_path):
    with pytest.raises(OutputRefused):
        archdsl.zoo("lenet5").to_onnx(tmp_path / "x.arch")
    assert not (tmp_path / "x.arch").exists()
