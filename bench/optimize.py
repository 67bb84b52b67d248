"""Optimised inference (issue 7): `to_torch(optimize=True)` against eager, ResNet-50, batch 8.

The eager references: the compiled module as `to_torch()` returns it, the hand-written ResNet-50
of bench/_handwritten.py (torchvision's layout, line by line), and torchvision's resnet50 when
torchvision is installed. Weights are shared (state_dict), non-trivial batch-norm statistics are
set, and every output is checked against the eager one (1e-4) before timing. CPU, eval mode,
`torch.inference_mode()`, all cores; runs interleaved (order rotated), median per call.

Usage: python bench/optimize.py [--quick] [--compile]     (target: optimised <= 0.85x eager)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
import _handwritten

import archdsl
from archdsl.backends.torch.optimize import optimize

TARGET = 0.85
NORMS = torch.nn.modules.batchnorm._BatchNorm


def interleaved(fns: dict, x, repeats: int) -> dict[str, float]:
    times = {k: [] for k in fns}
    names = list(fns)
    with torch.inference_mode():
        for fn in fns.values():  # warm-up (oneDNN picks kernels on the first call)
            fn(x)
            fn(x)
        for r in range(repeats):
            order = names[r % len(names):] + names[: r % len(names)]
            for k in order:
                t = time.perf_counter()
                fns[k](x)
                times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def randomize_norms(model) -> None:
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, NORMS):
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) - 0.5)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--compile", action="store_true", help="also time torch.compile (slow)")
    args = ap.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    net = archdsl.zoo("resnet50")
    eager = net.to_torch().eval()
    randomize_norms(eager)
    state = eager.state_dict()
    hand = _handwritten.ResNet50()
    hand.load_state_dict(state)
    hand.eval()
    fns = {"eager (to_torch)": eager, "hand-written eager": hand}
    try:
        import torchvision

        tv = torchvision.models.resnet50()
        tv.load_state_dict(state)
        fns["torchvision eager"] = tv.eval()
    except ImportError:
        pass
    opt = optimize(eager)
    fns["optimised (fold_bn + channels_last)"] = opt
    if args.compile:
        fns["optimised + torch.compile"] = optimize(eager, compile=True)
    x = torch.randn(8, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        want = eager(x)
        for name, fn in fns.items():
            torch.testing.assert_close(fn(x), want, atol=1e-4, rtol=1e-4, msg=name)
    times = interleaved(fns, x, 3 if args.quick else 9)
    ref_name = "torchvision eager" if "torchvision eager" in times else "hand-written eager"
    ref = times[ref_name]
    print(f"ResNet-50, batch 8, CPU ({torch.get_num_threads()} threads), median of "
          f"{3 if args.quick else 9} interleaved runs; outputs equal within 1e-4")
    print(f"  {'module':<38} {'s/call':>8} {'vs ' + ref_name:>24}")
    for name, t in times.items():
        print(f"  {name:<38} {t:>8.3f} {t / ref:>23.2f}x")
    ratio = times["optimised (fold_bn + channels_last)"] / ref
    print(f"  target: optimised <= {TARGET}x {ref_name}: "
          f"{'met' if ratio <= TARGET else 'MISSED'} ({ratio:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
