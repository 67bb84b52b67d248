"""Front-end benchmarks (issue 7): how fast `archdsl check` answers, and how the front end scales.

1. CLI start-up and check: the whole process `archdsl check resnet152` (the zoo's ResNet-152),
   median of repeated runs, next to `python -c pass` and `python -c "import archdsl.cli"`.
2. Front-end scaling: parse + elaborate + check (`archdsl.pipeline.run` on the text) of generated
   programs with 1,000 / 10,000 / 100,000 layers written out line by line, sequential and
   branched (residual `add` and two-way `concat` units). Each (program, size) runs in a fresh
   process, so the peak memory (ru_maxrss) is that run's own. Both wall and CPU time are shown:
   on a shared machine the wall time also counts the waits for a core.

Usage: python bench/frontend.py [--quick] [--runs N]
    --quick   sizes 1k / 10k only, fewer runs (a smoke test, not the figures)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

PY = sys.executable
SIZES = (1_000, 10_000, 100_000)
REPEATS = {1_000: 7, 10_000: 5, 100_000: 3}
TARGET_START = 0.3
TARGET_RATIO = 12.0
TARGET_100K = 15.0
TARGET_MEM_MB = 1024


# ---------------------------------------------------------------- generated programs
def sequential(n: int) -> str:
    """`n` layers in one pipeline: conv, batchnorm, relu, conv, ... on an 8x8x8 input."""
    cycle = ("conv(8, 3x3, pad=1)", "batchnorm", "relu")
    lines = [f"    {cycle[i % 3]}" for i in range(n)]
    return "network seq {\n    input 8x8x8\n" + "\n".join(lines) + "\n}\n"


def branched(n: int) -> str:
    """`n` layers of alternating residual units (conv, bn, relu, conv + identity, `add`: 5
    layers) and two-way concat units (1x1 and 3x3 conv, `concat`: 3 layers); relu fills up."""
    res = ("    add {\n        { conv(8, 3x3, pad=1); batchnorm; relu; conv(8, 3x3, pad=1) }\n"
           "        {}\n    }")
    cat = "    concat {\n        { conv(4, 1x1) }\n        { conv(4, 3x3, pad=1) }\n    }"
    parts, count, k = [], 0, 0
    while True:
        unit, size = (res, 5) if k % 2 == 0 else (cat, 3)
        if count + size > n:
            break
        parts.append(unit)
        count += size
        k += 1
    parts += ["    relu"] * (n - count)
    return "network branched {\n    input 8x8x8\n" + "\n".join(parts) + "\n}\n"


PROGRAMS = {"sequential": sequential, "branched": branched}


# ---------------------------------------------------------------- child: one size, one process
def child(kind: str, n: int, repeats: int) -> None:
    import resource

    from archdsl.elaborate import Limits
    from archdsl.pipeline import run

    text = PROGRAMS[kind](n)
    # the default limits bound any input at about 2 s (dsl/budget.py): a 100,000-layer
    # program is beyond them on purpose, so the bench raises them
    limits = Limits(max_layers=10 * n + 10, max_work=10**12, max_file_size=10**9)
    warm = run(text=PROGRAMS[kind](30), display="warm.arch", limits=limits)
    assert not warm.diagnostics.has_errors
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = run(text=text, display=f"{kind}{n}.arch", limits=limits)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        assert not result.diagnostics.has_errors, result.diagnostics.items[:3]
        assert len(result.ir) == n + 1, (len(result.ir), n)
        del result
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux -> MiB
    print(json.dumps({"times": times, "cpu": cpu, "peak_mb": peak, "chars": len(text)}))


def measure(kind: str, n: int, repeats: int) -> dict:
    out = subprocess.run([PY, __file__, "--child", kind, str(n), str(repeats)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- start-up
def user_env() -> dict:
    """The environment of an ordinary install: Python may cache bytecode (a wheel's install
    compiles it; PYTHONDONTWRITEBYTECODE=1, set on some dev machines, would make every run
    compile archdsl's sources again, ~0.1 s). The cache goes to a temporary folder, not the tree."""
    import tempfile

    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "archdsl-bench-pycache")
    return env


def median_process(cmd: list[str], runs: int) -> tuple[float, float]:
    """Median wall and CPU (user + system, from the child's rusage) seconds of a command."""
    import resource

    env = user_env()
    subprocess.run(cmd, capture_output=True, env=env)  # warm the file, bytecode, grammar caches
    times, cpu = [], []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, env=env)
        times.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr.decode()}")
    return statistics.median(times), statistics.median(cpu)


def archdsl_cmd() -> list[str]:
    script = os.path.join(os.path.dirname(PY), "archdsl")
    return [script] if os.path.exists(script) else [shutil.which("archdsl") or "archdsl"]


def startup(runs: int) -> None:
    rows = [
        ("python -c pass", [PY, "-c", "pass"]),
        ('python -c "import archdsl.cli"', [PY, "-c", "import archdsl.cli"]),
        ("archdsl check resnet152", [*archdsl_cmd(), "check", "resnet152"]),
    ]
    print(f"CLI start-up (whole process, median of {runs} runs)")
    print(f"  {'command':<34} {'wall':>8} {'cpu':>8}")
    result = {}
    for label, cmd in rows:
        wall, cpu = median_process(cmd, runs)
        result[label] = wall
        print(f"  {label:<34} {wall:>7.3f}s {cpu:>7.3f}s")
    t = result["archdsl check resnet152"]
    verdict = "met" if t <= TARGET_START else "MISSED"
    print(f"  target: archdsl check resnet152 <= {TARGET_START} s: {verdict}")
    print()


def scaling(sizes, quick: bool) -> None:
    print("Front-end scaling: parse + elaborate + check, fresh process per row "
          "(median of repeated runs)")
    print(f"  {'program':<11} {'layers':>8} {'chars':>10} {'runs':>4} {'wall':>8} {'cpu':>8} "
          f"{'us/layer':>9} {'ratio':>6} {'peak RSS':>9}")
    worst_ratio, t100k, peak_all = 0.0, None, 0.0
    for kind in PROGRAMS:
        prev = None
        for n in sizes:
            reps = 2 if quick else REPEATS[n]
            m = measure(kind, n, reps)
            t = statistics.median(m["times"])
            c = statistics.median(m["cpu"])
            ratio = f"{t / prev:.1f}" if prev else "-"
            if prev and n == 100_000:  # the target: t(100k) / t(10k)
                worst_ratio = max(worst_ratio, t / prev)
            if n == 100_000:
                t100k = max(t100k or 0.0, t)
            peak_all = max(peak_all, m["peak_mb"])
            print(f"  {kind:<11} {n:>8,} {m['chars']:>10,} {reps:>4} {t:>7.2f}s {c:>7.2f}s "
                  f"{t / n * 1e6:>9.1f} {ratio:>6} {m['peak_mb']:>7.0f}MB")
            prev = t
    if worst_ratio:
        print(f"  worst t(100k)/t(10k): {worst_ratio:.1f} (target <= {TARGET_RATIO:g}: "
              f"{'met' if worst_ratio <= TARGET_RATIO else 'MISSED'})")
    if t100k is not None:
        print(f"  100,000 layers: {t100k:.2f} s (target <= {TARGET_100K:g} s: "
              f"{'met' if t100k <= TARGET_100K else 'MISSED'})")
    print(f"  peak RSS: {peak_all:.0f} MB (target <= {TARGET_MEM_MB} MB: "
          f"{'met' if peak_all <= TARGET_MEM_MB else 'MISSED'})")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        child(argv[1], int(argv[2]), int(argv[3]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1k and 10k layers only, fewer runs")
    ap.add_argument("--runs", type=int, default=15, help="runs of each start-up command")
    ap.add_argument("--only", choices=("startup", "scaling"), help="one half only")
    args = ap.parse_args(argv)
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n")
    if args.only != "scaling":
        startup(5 if args.quick else args.runs)
    if args.only != "startup":
        scaling(SIZES[:2] if args.quick else SIZES, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
