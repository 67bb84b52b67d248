"""Nearest resizing in ONNX picks PyTorch's rows and columns (backends/torch/onnx_nearest.py).

PyTorch reads `floor(dst * in / out)`, onnxruntime `floor(dst / (out / in))`; for 14 -> 4
they pick other rows. The emulation of PyTorch's indices is held here to PyTorch's kernel
itself (an interpolation of `arange`), onnxruntime's to onnxruntime, and the export end to
end: onnxruntime's output equals torch's exactly, not within a tolerance, because a nearest
resize copies values.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import archdsl  # noqa: E402
from archdsl.backends.torch.onnx_nearest import (  # noqa: E402
    onnxruntime_indices,
    torch_indices,
)

SIZES = range(1, 41)


def kernel_indices(size_in: int, size_out: int | None, factor: float | None) -> np.ndarray:
    """The source positions PyTorch's nearest kernel reads, observed: resize 0, 1, ..., in-1."""
    ramp = torch.arange(size_in, dtype=torch.float32).reshape(1, 1, size_in)
    if factor is None:
        out = torch.nn.functional.interpolate(ramp, size=size_out, mode="nearest")
    else:
        out = torch.nn.functional.interpolate(ramp, scale_factor=factor, mode="nearest")
    return out.reshape(-1).numpy().astype(np.int64)


def ort_indices(size_in: int, size_out: int) -> np.ndarray:
    """The positions onnxruntime's Resize reads for an exported nearest resize to a size."""
    from onnx import TensorProto, helper

    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="nearest",
                            coordinate_transformation_mode="asymmetric",
                            nearest_mode="floor")
    graph = helper.make_graph(
        [node], "resize",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, size_in])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [helper.make_tensor("sizes", TensorProto.INT64, [3], [1, 1, size_out])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    ramp = np.arange(size_in, dtype=np.float32).reshape(1, 1, size_in)
    (y,) = session.run(None, {"x": ramp})
    return y.reshape(-1).astype(np.int64)


def test_emulated_indices_are_the_kernels_for_every_pair_of_sizes():
    wrong = [(n_in, n_out) for n_in, n_out in itertools.product(SIZES, SIZES)
             if not np.array_equal(torch_indices(n_in, n_out, None),
                                   kernel_indices(n_in, n_out, None))]
    assert wrong == []


@pytest.mark.parametrize("factor", [0.25, 0.3, 0.5, 0.7, 1.5, 2.0, 2.5, 3.0, 1 / 3])
def test_emulated_indices_are_the_kernels_for_a_factor(factor):
    for n_in in (n for n in SIZES if int(n * factor) > 0):
        want = kernel_indices(n_in, None, factor)
        assert np.array_equal(torch_indices(n_in, want.size, factor), want), n_in


def test_onnxruntime_emulation_is_onnxruntime():
    pairs = list(itertools.product(range(1, 25), range(1, 25)))
    wrong = [(n_in, n_out) for n_in, n_out in pairs
             if not np.array_equal(onnxruntime_indices(n_in, n_out, None),
                                   ort_indices(n_in, n_out))]
    assert wrong == []


def test_the_two_roundings_do_differ():
    """What the module exists for: without it, 14 -> 4 reads row 6 where PyTorch reads 7."""
    assert torch_indices(14, 4, None).tolist() == [0, 3, 7, 10]
    assert onnxruntime_indices(14, 4, None).tolist() == [0, 3, 6, 10]


def exported_equals_torch(source: str, tmp_path, tolerance: float = 0.0) -> None:
    """Exact by default: a nearest resize copies values; after arithmetic, within `tolerance`
    (another row would differ by far more)."""
    net = archdsl.parse(source)
    model = net.to_torch().eval()
    path = tmp_path / "net.onnx"
    net.to_onnx(path, model=model)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = torch.randn(2, *net.input_shape)
    (got,) = session.run(None, {"input": x.numpy()})
    with torch.no_grad():
        want = model(x).numpy()
    assert got.shape == want.shape
    assert abs(got - want).max() <= tolerance


@pytest.mark.parametrize("n_in,n_out", [(14, 4), (15, 5), (7, 3), (3, 7), (5, 12), (6, 4),
                                        (9, 9), (4, 8), (8, 3)])
def test_export_to_a_size_reads_pytorchs_rows(n_in, n_out, tmp_path):
    exported_equals_torch(
        f'network up {{ input 3x{n_in}  upsample(size=({n_out},), mode="nearest") }}', tmp_path)


def test_export_2d_and_after_a_conv(tmp_path):
    exported_equals_torch(
        'network up { input 2x14x15  conv(3, 3x3, pad=1)  upsample(size=(4, 5)) }', tmp_path,
        tolerance=1e-5)


@pytest.mark.parametrize("factor", ["0.3", "(0.7, 1.5)"])
def test_export_by_a_factor_reads_pytorchs_rows(factor, tmp_path):
    exported_equals_torch(f'network up {{ input 2x13x10  upsample({factor}) }}', tmp_path)


def test_export_leaves_interpolate_as_it_was(tmp_path):
    before = torch.nn.functional.interpolate
    exported_equals_torch('network up { input 1x14  upsample(size=(4,)) }', tmp_path)
    assert torch.nn.functional.interpolate is before
