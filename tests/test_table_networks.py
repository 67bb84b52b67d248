"""Networks written as their papers' tables (examples/mobilenet_v2.arch, examples/densenet.arch)
against plain PyTorch implementations of the same networks, built here as torchvision's source
builds them: the same state_dict keys and shapes, and, with one set of weights loaded into
both, equal outputs in eval mode. Also `_make_divisible` (torchvision's width rule) written in
the language against a Python copy of it, over many values."""

from __future__ import annotations

import itertools
import random

import pytest

import archdsl
from archdsl.diagnostics import Diagnostics
from archdsl.evaluate import Evaluator
from archdsl.parser import parse_module
from archdsl.source import SourceFile
from tests.conftest import run_cli

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

SETTING = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
           (6, 160, 3, 2), (6, 320, 1, 1)]


def _make_divisible(v, divisor, min_value=None):
    """torchvision.models._utils._make_divisible, copied."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    # Make sure that round down does not go down by more than 10%.
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


# ------------------------------------------------------------------ _make_divisible in one line

ONE_LINE = ("if max(m, int(v + d / 2) // d * d) < 0.9 * v then max(m, int(v + d / 2) // d * d) + d "
            "else max(m, int(v + d / 2) // d * d)")


class _Env:
    """The names an expression sees (the evaluator's protocol, as dsl/elaborate.py's Env)."""

    def __init__(self, values):
        self.values = values

    def lookup(self, name):
        return (name in self.values, self.values.get(name))

    def names(self):
        return sorted(self.values)


def _expression(text):
    diags = Diagnostics()
    module = parse_module(SourceFile("rule", f"network n(x = {text}) {{}}"), diags)
    assert module is not None and not diags.has_errors, diags.items
    return module.definitions[0].params[0].default


def test_make_divisible_in_one_line_gives_torchvisions_numbers():
    rule = _expression(ONE_LINE)
    rng = random.Random(13)
    values = [c * a for c in (3, 8, 16, 24, 32, 64, 96, 160, 320, 1280)
              for a in (0.1, 0.25, 0.3, 0.35, 0.5, 0.75, 1.0, 1.3, 1.4, 2.0)]
    values += [rng.uniform(0.1, 3000) for _ in range(3000)] + list(range(0, 200))
    for v, d in itertools.product(values, (1, 2, 3, 4, 8, 16)):
        for m in (None, 1, d, 2 * d, 16):
            diags = Diagnostics()
            got = Evaluator(diags).eval(rule, _Env({"v": v, "d": d, "m": d if m is None else m}))
            want = _make_divisible(v, d, m)
            assert not diags.items, diags.items
            assert got == want and type(got) is int, (v, d, m, got, want)


# ------------------------------------------------------------------ MobileNetV2


class ConvBNReLU(nn.Sequential):
    def __init__(self, inp, out, k=3, stride=1, groups=1):
        super().__init__(nn.Conv2d(inp, out, k, stride, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(out), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        hidden = int(round(inp * expand_ratio))  # noqa: RUF046 (torchvision's own line)
        self.use_res_connect = stride == 1 and inp == oup
        layers = [ConvBNReLU(inp, hidden, 1)] if expand_ratio != 1 else []
        layers += [ConvBNReLU(hidden, hidden, stride=stride, groups=hidden),
                   nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """torchvision.models.MobileNetV2, as its source builds it."""

    def __init__(self, classes=1000, alpha=1.0, setting=SETTING, round_nearest=8,
                 dropout=0.2):
        super().__init__()
        inp = _make_divisible(32 * alpha, round_nearest)
        last = _make_divisible(1280 * max(1.0, alpha), round_nearest)
        features = [ConvBNReLU(3, inp, stride=2)]
        for t, c, n, s in setting:
            out = _make_divisible(c * alpha, round_nearest)
            for i in range(n):
                features.append(InvertedResidual(inp, out, s if i == 0 else 1, t))
                inp = out
        features.append(ConvBNReLU(inp, last, 1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(last, classes))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


def _randomise(model):
    """Weights and batch-norm statistics that are not their initial values, so that equal
    outputs mean equal computations."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.dtype.is_floating_point:
                noise = torch.rand(t.shape, generator=gen)
                t.copy_(0.5 + noise if "running_var" in name or ("weight" in name and t.dim() == 1)
                        else (noise - 0.5) * 0.5)
    return model


def _same(ours, reference, x):
    keys = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    want = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    assert keys == want
    _randomise(reference).eval()
    ours.load_state_dict(reference.state_dict())
    ours.eval()
    with torch.no_grad():
        a, b = ours(x), reference(x)
    assert a.shape == b.shape
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("alpha", [1.0, 0.35, 0.75, 1.3])
def test_mobilenet_v2_is_torchvisions(alpha):
    net = archdsl.load(archdsl.example_path("mobilenet_v2"), classes=10, alpha=alpha,
                       input="3x64x64")
    torch.manual_seed(0)
    _same(net.to_torch(), MobileNetV2(classes=10, alpha=alpha), torch.randn(2, 3, 64, 64))


def test_mobilenet_v2_at_the_papers_size():
    """3,504,872 parameters at width 1.0 and 1000 classes (torchvision's figure), 300.8M MACs;
    the table's last row ends at 320 channels, 7x7."""
    net = archdsl.load(archdsl.example_path("mobilenet_v2"))
    assert net.params == 3_504_872
    assert net.layer("features.17.conv.2")["shape"] == (320, 7, 7)
    assert net.layer("features.18.0")["shape"] == (1280, 7, 7)
    assert net.macs == 300_774_272


def test_a_smaller_table_from_the_command_line():
    """`--set alpha=0.3` feeds the widths through round/int; `--set setting=[...]` replaces the
    table itself."""
    path = archdsl.example_path("mobilenet_v2")
    code, out, err = run_cli("check", path, "--set", "alpha=0.3")
    assert (code, err) == (0, "")
    table = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 1, 2)]
    rows = str(table)
    net = archdsl.load(path, alpha=0.3, classes=10, input="3x32x32", setting=table)
    torch.manual_seed(0)
    _same(net.to_torch(), MobileNetV2(classes=10, alpha=0.3, setting=table),
          torch.randn(2, 3, 32, 32))
    code, out, err = run_cli("summary", path, "--set", f"setting={rows}", "--set", "alpha=0.3")
    assert code == 0, err
    assert "features.5.0" in out and "features.6" not in out


# ------------------------------------------------------------------ DenseNet


class _DenseLayer(nn.Module):
    def __init__(self, inp, growth, bn_size):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(inp)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(inp, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, inputs):
        x = torch.cat(inputs, 1)
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class _DenseBlock(nn.ModuleDict):
    def __init__(self, n, inp, bn_size, growth):
        super().__init__()
        for i in range(n):
            self.add_module(f"denselayer{i + 1}", _DenseLayer(inp + i * growth, growth, bn_size))

    def forward(self, init):
        features = [init]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, inp, out):
        super().__init__()
        self.norm = nn.BatchNorm2d(inp)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(inp, out, 1, bias=False)
        self.pool = nn.AvgPool2d(2, stride=2)


class DenseNet(nn.Module):
    """torchvision.models.DenseNet, as its source builds it (no memory-efficient mode)."""

    def __init__(self, growth=32, blocks=(6, 12, 24, 16), init_features=64, bn_size=4,
                 classes=1000):
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("conv0", nn.Conv2d(3, init_features, 7, 2, 3, bias=False))
        self.features.add_module("norm0", nn.BatchNorm2d(init_features))
        self.features.add_module("relu0", nn.ReLU(inplace=True))
        self.features.add_module("pool0", nn.MaxPool2d(3, 2, 1))
        num = init_features
        for i, n in enumerate(blocks):
            self.features.add_module(f"denseblock{i + 1}", _DenseBlock(n, num, bn_size, growth))
            num += n * growth
            if i != len(blocks) - 1:
                self.features.add_module(f"transition{i + 1}", _Transition(num, num // 2))
                num //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(num))
        self.classifier = nn.Linear(num, classes)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(F.relu(self.features(x)), (1, 1))
        return self.classifier(torch.flatten(x, 1))


@pytest.mark.parametrize(("growth", "blocks", "init"), [(8, [2, 3], 16), (4, [1, 2, 2, 1], 8)])
def test_densenet_is_torchvisions(growth, blocks, init):
    net = archdsl.load(archdsl.example_path("densenet"), classes=10, growth=growth,
                       blocks=blocks, init_features=init, size=64)
    torch.manual_seed(0)
    _same(net.to_torch(), DenseNet(growth, blocks, init, classes=10), torch.randn(2, 3, 64, 64))


def test_densenet_121_has_torchvisions_keys_and_parameters():
    """DenseNet-121 at the paper's size: 7,978,856 parameters (torchvision's figure), and every
    state_dict key and shape of torchvision's module, `features.denseblock4.denselayer16...`
    included."""
    net = archdsl.load(archdsl.example_path("densenet"))
    assert net.params == 7_978_856
    ours = {k: tuple(v.shape) for k, v in net.to_torch().state_dict().items()}
    want = {k: tuple(v.shape) for k, v in DenseNet().state_dict().items()}
    assert ours == want
    assert "features.denseblock4.denselayer16.conv2.weight" in ours
