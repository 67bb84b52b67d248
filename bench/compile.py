"""`archdsl compile` speed (issue 14): the whole process `archdsl compile resnet152 -o FILE`,
which writes text and imports no torch, next to `archdsl check resnet152` (the front end it
runs first) and `python -c "import torch"` (what importing torch alone costs), interleaved,
median of repeated runs, wall and CPU time (on a shared machine the wall time also counts the
waits for a core).

Usage: python bench/compile.py [--runs N]      (target: compile ResNet-152 <= 0.5 s wall)
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

PY = sys.executable
TARGET = 0.5


def _archdsl(*args: str) -> list[str]:
    return [PY, "-c", "import sys; from archdsl.cli import main; sys.exit(main(sys.argv[1:]))",
            *args]


def _time(cmd: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=9)
    opts = ap.parse_args(argv)
    out = os.path.join(tempfile.mkdtemp(), "resnet152.py")
    cases = {
        "archdsl compile resnet152 -o FILE": _archdsl("compile", "resnet152", "-o", out),
        "archdsl check resnet152 (reference)": _archdsl("check", "resnet152"),
        'python -c "import torch" (reference)': [PY, "-c", "import torch"],
    }
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in cases}
    for cmd in cases.values():  # warm the file cache
        _time(cmd)
    for _ in range(opts.runs):
        for name, cmd in cases.items():
            times[name].append(_time(cmd))
    print(f"median of {opts.runs} interleaved runs")
    print()
    print("| process | wall | CPU |")
    print("|---|---:|---:|")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(w for w, _ in ts):.3f} s | "
              f"{statistics.median(c for _, c in ts):.3f} s |")
    wall = statistics.median(w for w, _ in times["archdsl compile resnet152 -o FILE"])
    print()
    print(f"target: compile <= {TARGET} s wall: {'met' if wall <= TARGET else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
