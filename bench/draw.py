"""Diagram benchmark (issue 5): fully expanded ResNet-152 (the zoo's, 515 layers, 50 block
boxes) to SVG, as `archdsl draw resnet152 -o x.svg` does it. Target: under 5 s on a 2-core
machine.

Times, each the median of several runs: the front end (parse, elaborate, check), DOT text
generation (`to_dot`), rendering by Graphviz's `dot`, and the whole CLI process. Also checks
that two runs give byte-identical DOT and SVG.

Usage: python bench/draw.py [--runs N] [--network NAME]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = 5.0


def timed(fn, runs: int):
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--network", default="resnet152")
    args = ap.parse_args(argv)

    from archdsl import zoo_index
    from archdsl.backends.graphviz import render, to_dot
    from archdsl.pipeline import run

    path = zoo_index.path_of(args.network)
    if path is None:
        print(f"no zoo network {args.network}")
        return 1
    if shutil.which("dot") is None:
        print("Graphviz's dot is not installed (make graphviz); nothing to measure")
        return 1
    front, result = timed(lambda: run(path=path), args.runs)
    ir = result.ir
    gen, text = timed(lambda: to_dot(ir), args.runs)
    draw, svg = timed(lambda: render(text, "svg"), args.runs)
    same = to_dot(run(path=path).ir) == text and render(text, "svg") == svg
    exe = os.path.join(os.path.dirname(sys.executable), "archdsl")
    cli_runs = max(3, args.runs // 2)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "x.svg")
        cli, _ = timed(lambda: subprocess.run([exe, "draw", args.network, "-o", out],
                                              check=True), cli_runs)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds per run (archdsl and its `dot`): steadier than wall time on a busy machine.
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / cli_runs
    print(f"{args.network}: {len(ir) - 1} layers, DOT {len(text):,} bytes, "
          f"SVG {len(svg):,} bytes, {os.cpu_count()} CPUs")
    print(f"  front end (parse + check)   {front:7.3f} s")
    print(f"  DOT text (to_dot)           {gen:7.3f} s")
    print(f"  dot -Tsvg                   {draw:7.3f} s")
    print(f"  whole CLI `archdsl draw`    {cli:7.3f} s   (target < {TARGET:g} s: "
          f"{'ok' if cli < TARGET else 'MISSED'})")
    print(f"  whole CLI, CPU time         {cpu:7.3f} s   (mean; load average "
          f"{os.getloadavg()[0]:.1f})")
    print(f"  deterministic (DOT and SVG byte-identical run to run): {'yes' if same else 'NO'}")
    return 0 if cli < TARGET and same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
