"""A failure inside forward names the layer and its .arch line, with the shapes involved."""

from __future__ import annotations

import copy

import pytest

torch = pytest.importorskip("torch")

import archdsl  # noqa: E402
from archdsl.backends.torch import ArchRuntimeError  # noqa: E402

from .helpers import branched  # noqa: E402


@pytest.fixture(scope="module")
def lenet():
    return archdsl.zoo("lenet5").to_torch()


def test_wrong_channels_points_at_conv1(lenet):
    with pytest.raises(ArchRuntimeError) as info:
        lenet(torch.randn(2, 3, 32, 32))
    err = info.value
    assert isinstance(err, RuntimeError)
    assert err.layer == "conv1" and err.location == "zoo:lenet5:8:12"
    msg = str(err)
    assert "layer `conv1` (conv 6 5x5 /1 p0) at zoo:lenet5:8:12" in msg
    assert "expects input (N, 1, 32, 32) but got (2, 3, 32, 32)" in msg
    assert isinstance(err.__cause__, RuntimeError) and "channels" in str(err.__cause__)


def test_wrong_size_fails_later_at_fc1(lenet):
    # 28x28 passes the convs and pools; flatten then gives 16*4*4 = 256, not 400.
    with pytest.raises(ArchRuntimeError, match=r"`fc1` .*lenet5:15:10.*"
                                               r"expects input \(N, 400\) but got \(2, 256\)"):
        lenet(torch.randn(2, 1, 28, 28))


def test_merge_failure_names_the_add():
    model = branched().to_torch()
    # Break the shortcut by hand so that the add sees different shapes.
    model.res.bn2 = torch.nn.Sequential(model.res.bn2, torch.nn.MaxPool2d(2))
    with pytest.raises(ArchRuntimeError, match=r"`res\.add` \(add\) at .*branched\.arch:17:"
                                               r".*expects input \(N, 16, 8, 8\), \(N, 16, 8, 8\)"
                                               r" but got \(1, 16, 4, 4\), \(1, 16, 8, 8\)"):
        model(torch.randn(1, 3, 16, 16))


def test_errors_outside_the_forward_pass_through():
    model = branched().to_torch()
    with pytest.raises(TypeError) as info:
        model()  # missing argument: not a layer's failure
    assert not isinstance(info.value, ArchRuntimeError)


def test_mapping_survives_deepcopy(lenet):
    clone = copy.deepcopy(lenet)
    with pytest.raises(ArchRuntimeError, match="conv1"):
        clone(torch.randn(1, 2, 32, 32))
