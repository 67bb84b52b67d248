"""Random 2-D convolutions run in both layouts: where does channels-last disagree?

Each configuration (channels, groups, batch, input size, kernel, stride, padding, dilation) runs
the same `nn.Conv2d` on a contiguous input with a contiguous weight and on a channels-last input
with a channels-last weight; the relative difference of the outputs is printed. A configuration
is printed before it runs, so when PyTorch crashes the last line names the culprit.

    python -m tests.optimize.cl_search --configs 20000 --region safe     # only where the
        # optimiser converts (`channels_last_safe`): every line must agree
    python -m tests.optimize.cl_search --configs 20000 --region all      # everywhere (this is
        # how the unsafe configurations were found; a crash ends the run)

Output: one JSON object a line, `{"config": {...}}` then `{"diff": x}`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys


def _out(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def configs(seed: int, region: str):
    """An endless stream of valid configurations, drawn from `region` (`safe` or `all`)."""
    rng = random.Random(seed)
    while True:
        cin = rng.choice([1, 2, 2, 3, 4, 5, 8, 16, 17, 32] if region == "all" else
                         [2, 2, 3, 4, 5, 8, 16, 17, 32])
        cout = rng.choice([1, 2, 3, 5, 8, 16, 24, 32])
        groups = [g for g in range(2, cin + 1) if cin % g == 0 and cout % g == 0]
        g = rng.choice([1, 1, 1, *groups]) if groups else 1
        size = [rng.choice([1, 1, 2, 2, 3, *range(1, 25)]) for _ in range(2)]
        k = [rng.randint(1, 7) for _ in range(2)]
        s = [rng.randint(1, 4) for _ in range(2)]
        d = [rng.choice([1, 1, 2, 3]) for _ in range(2)]
        if region == "safe":
            p = [rng.randint(0, dd * (kk - 1) // 2) for kk, dd in zip(k, d, strict=True)]
        else:
            p = [rng.randint(0, 3) for _ in range(2)]
        if any(_out(*a) < 1 for a in zip(size, k, s, p, d, strict=True)):
            continue
        yield {"cin": cin, "cout": cout, "groups": g, "batch": rng.choice([1, 2, 3, 4, 8]),
               "size": size, "kernel": k, "stride": s, "pad": p, "dilation": d}


def difference(cfg: dict, seed: int = 0) -> float:
    """max |contiguous - channels-last| / (max |contiguous| + 1) for one configuration."""
    import torch

    torch.manual_seed(seed)
    conv = torch.nn.Conv2d(cfg["cin"], cfg["cout"], cfg["kernel"], stride=cfg["stride"],
                           padding=cfg["pad"], dilation=cfg["dilation"], groups=cfg["groups"])
    x = torch.randn(cfg["batch"], cfg["cin"], *cfg["size"])
    with torch.no_grad():
        want = conv(x)
        conv.to(memory_format=torch.channels_last)
        got = conv(x.contiguous(memory_format=torch.channels_last))
    return ((got - want).abs().max() / (want.abs().max() + 1)).item()


def safe(cfg: dict) -> bool:
    """The optimiser's rule (`channels_last_safe`) for this configuration."""
    import torch

    from archdsl.backends.torch.optimize.channels_last import channels_last_safe

    conv = torch.nn.Conv2d(cfg["cin"], cfg["cout"], cfg["kernel"], stride=cfg["stride"],
                           padding=cfg["pad"], dilation=cfg["dilation"], groups=cfg["groups"])
    return channels_last_safe(conv)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--region", choices=("safe", "all"), default="safe")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    for i, cfg in zip(range(args.configs), configs(args.seed, args.region), strict=False):
        if args.region == "safe":
            assert safe(cfg), cfg  # the generator and the rule agree
        print(json.dumps({"config": cfg}), flush=True)
        print(json.dumps({"diff": difference(cfg, i)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
