"""Construction and compile cost (issue 14): `to_torch()` against hand-written PyTorch, and the
whole `archdsl compile` process.

1. Construction: `net.to_torch()` (the network already loaded and checked) against calling the
   hand-written constructor of bench/_handwritten.py, for ResNet-50, ResNet-152 and LeNet-5.
   Before timing, the hand-written module loads the compiled one's `state_dict` with
   `strict=True` and gives the same eval-mode output (1e-5), so a wrong reference aborts the
   run. Each run builds every module once, in rotated order, and frees it with a collection
   outside the timed region (bench/forward.py's `build_times`); each ratio is the median of the
   per-run ratios, with quartiles. An A/A row builds the hand-written module twice per run:
   what two identical constructors differ by here is the band a ratio is read against.
2. Compile: the whole process `archdsl compile resnet152 -o FILE` (and LeNet-5), wall and CPU,
   median of runs interleaved with `python -c pass`, `archdsl check resnet152` (the front end
   alone) and `python -c "import torch"` (what a compile that imports torch pays for it), so
   that each ratio compares processes timed in the same minutes.

Usage: python bench/construction.py [--quick] [--only build|compile]
Targets (issue 14): construction ResNet-50 and ResNet-152 <= 1.1x, LeNet-5 <= 1.5x;
`archdsl compile resnet152` <= 0.5 s.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import _handwritten
from forward import build_times, fmt, paired_ratio
from frontend import archdsl_cmd, user_env

PY = sys.executable
BUILD = {"lenet5": _handwritten.LeNet5, "resnet50": _handwritten.resnet50,
         "resnet152": _handwritten.resnet152}
REPEATS = {"lenet5": 41, "resnet50": 15, "resnet152": 11}
TARGET_BUILD = {"lenet5": 1.5, "resnet50": 1.1, "resnet152": 1.1}
TARGET_COMPILE = 0.5
TOLERANCE = 1e-5
COPY = "hand-written copy"


def checked_reference(name: str, net) -> None:
    """The hand-written module computes what the compiled one does (same weights)."""
    import torch

    compiled = net.to_torch().eval()
    ref = BUILD[name]().eval()
    ref.load_state_dict(compiled.state_dict(), strict=True)
    x = torch.randn(1, *net.input_shape)
    with torch.inference_mode():
        torch.testing.assert_close(ref(x), compiled(x), rtol=TOLERANCE, atol=TOLERANCE)


def construction(quick: bool) -> bool:
    import torch

    import archdsl

    torch.set_num_threads(2)
    torch.manual_seed(0)
    rows, ok = [], True
    for name in BUILD:
        net = archdsl.zoo(name)
        checked_reference(name, net)
        repeats = 3 if quick else REPEATS[name]
        bt = build_times({"to_torch()": net.to_torch, "hand-written": BUILD[name],
                          COPY: BUILD[name]}, repeats)
        ratio, lo, hi = paired_ratio(bt["to_torch()"], bt["hand-written"])
        aa, aa_lo, aa_hi = paired_ratio(bt[COPY], bt["hand-written"])
        met = ratio <= TARGET_BUILD[name]
        ok &= met
        rows.append((name, statistics.median(bt["to_torch()"]),
                     statistics.median(bt["hand-written"]), ratio, lo, hi, aa, aa_lo, aa_hi,
                     TARGET_BUILD[name], met))
    print(f"Construction (torch {torch.__version__}, {torch.get_num_threads()} threads, CPU; "
          "medians of interleaved runs)")
    print()
    print("| network | to_torch() | hand-written | ratio | quartiles | A/A | A/A quartiles "
          "| target | met? |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, c, h, r, lo, hi, aa, aa_lo, aa_hi, target, met in rows:
        print(f"| {name} | {fmt(c)} | {fmt(h)} | {r:.3f} | {lo:.3f}–{hi:.3f} | {aa:.3f} "
              f"| {aa_lo:.3f}–{aa_hi:.3f} | ≤ {target} | {'yes' if met else 'no'} |")
    print()
    return ok


def interleaved_processes(commands: dict[str, list[str]], runs: int) -> dict:
    """Wall and CPU seconds (lists) of each command, runs rotating which goes first; one
    untimed warm-up each (file cache, bytecode, the grammar cache)."""
    env = user_env()
    for cmd in commands.values():
        subprocess.run(cmd, capture_output=True, env=env)
    wall = {k: [] for k in commands}
    cpu = {k: [] for k in commands}
    names = list(commands)
    for r in range(runs):
        for k in names[r % len(names):] + names[:r % len(names)]:
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run(commands[k], capture_output=True, env=env)
            wall[k].append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[k].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
            if proc.returncode != 0:
                raise SystemExit(f"{' '.join(commands[k])} failed:\n{proc.stderr.decode()}")
    return {"wall": wall, "cpu": cpu}


def compile_process(quick: bool) -> bool:
    runs = 3 if quick else 11
    with tempfile.TemporaryDirectory() as tmp:
        cli = archdsl_cmd()
        commands = {
            "python -c pass": [PY, "-c", "pass"],
            "archdsl check resnet152": [*cli, "check", "resnet152"],
            'python -c "import torch"': [PY, "-c", "import torch"],
            "archdsl compile lenet5": [*cli, "compile", "lenet5", "-o",
                                       os.path.join(tmp, "lenet5.py")],
            "archdsl compile resnet152": [*cli, "compile", "resnet152", "-o",
                                          os.path.join(tmp, "resnet152.py")],
        }
        t = interleaved_processes(commands, runs)
        lines = {name: len(Path(tmp, f"{name}.py").read_text().splitlines())
                 for name in ("lenet5", "resnet152")}
    wall = {k: statistics.median(v) for k, v in t["wall"].items()}
    cpu = {k: statistics.median(v) for k, v in t["cpu"].items()}
    print(f"Whole processes (median of {runs} interleaved runs, wall and CPU)")
    print()
    print("| command | wall | CPU | wall / `archdsl check resnet152` | output |")
    print("|---|---:|---:|---:|---|")
    check = "archdsl check resnet152"
    for k in commands:
        out = next((f"{lines[n]:,} lines written" for n in lines
                    if k == f"archdsl compile {n}"), "")
        print(f"| `{k}` | {wall[k]:.3f} s | {cpu[k]:.3f} s | {wall[k] / wall[check]:.2f} "
              f"| {out} |")
    t152, torch_import = wall["archdsl compile resnet152"], wall['python -c "import torch"']
    met = t152 <= TARGET_COMPILE
    print()
    print(f"target: archdsl compile resnet152 <= {TARGET_COMPILE} s: "
          f"{'met' if met else 'NOT met'} ({t152:.3f} s; importing torch alone "
          f"{torch_import:.3f} s)")
    print()
    return met


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few repeats (a smoke test)")
    ap.add_argument("--only", choices=("build", "compile"), help="run one half")
    opts = ap.parse_args(argv)
    ok = True
    if opts.only != "compile":
        ok &= construction(opts.quick)
    if opts.only != "build":
        ok &= compile_process(opts.quick)
    print(f"targets: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
