"""`archdsl export` writes only files that onnxruntime runs and that compute what torch does.

Issue 11's reproducers (a ceil-mode pool declared 4x4 where torch and onnxruntime give 3x3, and
the file did not load with a `linear` after it; `pad="same"` with a dilation, which onnxruntime
refuses; `batchnorm(track=false)`, an internal error); the pooling shape rule against torch for
every combination of window, stride, padding, dilation and ceil mode; the same pools exported
and run in onnxruntime; and the check itself, made to fail on purpose: a located E0601, exit 1,
no "wrote", nothing written.
"""

from __future__ import annotations

import itertools

import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import archdsl  # noqa: E402
from archdsl.backends.torch import onnx_rewrites, onnx_verify  # noqa: E402
from archdsl.backends.torch.onnx_rewrites import ceil_pool_fix  # noqa: E402
from archdsl.ops.spatial import window_out  # noqa: E402
from tests.conftest import run_cli  # noqa: E402
from tests.strategies import pool_size  # noqa: E402

REPRODUCERS = {
    "ceil pool": "network p { input 1x5x5  maxpool(2, stride=2, pad=1, ceil=true) }",
    "ceil pool, linear": "network p { input 1x5x5  maxpool(2, stride=2, pad=1, ceil=true)\n"
                         "  flatten; linear(2) }",
    "same, dilated": 'network p { input 1x7x7  conv(1, 3, pad="same", dilation=2) }',
    "same, even": 'network p { input 2x6x5  conv(3, 2x4, pad="same", dilation=3) }',
    "same, 3-D": 'network p { input 1x5x6x7  conv(2, 2x3x4, pad="same", dilation=(1, 2, 1)) }',
    "batch statistics": "network p { input 3x4x4  batchnorm(track=false) }",
    "batch statistics, vector": "network p { input 3  batchnorm(track=false, affine=false) }",
    # found by tests/fuzz/valid.py: after lrn torch.onnx no longer knows the channel count,
    # which it needs to make a norm's missing scale ("batch_norm for unknown channel size")
    "no affine after lrn": "network p { input 2x3x3  lrn(2)  batchnorm(affine=false) }",
    "no affine, vector": "network p { input 1x2x2  lrn(2)  flatten  batchnorm(affine=false) }",
}


def _run_onnx(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(None, {"input": x.numpy()})[0])


@pytest.mark.parametrize("name", REPRODUCERS)
def test_issue_reproducers_export_files_that_run(name, tmp_path):
    net = archdsl.parse(REPRODUCERS[name])
    torch.manual_seed(0)
    model = net.to_torch()
    out = tmp_path / "p.onnx"
    net.to_onnx(out, model=model)
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto, full_check=True)
    dims = proto.graph.output[0].type.tensor_type.shape.dim[1:]
    if all(d.HasField("dim_value") for d in dims):  # (an explicit Pad leaves them symbolic)
        assert tuple(d.dim_value for d in dims) == net.output_shape  # 1x3x3, not 4x4
    x = torch.randn(3, *net.input_shape)
    with torch.no_grad():
        want = model.eval()(x)
    torch.testing.assert_close(_run_onnx(out, x), want, rtol=1e-4, atol=1e-5)


def test_ceil_pool_keeps_its_initializer_names(tmp_path):
    """The rewrites share the layer's parameters under the same names."""
    net = archdsl.parse('network p { input 2x7x7  c: conv(2, 3, pad="same", dilation=2)\n'
                        "  b: batchnorm(track=false) }")
    net.to_onnx(tmp_path / "p.onnx")
    names = {i.name for i in onnx.load(str(tmp_path / "p.onnx")).graph.initializer}
    assert {"c.weight", "c.bias", "b.weight", "b.bias"} <= names


def test_cli_reproducer_says_checked(tmp_path):
    src = tmp_path / "p.arch"
    src.write_text(REPRODUCERS["ceil pool, linear"] + "\n")
    out = tmp_path / "p.onnx"
    code, stdout, err = run_cli("export", str(src), "-o", str(out))
    assert code == 0, err
    assert stdout == ""  # status lines go to standard error (issue 15)
    assert err == f"wrote {out}: p (20 parameters) as ONNX opset 17, checked with " \
                  "onnxruntime\n"


# ---------------------------------------------------------------- pools: the shape rule
SIZES = range(1, 9)
WINDOWS = range(1, 5)
STRIDES = range(1, 4)
DILATIONS = (1, 2)


def _pool_configs():
    for k, s, d, ceil in itertools.product(WINDOWS, STRIDES, DILATIONS, (False, True)):
        for p in range(k // 2 + 1):  # torch: padding at most half the window
            yield k, s, p, d, ceil


def test_pool_shape_rule_equals_torch_for_every_combination():
    checked = 0
    for k, s, p, d, ceil in _pool_configs():
        for n in SIZES:
            if n + 2 * p - d * (k - 1) - 1 < 0:
                continue  # the window does not fit: a shape error (E0301), tested elsewhere
            x = torch.zeros(1, 1, n, n + 1)
            got = torch.nn.functional.max_pool2d(x, k, s, p, d, ceil_mode=ceil).shape[2:]
            assert (window_out(n, k, s, p, d, ceil), window_out(n + 1, k, s, p, d, ceil)) == \
                tuple(got), (n, k, s, p, d, ceil)
            assert pool_size(n, k, s, p, d, ceil) == got[0]
            if d == 1:
                avg = torch.nn.functional.avg_pool2d(x, k, s, p, ceil_mode=ceil).shape[2:]
                assert tuple(avg) == tuple(got)
            checked += 1
    assert checked > 500


def _branch(kind: str, k, s, p, d, ceil, extra="") -> str:
    dil = f", dilation={d}" if kind == "maxpool" and d != 1 else ""
    return (f"{{ {kind}({k}, stride={s}, pad={p}{dil}{', ceil=true' if ceil else ''}{extra}); "
            "flatten }")


def _pool_module(layer: str, k, s, p, d, ceil, inclusive):
    if layer == "maxpool":
        return torch.nn.MaxPool2d(k, s, p, d, ceil_mode=ceil)
    return torch.nn.AvgPool2d(k, s, p, ceil_mode=ceil, count_include_pad=inclusive)


def _exports_as_torch(net, out) -> None:
    """Export `net` and check onnxruntime gives what the module gives on another batch."""
    torch.manual_seed(0)
    model = net.to_torch().eval()
    net.to_onnx(out, model=model)
    x = torch.randn(2, *net.input_shape)
    with torch.no_grad():
        want = model(x)
    torch.testing.assert_close(_run_onnx(out, x), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n", [3, 5, 6])
@pytest.mark.parametrize("kind", ["maxpool", "avgpool", "avgpool_exclusive"])
def test_every_pool_combination_exports_and_runs_as_torch(kind, n, tmp_path):
    """One network per input size (n x n+1) holds every pool as a branch (flattened,
    concatenated), so one export covers them all; onnxruntime must load it and agree with
    torch. The few that ONNX cannot express are refused, each with its reason."""
    layer = "maxpool" if kind == "maxpool" else "avgpool"
    extra = ", count_include_pad=false" if kind == "avgpool_exclusive" else ""
    branches, refused = [], []
    for k, s, p, d, ceil in _pool_configs():
        if (layer == "avgpool" and d != 1) or n + 2 * p - d * (k - 1) - 1 < 0:
            continue
        probe = torch.randn(1, 1, n, n + 1)
        module = _pool_module(layer, k, s, p, d, ceil, kind == "avgpool")
        if torch.isinf(module(probe)).any():
            continue  # a max window entirely in padding: -inf in torch (refused, see below)
        text = _branch(layer, k, s, p, d, ceil, extra)
        if isinstance(ceil_pool_fix(module, (1, n, n + 1)), str):
            refused.append(text)
        else:
            branches.append(text)
    # only average pools that count padding, in ceil mode, dropping a window along one axis
    # and keeping a partial one along the other, have no ONNX form
    assert len(refused) <= len(branches) // 20
    assert all(kind == "avgpool" and "ceil=true" in r for r in refused)
    text = (f"network pools {{\n    input 2x{n}x{n + 1}\n    concat {{\n        "
            + "\n        ".join(branches) + "\n    }\n}\n")
    net = archdsl.parse(text)
    _exports_as_torch(net, tmp_path / "pools.onnx")
    for branch in refused:
        layer_text = branch[2:-len("; flatten }")]
        net = archdsl.parse(f"network p {{\n    input 2x{n}x{n + 1}\n    {layer_text}\n}}\n")
        with pytest.raises(archdsl.ArchError, match="ONNX's ceil mode can express"):
            net.to_onnx(tmp_path / "refused.onnx")
        assert not (tmp_path / "refused.onnx").exists()


def test_window_in_padding_only_is_refused_not_written(tmp_path):
    """A max pool window that lies entirely in the padding gives -inf in torch and the
    largest negative float in onnxruntime: a located error, not a file."""
    src = tmp_path / "p.arch"
    src.write_text("network p {\n    input 2x1x1\n    maxpool(2, dilation=2, pad=1)\n}\n")
    out = tmp_path / "p.onnx"
    code, stdout, err = run_cli("export", str(src), "-o", str(out))
    assert code == 1 and stdout == "" and not out.exists()
    assert ":3:5: error[E0601]: cannot export layer `0`" in err
    assert "where PyTorch gives -inf" in err and "(maxpool 2x2 /2 p1 d2)" in err


# ---------------------------------------------------------------- the check itself
class _Wrong(torch.nn.Module):
    def forward(self, x):
        return x * 1.5


def test_a_wrong_number_is_located_and_nothing_is_written(tmp_path, monkeypatch):
    path = tmp_path / "n.arch"
    path.write_text("network n {\n    input 3x6x6\n    conv(4, 3x3)\n    act: relu\n"
                    "    flatten\n    linear(2)\n}\n")
    real = onnx_rewrites.swaps
    monkeypatch.setattr(onnx_rewrites, "swaps",
                        lambda ir, model, **kw: [*real(ir, model, **kw), ("act", _Wrong())])
    out = tmp_path / "n.onnx"
    code, stdout, err = run_cli("export", str(path), "-o", str(out))
    assert code == 1 and stdout == "" and not out.exists()
    first = err.splitlines()[0]
    assert first.startswith(f"{path}:4:10: error[E0601]: cannot export layer `act` (relu) to "
                            "ONNX: onnxruntime computes other numbers than PyTorch here: "), first
    assert "note: every export is loaded by onnxruntime" in err


def _undo_ceil_pool_fixes(monkeypatch):
    """Neither the pools swapped in before the export nor the file patched after it."""
    monkeypatch.setattr(onnx_rewrites, "ceil_pool_fixes", lambda ir, model: ({}, []))
    monkeypatch.setattr(onnx_rewrites, "pool_swap", lambda module, fix: None)


def test_a_file_the_checker_refuses_is_located(tmp_path, monkeypatch):
    """The ceil-mode fix undone: the declared 4x4 reaches the linear, which the checker's
    shape inference refuses (`/2/Gemm`), and the error points at that layer."""
    _undo_ceil_pool_fixes(monkeypatch)
    net = archdsl.parse(REPRODUCERS["ceil pool, linear"])
    with pytest.raises(archdsl.ArchError) as info:
        net.to_onnx(tmp_path / "p.onnx")
    (diag,) = info.value.diagnostics
    assert diag.code == "E0601" and "the ONNX checker refuses the file" in diag.message
    assert "layer `2` (linear 2)" in diag.message
    assert not (tmp_path / "p.onnx").exists()


def test_a_wrong_declared_shape_is_located(tmp_path, monkeypatch):
    _undo_ceil_pool_fixes(monkeypatch)
    net = archdsl.parse(REPRODUCERS["ceil pool"])
    with pytest.raises(archdsl.ArchError) as info:
        net.to_onnx(tmp_path / "p.onnx")
    (diag,) = info.value.diagnostics
    assert "the file declares its output as 1x4x4, but the network gives 1x3x3" in diag.message
    assert "layer `0` (maxpool" in diag.message


def test_a_file_onnxruntime_refuses_is_located(tmp_path, monkeypatch):
    """The pad="same" fix undone: onnxruntime refuses the dilated SAME_UPPER conv."""
    monkeypatch.setattr(onnx_rewrites, "ExplicitPadConv", lambda conv: conv)
    net = archdsl.parse(REPRODUCERS["same, dilated"])
    with pytest.raises(archdsl.ArchError) as info:
        net.to_onnx(tmp_path / "p.onnx")
    (diag,) = info.value.diagnostics
    assert diag.message.startswith("cannot export layer `0` (conv 1 3x3 /1 same d2) to ONNX: "
                                   "onnxruntime refuses the file: "), diag.message
    assert "Dilation not supported" in diag.message


def test_without_onnxruntime_the_cli_says_unverified(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    assert onnx_verify.unavailable() == ("onnxruntime is not installed, so the file was not "
                                         "run in onnxruntime")
    out = tmp_path / "l.onnx"
    code, _, err = run_cli("export", "lenet5", "-o", str(out))
    assert code == 0 and "(not verified: onnxruntime is not installed" in err


def _axis_configs(rng, n):
    """One axis of a pool: (window, stride, pad, dilation) that fits `n`."""
    while True:
        k, s, d = rng.randint(1, 4), rng.randint(1, 3), rng.randint(1, 2)
        p = rng.randint(0, k // 2)
        if n + 2 * p - d * (k - 1) - 1 >= 0:
            return k, s, p, d


@pytest.mark.parametrize("kind", ["maxpool", "avgpool", "avgpool_exclusive"])
def test_pools_with_other_numbers_per_axis_export_and_run_as_torch(kind, tmp_path):
    """Window, stride, padding and dilation differ per axis (fuzz program 4045 of seed 1: the
    end padding that gives PyTorch's windows was as long as the kernel on one axis, which
    onnxruntime refuses; max pools then pad explicitly with -inf)."""
    import random

    rng = random.Random(4045)
    layer = "maxpool" if kind == "maxpool" else "avgpool"
    extra = ", count_include_pad=false" if kind == "avgpool_exclusive" else ""
    shape = (1, 3, 5, 4)
    branches, refused = [], []
    while len(branches) + len(refused) < 120:
        axes = [_axis_configs(rng, n) for n in shape[1:]]
        k, s, p, d = (tuple(a[i] for a in axes) for i in range(4))
        if layer == "avgpool":
            d = (1, 1, 1)
        module = (torch.nn.MaxPool3d(k, s, p, d, ceil_mode=True) if layer == "maxpool" else
                  torch.nn.AvgPool3d(k, s, p, ceil_mode=True,
                                     count_include_pad=kind == "avgpool"))
        try:
            if torch.isinf(module(torch.randn(1, *shape))).any():
                continue  # a max window entirely in padding: refused, tested above
        except RuntimeError:
            continue  # the window does not fit with this dilation
        dil = f", dilation={'x'.join(map(str, d))}" if layer == "maxpool" else ""
        text = (f"{{ {layer}({'x'.join(map(str, k))}, stride={'x'.join(map(str, s))}, "
                f"pad={'x'.join(map(str, p))}{dil}, ceil=true{extra}); flatten }}")
        (refused if isinstance(ceil_pool_fix(module, shape), str) else branches).append(text)
    assert len(refused) <= len(branches) // 5, refused
    net = archdsl.parse(f"network pools {{\n    input {'x'.join(map(str, shape))}\n    concat {{"
                        "\n        " + "\n        ".join(branches) + "\n    }\n}\n")
    _exports_as_torch(net, tmp_path / "pools.onnx")
    for branch in refused:
        net = archdsl.parse(f"network p {{\n    input {'x'.join(map(str, shape))}\n    "
                            f"{branch[2:-len('; flatten }')]}\n}}\n")
        with pytest.raises(archdsl.ArchError) as refusal:
            net.to_onnx(tmp_path / "refused.onnx")
        assert [d.code for d in refusal.value.diagnostics] == ["E0601"]
        assert "PyTorch" in str(refusal.value) and "ONNX" in str(refusal.value)
        assert not (tmp_path / "refused.onnx").exists()


def test_equal_ceil_pools_of_one_tensor_export(tmp_path):
    """torch.onnx merges two equal pools of the same tensor into one node; the file is still
    patched and verified."""
    branch = "{ avgpool(2x1x1, stride=1x3x3, ceil=true); flatten }"
    net = archdsl.parse(f"network p {{ input 1x3x5x4  concat {{ {branch} {branch} }} }}")
    torch.manual_seed(0)
    model = net.to_torch().eval()
    net.to_onnx(tmp_path / "p.onnx", model=model)
    x = torch.randn(2, *net.input_shape)
    with torch.no_grad():
        torch.testing.assert_close(_run_onnx(tmp_path / "p.onnx", x), model(x))
