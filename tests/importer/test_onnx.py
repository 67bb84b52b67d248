"""`archdsl import model.onnx`: an ONNX file that torch exported with its weights' names
(constant folding off, batch norms kept) imports to the file of the torch model it came
from: the compiled module loads that model's state_dict with strict=True and gives its
outputs. An ONNX operator archdsl has no kind for is listed, exit 1; a file that is not ONNX
is a usage error."""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from archdsl.backends.importer import Unexpressible, from_onnx  # noqa: E402
from archdsl.backends.importer.verify import round_trip  # noqa: E402
from tests.conftest import run_cli  # noqa: E402
from tests.importer import models  # noqa: E402

ONNX_MODELS = ["sequential_cnn", "bottleneck_resnet", "basic_resnet", "inception"]


def export(model, shape, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.randn(1, *shape),), str(path), dynamo=False,
                          do_constant_folding=False,
                          training=torch.onnx.TrainingMode.PRESERVE)


@pytest.mark.parametrize("name", ONNX_MODELS)
def test_onnx_round_trip(tmp_path, name):
    factory, shape = models.CUSTOM[name]
    torch.manual_seed(0)
    model = factory()
    export(model, shape, tmp_path / "m.onnx")
    result = from_onnx(tmp_path / "m.onnx", name=name)
    assert result.network.input_shape == shape  # read from the file
    assert round_trip(model, result.network, shape) == []


def test_onnx_blocks_are_recovered(tmp_path):
    factory, shape = models.CUSTOM["bottleneck_resnet"]
    export(factory(), shape, tmp_path / "r.onnx")
    text = from_onnx(tmp_path / "r.onnx").text
    assert "block unit(width, stride = 1) {" in text
    assert "downsample: if in.channels != 4 * width {" in text
    assert "layer2: [unit(16, stride=2), unit(16) * 2]" in text


def test_onnx_unsupported_operator_is_listed(tmp_path):
    class Odd(torch.nn.Module):
        def forward(self, x):
            return torch.exp(x)

    export(Odd(), (3, 4, 4), tmp_path / "odd.onnx")
    with pytest.raises(Unexpressible) as info:
        from_onnx(tmp_path / "odd.onnx")
    assert "ONNX Exp" in info.value.missing[0].what
    code, _, err = run_cli("import", str(tmp_path / "odd.onnx"), "-o", str(tmp_path / "o.arch"))
    assert code == 1 and "ONNX Exp" in err and not (tmp_path / "o.arch").exists()


def test_onnx_cli(tmp_path):
    factory, shape = models.CUSTOM["sequential_cnn"]
    export(factory(), shape, tmp_path / "s.onnx")
    out = tmp_path / "s.arch"
    code, _, err = run_cli("import", str(tmp_path / "s.onnx"), "-o", str(out), "--name", "s")
    assert code == 0, err
    assert out.read_text().startswith("# From s.onnx by `archdsl import`")
    assert run_cli("check", str(out))[0] == 0
    (tmp_path / "bad.onnx").write_text("not onnx")
    code, _, err = run_cli("import", str(tmp_path / "bad.onnx"))
    assert code == 2 and "not an ONNX model" in err
    code, _, err = run_cli("import", str(tmp_path / "none.onnx"))
    assert code == 2 and "no such file" in err
