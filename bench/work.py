"""Calibration of the work budget (dsl/budget.py, issue 11): for each kind of work, an input
that does nearly nothing else, run with an unlimited budget; CPU seconds per unit charged.

The costs in `budget.COSTS` are chosen so that no row costs much more than a microsecond per
unit: then the default budget (`budget.MAX_WORK` units) bounds any input's front-end time at
about `MAX_WORK` microseconds. The second table runs each input with the default limits and
shows where it stops, and how long that took: every row must end within the issue's 2 s.

Usage: python bench/work.py [--scale F]   (F multiplies the sizes; 1 by default)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

PY = sys.executable


def _net(body: str, shape: str = "8", params: str = "") -> str:
    return f"network n{params} {{\n    input {shape}\n{body}\n}}\n"


def doubling(levels: int) -> str:
    """Each block calls the previous one twice: 2^levels calls for a few lines."""
    blocks = "block b0(w) { relu }\n" + "".join(
        f"block b{i}(w) {{ b{i - 1}(w); b{i - 1}(w) }}\n" for i in range(1, levels))
    return blocks + _net(f"    b{levels - 1}(1)")


def chain_calls(n: int) -> str:
    """Calls through 40 levels of blocks, repeated: call overhead at depth."""
    blocks = "block b0(w) { identity }\n" + "".join(
        f"block b{i}(w) {{ b{i - 1}(w) }}\n" for i in range(1, 40))
    return blocks + _net(f"    b39(1) * {n // 40}")


# name -> (what it stresses, generator of the text from a size)
CASES = {
    "semicolons": ("tokens: one character each", lambda n: _net("    " + ";" * n)),
    "list items": ("tokens: `1,` in one argument",
                   lambda n: _net("    linear(" + "1," * (n // 2) + "1)")),
    "relu lines": ("tokens + cached layers", lambda n: _net("    relu\n" * (n // 2))),
    "conv lines": ("tokens + cached layers with arguments",
                   lambda n: _net("    conv(8, 3x3, pad=1)\n" * (n // 10), shape="8x8x8")),
    "definitions": ("tokens + definitions",
                    lambda n: "".join(f"block b{i} {{ relu }}\n" for i in range(n // 5))
                    + _net("    relu")),
    "duplicates": ("tokens + a diagnostic each (past the cap: counted)",
                   lambda n: "block a { relu }\n" * (n // 5) + _net("    relu")),
    "repeat relu": ("cached layers made by repetition", lambda n: _net(f"    relu * {n // 10}")),
    "repeat conv": ("cached layers with arguments",
                    lambda n: _net(f"    conv(8, 3x3, pad=1) * {n // 10}", shape="8x8x8")),
    "unique layers": ("layers checked (no reuse: each input shape differs)",
                      lambda n: _net(f"    {{ linear(in.features + 1) }} * {n // 30}")),
    "failing items": ("an unknown kind repeated: items and diagnostics, no layer",
                      lambda n: _net(f"    relurelu * {n // 4}")),
    "failing calls": ("a bad argument repeated: checks and diagnostics",
                      lambda n: _net(f"    conv(0, 3x3) * {n // 20}", shape="3x8x8")),
    "doubling": ("block calls: each block calls the previous one twice",
                 lambda n: doubling(max(2, (n // 40).bit_length()))),
    "deep calls": ("block calls 40 levels deep", lambda n: chain_calls(n // 12)),
    "kernel scaled": ("expression elements: a 1,000-element kernel scaled in each copy",
                      lambda n: _net(f"    conv(k * 2, pad=100) * {max(1, n // 3000)}",
                                     shape="1x8x8",
                                     params="(k = [[" + ", ".join(["1"] * 1000) + "]])")),
    "expressions": ("expression nodes: a long sum in each copy",
                    lambda n: _net(f"    dropout(({'+'.join(['0'] * 90)}) / 100) * "
                                   f"{max(1, n // 200)}")),
}


def child(name: str, size: int, default: bool) -> None:
    import resource

    from archdsl.elaborate import Limits
    from archdsl.load_grammar import lark_parser
    from archdsl.pipeline import run

    lark_parser()
    text = CASES[name][1](size)
    limits = Limits() if default else Limits(max_work=10**12, max_layers=10**8,
                                             max_file_size=10**9, max_params=10**15)
    t0 = time.process_time()
    result = run(text=text, display=f"{name}.arch", limits=limits)
    from archdsl.diagnostics import render_all

    render_all(result.diagnostics.items)
    took = time.process_time() - t0
    b = result.budget
    codes = sorted({d.code for d in result.diagnostics.items if d.code})
    print(json.dumps({"cpu": took, "spent": b.spent, "done": b.done, "chars": len(text),
                      "codes": codes,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def measure(name: str, size: int, default: bool) -> dict:
    args = [PY, __file__, "--child", name, str(size), "1" if default else "0"]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        child(argv[1], int(argv[2]), argv[3] == "1")
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--only", nargs="*", help="case names")
    args = ap.parse_args(argv)
    names = args.only or list(CASES)
    size = int(400_000 * args.scale)
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n")
    print("Cost per unit, unlimited budget (fresh process per row; CPU time of the front end "
          "and rendering)")
    print(f"  {'case':<15} {'what it stresses':<58} {'cpu':>7} {'units':>12} {'us/unit':>8}")
    worst = 0.0
    for name in names:
        m = measure(name, size, default=False)
        per = m["cpu"] / max(m["spent"], 1) * 1e6
        worst = max(worst, per)
        print(f"  {name:<15} {CASES[name][0][:58]:<58} {m['cpu']:>6.2f}s {m['spent']:>12,} "
              f"{per:>8.2f}")
    print(f"  worst: {worst:.2f} us per unit")
    print("\nWith the default limits (the same inputs): where each stops, and when")
    print(f"  {'case':<15} {'chars':>10} {'cpu':>7} {'peak RSS':>9}  diagnostics")
    slowest = 0.0
    for name in names:
        m = measure(name, size, default=True)
        slowest = max(slowest, m["cpu"])
        print(f"  {name:<15} {m['chars']:>10,} {m['cpu']:>6.2f}s {m['peak_mb']:>7.0f}MB  "
              f"{', '.join(m['codes']) or 'none'}")
    print(f"  slowest: {slowest:.2f} s (target <= 2 s: {'met' if slowest <= 2 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
