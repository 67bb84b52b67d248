"""The shipped examples (examples/, `archdsl.examples`), end to end as a user runs them: check,
summary, draw (DOT, and SVG through Graphviz when it is installed), standalone source that
runs and equals the module, ONNX that onnxruntime runs, and a few training steps.

Each is tested at a small width and input so the whole file takes seconds; the default sizes
(the paper's 572x572 U-Net) are checked by the front end only.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

import archdsl
from tests.conftest import run_cli

# name -> (small parameters, the output shapes at those parameters)
SMALL = {
    "unet": ({"width": 4, "size": 32}, {"output": (2, 32, 32)}),
    "unet_bilinear": ({"width": 4, "size": 32}, {"output": (2, 32, 32)}),
    "unet_valid": ({"width": 4, "size": 188}, {"output": (2, 4, 4)}),
    "conv_autoencoder": ({"code": 8}, {"output": (1, 28, 28)}),
    "se_resnet": ({"width": 8}, {"output": (10,)}),
    "shufflenet_unit": ({"width": 16}, {"output": (10,)}),
    "aux_heads": ({"width": 8}, {"main": (10,), "aux": (10,)}),
    "mobilenet_v2": ({"classes": 10, "alpha": 0.35, "size": 64, "dropout_p": 0.0},
                     {"output": (10,)}),
    "densenet": ({"classes": 10, "growth": 4, "blocks": [2, 2], "init_features": 8, "size": 32},
                 {"output": (10,)}),
}
# at the files' own defaults (front end only)
DEFAULTS = {"unet": (3, 256, 256), "unet_bilinear": (3, 256, 256), "unet_valid": (1, 572, 572)}
DEFAULT_OUT = {"unet": (2, 256, 256), "unet_bilinear": (2, 256, 256),
               "unet_valid": (2, 388, 388)}


def _load(name):
    params, _ = SMALL[name]
    return archdsl.load(archdsl.example_path(name), **params)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_checks_and_summarises(name, capsys):
    net = _load(name)
    assert net.outputs == SMALL[name][1]
    path = archdsl.example_path(name)
    code, out, err = run_cli("check", path)
    assert (code, err) == (0, ""), err
    code, out, err = run_cli("summary", path)
    assert code == 0 and "parameters" in out
    if name in DEFAULTS:
        full = archdsl.load(path)
        assert (full.input_shape, full.output_shape) == (DEFAULTS[name], DEFAULT_OUT[name])


def test_unet_matches_the_papers_figure():
    """Ronneberger et al. 2015, Figure 1: 572x572 in, 388x388 out; 64 channels at the top,
    1024 at the bottom (28x28 after its two valid convs), each skip cropped to the decoder."""
    net = archdsl.load(archdsl.example_path("unet_valid"))
    assert net.layer("inc.conv2")["shape"] == (64, 568, 568)
    assert net.layer("down4.conv.conv2")["shape"] == (1024, 28, 28)
    assert net.layer("up1.upsample")["shape"] == (512, 56, 56)
    assert net.layer("up4.conv.conv2")["shape"] == (64, 388, 388)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_draws(name, tmp_path):
    net = _load(name)
    dot = net.to_dot()
    assert dot == net.to_dot()
    assert ("output main" in dot) == (name == "aux_heads")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    run = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, timeout=60)
    assert run.returncode == 0 and b"<svg" in run.stdout


torch = pytest.importorskip("torch")


def _source_model(net, state):
    ns: dict = {"__name__": "archdsl_generated"}
    exec(compile(net.to_source(), f"<{net.name}.py>", "exec"), ns)
    cls = next(v for v in ns.values() if isinstance(v, type) and hasattr(v, "input_shape"))
    model = cls()
    model.load_state_dict(state)
    return model.eval()


def _flat(y):
    return torch.cat([t.flatten(1) for t in y], 1) if isinstance(y, tuple) else y


@pytest.mark.parametrize("name", sorted(SMALL))
def test_standalone_source_runs_and_agrees(name):
    net = _load(name)
    torch.manual_seed(0)
    model = net.to_torch().eval()
    x = torch.randn(2, *net.input_shape)
    with torch.no_grad():
        torch.testing.assert_close(_flat(_source_model(net, model.state_dict())(x)),
                                   _flat(model(x)))


@pytest.mark.parametrize("name", sorted(SMALL))
def test_onnx_in_onnxruntime(name, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    net = _load(name)
    torch.manual_seed(0)
    model = net.to_torch()
    path = tmp_path / f"{name}.onnx"
    net.to_onnx(path, model=model)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == list(SMALL[name][1])
    x = torch.randn(3, *net.input_shape)
    got = [torch.from_numpy(g) for g in session.run(None, {"input": x.numpy()})]
    with torch.no_grad():
        want = model.eval()(x)
    want = want if isinstance(want, tuple) else (want,)
    for g, w in zip(got, want, strict=True):
        assert (g - w).abs().max() <= 1e-4 * max(1.0, float(w.abs().max()))


@pytest.mark.parametrize("name", sorted(SMALL))
def test_trains_a_few_steps(name):
    """Adam on one fixed batch: the loss goes down (each output counts; aux at 0.3)."""
    net = _load(name)
    torch.manual_seed(0)
    model = net.to_torch().train()
    x = torch.rand(4, *net.input_shape)
    outs = SMALL[name][1]
    targets = {k: torch.rand(4, *s) for k, s in outs.items()}
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def loss_of(y):
        ys = y if isinstance(y, tuple) else (y,)
        weights = [1.0] + [0.3] * (len(ys) - 1)
        return sum(w * torch.nn.functional.mse_loss(v, t)
                   for w, v, t in zip(weights, ys, targets.values(), strict=True))

    torch.manual_seed(1)
    first = None
    for _ in range(8):
        opt.zero_grad()
        loss = loss_of(model(x))
        loss.backward()
        opt.step()
        first = float(loss) if first is None else first
    with torch.no_grad():
        torch.manual_seed(1)
        last = float(loss_of(model(x)))
    assert last < first


@pytest.mark.parametrize("size", [32, 45, 64])
def test_bilinear_unet_takes_other_sizes(size, tmp_path):
    """Resizing to the skips' sizes is read at run time: the compiled model (and its
    standalone source) takes 45x45 and 64x64 as well as the declared 32x32, with the output
    the input's size, like the torch model it mirrors."""
    net = _load("unet_bilinear")
    torch.manual_seed(0)
    model = net.to_torch().eval()
    x = torch.randn(1, 3, size, size)
    with torch.no_grad():
        y = model(x)
        assert y.shape == (1, 2, size, size)
        torch.testing.assert_close(_source_model(net, model.state_dict())(x), y)


def test_valid_unet_takes_other_sizes():
    """The cropped skips' offsets are read at run time too: 188 (declared) and 204."""
    net = _load("unet_valid")
    model = net.to_torch().eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, 204, 204)).shape == (1, 2, 20, 20)


def _with_example(tmp_path, example: str, text: str):
    path = tmp_path / "net.arch"
    path.write_text(f'import "{example}.arch"\n{text}')
    folder = archdsl.example_path(example).rsplit("/", 1)[0]
    return archdsl.load(path, search_path=[folder])


def test_squeeze_excitation_is_torchvisions(tmp_path):
    """The SE block's keys are torchvision.ops.SqueezeExcitation's (fc1, fc2), and it computes
    x * sigmoid(fc2(relu(fc1(avgpool(x))))) as that class does."""
    net = _with_example(tmp_path, "se_resnet",
                        "network se { input 32x6x6\n  se: squeeze_excitation(8) }")
    model = net.to_torch().eval()
    assert list(model.state_dict()) == ["se.fc1.weight", "se.fc1.bias", "se.fc2.weight",
                                        "se.fc2.bias"]
    se = model.se
    x = torch.randn(2, 32, 6, 6)
    F = torch.nn.functional
    scale = torch.sigmoid(se.fc2(F.relu(se.fc1(F.adaptive_avg_pool2d(x, 1)))))
    with torch.no_grad():
        torch.testing.assert_close(model(x), x * scale)


def test_shuffle_unit_is_torchvisions_inverted_residual(tmp_path):
    """The stride-1 unit as torchvision's shufflenetv2.InvertedResidual computes it, written
    out from its source: chunk, branch2 on the second half, cat, channel_shuffle(2)."""
    net = _with_example(tmp_path, "shufflenet_unit",
                        "network u { input 16x8x8\n  unit: shuffle_unit(16) }")
    model = net.to_torch().eval()
    keys = [k for k in model.state_dict() if not k.endswith("num_batches_tracked")]
    assert keys[:2] == ["unit.branch2.0.weight", "unit.branch2.1.weight"]
    x = torch.randn(2, 16, 8, 8)
    x1, x2 = x.chunk(2, dim=1)
    branch2 = model.unit.branch2
    out = torch.cat((x1, torch.nn.Sequential(*[branch2.get_submodule(str(i))
                                               for i in range(8)])(x2)), 1)
    b, c, h, w = out.shape
    want = out.view(b, 2, c // 2, h, w).transpose(1, 2).contiguous().view(b, c, h, w)
    with torch.no_grad():
        torch.testing.assert_close(model(x), want)


@pytest.mark.parametrize("name,sizes", [("unet_bilinear", (32, 45, 64)),
                                        ("unet_valid", (188, 204))])
def test_onnx_takes_other_sizes(name, sizes, tmp_path):
    """A network that reads sizes from tensors at run time is exported with dynamic spatial
    axes: onnxruntime runs it at each size and agrees with the module."""
    ort = pytest.importorskip("onnxruntime")
    net = _load(name)
    torch.manual_seed(0)
    model = net.to_torch()
    path = tmp_path / f"{name}.onnx"
    net.to_onnx(path, model=model)
    model.eval()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for size in sizes:
        x = torch.randn(1, net.input_shape[0], size, size)
        (got,) = session.run(None, {"input": x.numpy()})
        with torch.no_grad():
            want = model(x)
        assert got.shape == tuple(want.shape)
        assert (torch.from_numpy(got) - want).abs().max() <= 1e-4
