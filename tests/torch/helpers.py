"""Shared by the torch backend's tests: the branched test network and a seeded build."""

from __future__ import annotations

from pathlib import Path

import archdsl

HERE = Path(__file__).parent
BRANCHED = HERE / "branched.arch"
GOLDEN = HERE / "golden"


def branched(**params):
    return archdsl.load(BRANCHED, **params)


def seeded(net, seed: int = 0, **kw):
    import torch

    torch.manual_seed(seed)
    return net.to_torch(**kw)
