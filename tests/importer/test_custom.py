"""`from_torch` on small custom models (no torchvision): each imported file checks, its
compiled module loads the original's state_dict with strict=True (same keys, order, shapes)
and gives the original's outputs in eval mode (1e-5, random batch-norm statistics), and
import -> compile -> import gives the same text (a fixed point)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import archdsl  # noqa: E402
from archdsl.backends.importer import Unexpressible, from_torch  # noqa: E402
from archdsl.backends.importer.verify import round_trip  # noqa: E402
from archdsl.format import format_text  # noqa: E402
from tests.importer import models  # noqa: E402


@pytest.fixture(scope="module")
def imported():
    out = {}
    for name, (factory, shape) in models.CUSTOM.items():
        torch.manual_seed(0)
        model = factory()
        out[name] = (model, shape, from_torch(model, shape, name=name))
    return out


@pytest.mark.parametrize("name", sorted(models.CUSTOM))
def test_round_trip(imported, name):
    model, shape, result = imported[name]
    assert result.network.name == name
    assert round_trip(model, result.network, shape) == []


@pytest.mark.parametrize("name", sorted(models.CUSTOM))
def test_fixed_point(imported, name):
    """import -> fmt -> import: the compiled module imports to the same (formatted) text."""
    _, shape, result = imported[name]
    assert format_text(result.text) == result.text
    again = from_torch(result.network.to_torch(), shape, name=name)
    assert again.text == result.text


@pytest.mark.parametrize("name", sorted(models.CUSTOM))
def test_checks_clean(imported, name):
    _, _, result = imported[name]
    net = archdsl.parse(result.text)
    assert not [d for d in net.diagnostics if d.severity == "warning"]


def test_resnet_block_recovered(imported):
    text = imported["bottleneck_resnet"][2].text
    assert "block bottleneck(width, stride = 1) {" in text
    assert "downsample: if in.channels != 4 * width {" in text
    assert "conv3: conv(4 * width, 1x1, bias=false)" in text
    assert "layer1: [bottleneck(8) * 2]" in text
    assert "layer2: [bottleneck(16, stride=2), bottleneck(16) * 2]" in text
    assert "# -> 64x16x16" in text
    assert imported["bottleneck_resnet"][2].blocks == 1


def test_the_head_is_the_classes_parameter(imported):
    text = imported["bottleneck_resnet"][2].text
    assert "network bottleneck_resnet(classes = 10) {" in text
    assert "fc: linear(classes)" in text
    assert archdsl.parse(text, classes=3).output_shape == (3,)


def test_basic_block_projection_is_an_if(imported):
    text = imported["basic_resnet"][2].text
    assert "block basic_block(width, stride = 1) {" in text
    assert "shortcut: if in.channels != width {" in text


def test_branches_and_functional_calls(imported):
    inception = imported["inception"][2].text
    assert "concat {" in inception and "mix1: inception_block" in inception
    mlp = imported["mlp"][2].text
    assert "add {" in mlp and "gelu" in mlp and "softmax(-1)" in mlp
    se = imported["senet"][2].text
    assert "mean((1, 2), keepdim=true)" in se and "mul(in, t1)" in se


def test_sequential_numbering(imported):
    model, _, result = imported["sequential_cnn"]
    net = result.network
    assert [k for k in net.to_torch().state_dict()] == list(model.state_dict())
    assert "relu(inplace=true)" in result.text and "dropout(0.2)" in result.text


def test_unpacks_as_text_and_network(imported):
    text, net = imported["mlp"][2]
    assert text.startswith("# From a Python module by `archdsl import`")
    assert net.params == sum(p.numel() for p in imported["mlp"][0].parameters())


def test_header_escapes_the_source():
    result = from_torch(models.sequential_cnn(), (3, 8, 8), source="evil\n\x1b[31mnetwork")
    head = result.text.splitlines()[:2]
    assert all(line.startswith("#") for line in head)
    assert "\x1b" not in result.text and "\\x1b" in head[0]


def test_unexpressible_is_a_located_list():
    with pytest.raises(Unexpressible) as info:
        from_torch(models.Attention(), (4, 8))
    found = {(m.path, m.what) for m in info.value.missing}
    assert ("attn", "torch.nn.modules.activation.MultiheadAttention") in found
    assert ("pos", "torch.nn.Parameter") in found
    assert len(info.value.missing) == 2  # nothing that merely follows them


def test_shared_weights_and_unused_modules_are_reported():
    class Shared(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(4, 4, 3, padding=1)
            self.unused = torch.nn.Linear(3, 3)

        def forward(self, x):
            return self.conv(self.conv(x))

    with pytest.raises(Unexpressible) as info:
        from_torch(Shared(), (4, 8, 8))
    reasons = {m.path: m.reason for m in info.value.missing}
    assert "called more than once" in reasons["conv"]


def test_unused_module_is_reported():
    class Unused(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(4, 4, 3, padding=1)
            self.aux = torch.nn.Linear(3, 3)

        def forward(self, x):
            return self.conv(x)

    with pytest.raises(Unexpressible) as info:
        from_torch(Unused(), (4, 8, 8))
    assert [(m.path, "never called" in m.reason) for m in info.value.missing] == [("aux", True)]


def test_a_name_archdsl_cannot_write_is_reported():
    class Keyword(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.block = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1))

        def forward(self, x):
            return self.block(x)

    with pytest.raises(Unexpressible) as info:
        from_torch(Keyword(), (3, 8, 8))
    assert info.value.missing[0].path == "block"
    assert "archdsl keyword" in info.value.missing[0].reason


class Named(torch.nn.Module):
    """Children named as archdsl cannot label them: a keyword and a dashed name."""

    def __init__(self):
        super().__init__()
        self.block = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.ReLU())
        self.add_module("stage1-0", torch.nn.Conv2d(4, 4, 3, padding=1))

    def forward(self, x):
        return getattr(self, "stage1-0")(self.block(x))


def test_mark_unsupported_renames_and_marks():
    model = Named().eval()
    result = from_torch(model, (3, 8, 8), mark_unsupported=True)
    assert [m.path for m in result.marked] == ["stage1-0", "block"]
    lines = [" ".join(line.split()) for line in result.text.splitlines()]  # comments aligned
    assert "block_: [conv(4, 1x1), relu] # UNSUPPORTED: named `block` in the model" in lines
    assert "stage1_0: conv(4, 3x3, pad=1) # UNSUPPORTED: named `stage1-0` in the model" in lines
    compiled = result.network.to_torch().eval()
    renamed = {k.replace("block.", "block_.").replace("stage1-0", "stage1_0"): v
               for k, v in model.state_dict().items()}
    compiled.load_state_dict(renamed, strict=True)
    x = torch.randn(2, 3, 8, 8)
    assert torch.allclose(compiled(x), model(x), atol=1e-6)


def test_a_resize_to_the_input_and_a_dict_output():
    model = models.Segmenter()
    result = from_torch(model, (3, 16, 16))
    assert 'upsample(like=in, mode="bilinear", align_corners=false)' in result.text
    assert "# The model returns {'out': x}; this network returns x." in result.text
    assert round_trip(model, result.network, (3, 16, 16)) == []
    compiled = result.network.to_torch().eval()  # other sizes, as the original takes them
    assert compiled(torch.randn(1, 3, 24, 20)).shape == (1, 3, 24, 20)


def test_a_module_list_is_reported():
    with pytest.raises(Unexpressible) as info:
        from_torch(models.Listed(), (3, 8, 8))
    assert [m.path for m in info.value.missing] == ["convs.0", "convs.1"]
    assert "nn.ModuleList" in info.value.missing[0].reason


def test_archdsl_from_torch_is_lazy():
    import subprocess
    import sys

    code = ("import sys, archdsl; assert 'torch' not in sys.modules; "
            "assert 'archdsl.backends.importer' not in sys.modules; "
            "f = archdsl.from_torch; print(f.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "from_torch"
