"""Inline block calls compile to the module the same network written out by hand compiles to:
the same state_dict keys and shapes, and the same outputs for the same weights."""

from __future__ import annotations

import pytest

import archdsl
from tests.test_inline import PAIRS

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(("inline", "by_hand", "network"), PAIRS, ids=lambda p: str(p)[:12])
def test_inline_calls_keep_every_state_dict_key(inline, by_hand, network):
    a = archdsl.parse(inline, filename="net.arch", network=network).to_torch()
    b = archdsl.parse(by_hand, filename="net.arch", network=network).to_torch()
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    assert {k: tuple(v.shape) for k, v in sa.items()} == {k: tuple(v.shape) for k, v in sb.items()}
    b.load_state_dict(sa)
    a.eval(), b.eval()
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(a(x), b(x))
