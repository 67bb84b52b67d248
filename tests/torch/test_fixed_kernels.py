"""Literal kernels (the lecture's blur, sharpen and edge detectors): frozen weights holding
exactly the file's numbers, checked on a hand-made image against values computed by hand."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import archdsl  # noqa: E402

BLUR = "[[0.0625, 0.125, 0.0625], [0.125, 0.25, 0.125], [0.0625, 0.125, 0.0625]]"
SHARPEN = "[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]"
EDGE = "[[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]"

# A 4x4 image: a 2x2 square of 4s on black; channel 1 is twice channel 0.
SQUARE = [[0, 0, 0, 0], [0, 4, 4, 0], [0, 4, 4, 0], [0, 0, 0, 0]]


def _image():
    one = torch.tensor(SQUARE, dtype=torch.float32)
    return torch.stack([one, 2 * one]).unsqueeze(0)  # 1x2x4x4


@pytest.mark.parametrize("kernel, by_hand", [
    # Every output pixel of the valid 2x2 result sees the square the same way (symmetry):
    # blur: (4*4 + 4*2 + 4*2 + 4*1) / 16 = 36/16; sharpen: 5*4 - 4 - 4 = 12;
    # edge: 8*4 - (4 + 4 + 4) = 20.
    (BLUR, 36 / 16), (SHARPEN, 12.0), (EDGE, 20.0),
])
def test_kernel_on_a_hand_made_image(kernel, by_hand):
    net = archdsl.parse(f"network f {{ input 2x4x4\n k: conv({kernel}) }}")
    model = net.to_torch()
    conv = model.get_submodule("k")
    assert conv.groups == 2 and conv.bias is None and not conv.weight.requires_grad
    assert conv.weight.shape == (2, 1, 3, 3)
    literal = torch.tensor(eval(kernel), dtype=torch.float32)  # the file's numbers, exactly
    assert torch.equal(conv.weight[0, 0], literal) and torch.equal(conv.weight[1, 0], literal)
    with torch.no_grad():
        out = model(_image())
    want = torch.tensor([by_hand, 2 * by_hand]).view(1, 2, 1, 1).expand(1, 2, 2, 2)
    torch.testing.assert_close(out, want)


def test_impulse_response_is_the_kernel():
    net = archdsl.parse(f"network f {{ input 1x5x5\n edge: conv({EDGE}, pad=1) }}")
    img = torch.zeros(1, 1, 5, 5)
    img[0, 0, 2, 2] = 1.0
    with torch.no_grad():
        out = net.to_torch()(img)[0, 0]
    torch.testing.assert_close(out[1:4, 1:4], torch.tensor(eval(EDGE), dtype=torch.float32))
    assert out[0].abs().sum() == 0 and out[:, 0].abs().sum() == 0


def test_fixed_kernel_is_not_trained_and_beats_init_rules():
    net = archdsl.parse(f"""network f {{ input 1x6x6
        init conv.weight = ones
        blur: conv({BLUR}); c: conv(2, 3x3); flatten; fc: linear(2) }}""")
    model = net.to_torch()
    assert torch.equal(model.blur.weight[0, 0], torch.tensor(eval(BLUR)))
    assert torch.equal(model.c.weight, torch.ones_like(model.c.weight))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == net.trainable_params and net.params - trainable == 9
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.randn(4, 1, 6, 6)).sum().backward()
    assert model.blur.weight.grad is None
    opt.step()
    assert torch.equal(model.blur.weight[0, 0], torch.tensor(eval(BLUR)))


def test_trainable_literal_kernel_starts_from_the_file():
    net = archdsl.parse(f"network f {{ input 1x4x4\n k: conv({SHARPEN}, trainable=true) }}")
    conv = net.to_torch().k
    assert conv.weight.requires_grad
    assert torch.equal(conv.weight[0, 0], torch.tensor(eval(SHARPEN), dtype=torch.float32))
