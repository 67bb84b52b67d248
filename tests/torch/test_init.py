"""`init` rules carried out by torch: values and statistics against the formulas."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

import archdsl  # noqa: E402


def _model(body: str, shape="64x12x12", seed=0):
    torch.manual_seed(seed)
    return archdsl.parse(f"network t {{ input {shape}\n{body} }}").to_torch()


def test_zeros_ones_constant():
    m = _model("""init conv.weight = zeros
                  init conv.bias = constant(0.5)
                  init batchnorm.weight = ones
                  c: conv(8, 3x3); bn: batchnorm; flatten; fc: linear(4)""")
    assert torch.count_nonzero(m.c.weight) == 0
    assert torch.all(m.c.bias == 0.5)
    assert torch.all(m.bn.weight == 1)
    assert torch.count_nonzero(m.fc.weight) > 0  # no rule: PyTorch's default


def test_kaiming_normal_fan_out_std():
    # ResNet's rule: std = gain / sqrt(fan_out) = sqrt(2) / sqrt(256 * 3 * 3).
    m = _model('init conv.weight = kaiming_normal(mode="fan_out", nonlinearity="relu")\n'
               "c: conv(256, 3x3)")
    std = m.c.weight.std().item()
    assert std == pytest.approx(math.sqrt(2 / (256 * 9)), rel=0.02)
    assert abs(m.c.weight.mean().item()) < 0.002


def test_kaiming_uniform_and_xavier_bounds():
    m = _model('init conv.weight = kaiming_uniform(nonlinearity="relu")\n'
               "init linear.weight = xavier_uniform(2.0)\n"
               "c: conv(32, 3x3); flatten; fc: linear(50)")
    bound = math.sqrt(2) * math.sqrt(3 / (64 * 9))  # gain * sqrt(3 / fan_in)
    w = m.c.weight
    assert w.abs().max().item() <= bound and w.abs().max().item() > 0.95 * bound
    fan_in, fan_out = 32 * 10 * 10, 50
    xb = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert m.fc.weight.abs().max().item() <= xb and m.fc.weight.abs().max().item() > 0.95 * xb


def test_xavier_normal_normal_uniform_trunc_normal():
    m = _model("""init a.weight = xavier_normal
                  init b.weight = normal(0.01, mean=1.0)
                  init c.weight = uniform(-0.1, 0.1)
                  init d.weight = trunc_normal(1.0, a=-0.5, b=0.5)
                  a: conv(64, 3x3, pad=1); b: conv(64, 3x3, pad=1)
                  c: conv(64, 3x3, pad=1); d: conv(64, 3x3, pad=1)""")
    assert m.a.weight.std().item() == pytest.approx(math.sqrt(2 / (2 * 64 * 9)), rel=0.03)
    assert m.b.weight.mean().item() == pytest.approx(1.0, abs=0.001)
    assert m.b.weight.std().item() == pytest.approx(0.01, rel=0.03)
    assert -0.1 <= m.c.weight.min().item() < -0.09 and 0.09 < m.c.weight.max().item() <= 0.1
    assert m.d.weight.min().item() >= -0.5 and m.d.weight.max().item() <= 0.5


def test_later_and_inner_rules_win_and_default_restores_pytorch():
    m = archdsl.parse("""
        block b { init conv.weight = zeros; c: conv(4, 1x1) }
        network t { input 4x4x4
            init conv.weight = ones
            outer: conv(4, 1x1); inner: b
            init conv.bias = ones
            init conv.bias = default }""").to_torch()
    assert torch.all(m.outer.weight == 1)
    assert torch.all(m.inner.c.weight == 0)
    # `default` cancels the earlier bias rule: PyTorch's uniform(+-1/sqrt(fan_in)), not ones.
    assert m.outer.bias.abs().max().item() <= 0.5 and not torch.all(m.outer.bias == 1)


def test_zero_init_residual_in_every_bottleneck():
    src = """
    block bottleneck(width, stride = 1) {
        init bn3.weight = zeros
        add {
            { conv1: conv(width, 1x1, bias=false); bn1: batchnorm; relu
              conv2: conv(width, 3x3, stride=stride, pad=1, bias=false); bn2: batchnorm; relu
              conv3: conv(4 * width, 1x1, bias=false); bn3: batchnorm }
            downsample: if stride != 1 or in.channels != 4 * width {
                conv(4 * width, 1x1, stride=stride, bias=false); batchnorm }
        }
        relu
    }
    network r { input 8x8x8
        init conv.weight = kaiming_normal(mode="fan_out", nonlinearity="relu")
        layer1: bottleneck(4) * 2
        layer2: [bottleneck(8, stride=2), bottleneck(8)] }"""
    model = archdsl.parse(src).to_torch()
    bns = {k: v for k, v in model.state_dict().items() if k.endswith("weight") and ".bn" in k}
    assert len(bns) == 12
    for key, gamma in bns.items():
        if ".bn3." in key:
            assert torch.count_nonzero(gamma) == 0, key
        else:
            assert torch.all(gamma == 1), key
    # Every residual branch is zero at start: each block is relu(shortcut(x)).
    blk = model.get_submodule("layer1.1")
    assert torch.all(model.get_submodule("layer1.0.downsample.1").weight == 1)
    assert blk.bn3.weight.abs().sum() == 0


def test_seeded_builds_are_reproducible():
    body = 'init conv.weight = kaiming_normal(mode="fan_out")\nc: conv(8, 3x3)'
    assert torch.equal(_model(body, seed=3).c.weight, _model(body, seed=3).c.weight)
