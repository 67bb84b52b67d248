"""`torch.compile` of the optimised module (optional: the first call compiles for seconds to
minutes, and needs a C++ compiler on CPU). Pre/post: any module; same function."""

from __future__ import annotations

import torch
from torch import nn


def run(model: nn.Module, **kw) -> nn.Module:
    return torch.compile(model, **kw)
