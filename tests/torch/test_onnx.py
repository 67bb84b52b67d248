"""ONNX export: passes onnx.checker; onnxruntime agrees with torch within 1e-4."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import archdsl  # noqa: E402
from archdsl.backends.torch.module import submodule  # noqa: E402
from archdsl.fileio import OutputRefused  # noqa: E402
from tests.conftest import run_cli  # noqa: E402

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


# ---------------------------------------------------------------- layers ONNX cannot express
# (QA: `export vgg11 --input 3x100x100` and `lrn` then `adaptive_avgpool` ended in exit 3 with
# the exporter's TorchScript graph dumped on stdout.)

def _arch(tmp_path, text: str):
    path = tmp_path / "net.arch"
    path.write_text(text)
    return path


def test_adaptive_pool_that_does_not_divide_is_located_error(tmp_path, capfd):
    out = tmp_path / "x.onnx"
    code, stdout, err = run_cli("export", "vgg11", "--input", "3x100x100", "-o", str(out))
    assert code == 1 and stdout == ""
    assert capfd.readouterr().out == ""
    assert err.startswith("zoo:vgg11:9:14: error[E0601]: cannot export layer "
                          "`avgpool` (adaptive_avgpool 7x7) to ONNX: its 3x3 input is not a "
                          "multiple of its 7x7 output\n"), err
    assert "help: use an input size that gives `avgpool` a multiple of 7x7" in err
    assert not out.exists()


def test_adaptive_pool_that_divides_exports_as_average_pool(tmp_path):
    # After lrn the exporter no longer sees the input size, so it gave up even though 16
    # divides by 4; the pool is exported as the plain average pool it equals.
    path = _arch(tmp_path, "network n {\n    input 3x16x16\n    lrn(5)\n"
                           "    adaptive_avgpool(4)\n}\n")
    net = archdsl.load(path)
    model = seeded(net, 1)
    out = tmp_path / "n.onnx"
    net.to_onnx(out, model=model)
    proto = onnx.load(str(out))
    assert "AveragePool" in {n.op_type for n in proto.graph.node}
    assert submodule(model, "1").__class__.__name__ == "AdaptiveAvgPool2d"  # put back
    x = torch.randn(2, 3, 16, 16)
    (got,) = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(
        None, {"input": x.numpy()})
    with torch.no_grad():
        assert abs(got - model.eval()(x).numpy()).max() <= 1e-5


def test_exporter_failure_is_mapped_to_its_layer(tmp_path, monkeypatch, capfd):
    # Without the static check the exporter itself fails: its message names the operator,
    # which leads to the layer; its output (a TorchScript graph) must not reach the terminal.
    from archdsl.backends.torch import onnx_export

    monkeypatch.setattr(onnx_export, "_adaptive_pools", lambda ir: ([], []))
    path = _arch(tmp_path, "network n {\n    input 3x6x6\n    conv(4, 1x1)\n"
                           "    pool: adaptive_avgpool(4)\n}\n")
    out = tmp_path / "n.onnx"
    code, stdout, err = run_cli("export", str(path), "-o", str(out))
    assert code == 1 and stdout == ""
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
    first = err.splitlines()[0]
    assert first.endswith(":4:11: error[E0601]: cannot export layer `pool` (adaptive_avgpool "
                          "4x4) to ONNX: ONNX export of operator adaptive_avg_pool2d, output "
                          "size that are not factor of input size"), first
    assert "graph(" not in err and not out.exists()


def test_unmapped_exporter_failure_points_at_the_network(tmp_path, monkeypatch):
    from archdsl.backends.torch import onnx_export

    def boom(*args, **kw):
        raise torch.onnx.errors.OnnxExporterError("something odd\ngraph(%x): ...")

    monkeypatch.setattr(onnx_export, "_export", boom)
    out = tmp_path / "l.onnx"
    code, stdout, err = run_cli("export", "lenet5", "-o", str(out))
    assert code == 1 and stdout == ""
    assert ("error[E0601]: cannot export network `lenet5` to ONNX: something odd\n"
            in err.splitlines(keepends=True)[0]), err
    assert "graph(" not in err and not out.exists()
    with pytest.raises(archdsl.ArchError):  # the API raises ExportError, an ArchError
        archdsl.zoo("lenet5").to_onnx(out)


def test_catalogue_examples_export_as_they_claim(tmp_path):
    from archdsl.codes import CATALOGUE

    entry = CATALOGUE["E0601"]
    with pytest.raises(archdsl.ArchError) as info:
        archdsl.parse(entry.wrong).to_onnx(tmp_path / "wrong.onnx")
    assert [d.code for d in info.value.diagnostics] == ["E0601"]
    assert all(d.span is not None for d in info.value.diagnostics)
    archdsl.parse(entry.right).to_onnx(tmp_path / "right.onnx")


# ---------------------------------------------------------------- determinism (--seed)

def test_export_is_byte_identical_for_a_seed(tmp_path):
    files = [tmp_path / f"{i}.onnx" for i in range(3)]
    for f, seed in zip(files, ("0", "0", "1"), strict=True):
        code, _, err = run_cli("export", "lenet5", "--seed", seed, "-o", str(f))
        assert code == 0, err
    a, b, c = (f.read_bytes() for f in files)
    assert a == b and a != c
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    archdsl.zoo("lenet5").to_onnx(files[0], seed=0)  # leaves the global random state alone
    assert torch.equal(torch.rand(1), before)
    assert files[0].read_bytes() == a
