"""torchvision's own models, randomly initialised, load into the compiled zoo networks with
`load_state_dict(strict=True)` and give the same outputs (eval mode, atol 1e-5).

Runs only where torchvision is importable; the project does not depend on it, so elsewhere the
test is skipped and the exact state_dict equality of test_compiled_state_dict.py stands in.
"""

from __future__ import annotations

import pytest

from tests.zoo.helpers import TORCHVISION, net

torch = pytest.importorskip("torch", reason="the torch backend needs torch")
models = pytest.importorskip(
    "torchvision.models",
    reason="torchvision is not installed (optional): the weight-loading comparison with "
           "torchvision's models is skipped")

CASES = [(name, {}) for name in TORCHVISION] + [("googlenet", {"aux": True})]


def _torchvision(name, params):
    if name == "googlenet":
        return models.googlenet(weights=None, aux_logits=params.get("aux", False),
                                init_weights=True)
    return getattr(models, name)(weights=None)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "params"), CASES,
                         ids=[n + ("-aux" if p else "") for n, p in CASES])
def test_torchvision_weights_give_equal_outputs(name, params):
    torch.manual_seed(0)
    theirs = _torchvision(name, params).eval()
    with torch.no_grad():  # running statistics that are not 0 and 1, so batch norm matters
        for key, value in theirs.state_dict().items():
            if key.endswith("running_mean"):
                value.copy_(torch.randn_like(value) * 0.1)
            elif key.endswith("running_var"):
                value.copy_(torch.rand_like(value) + 0.5)
    ours = net(name, **params).to_torch().eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        want, got = theirs(x), ours(x)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
