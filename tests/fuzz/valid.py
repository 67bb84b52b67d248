"""Random *valid* programs through every back end (tests/fuzz/checks.py), seeded and parallel.

Program N of seed S is `tests.fuzz.programs.program(S, N)`, the same on every machine. Each runs
in a worker process (so a crash inside PyTorch is a finding, not the end of the run), with a
time limit. A failing program is shrunk, by deleting lines while it still parses and still
fails at the same stage, and with `--save` written as a regression case (`CASES`, which
tests/fuzz/test_valid.py runs).

    python -m tests.fuzz.valid --programs 10000 --seed 0 --jobs 2     # make fuzz-valid
    python -m tests.fuzz.valid --replay 4711 --seed 0                  # print and rerun one

It prints the programs run, the failures, the exports refused for a documented reason, the
slowest program and the largest worker memory (peak resident set).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import selectors
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).parent / "valid_cases"
TIME_LIMIT = 120  # seconds for one program in a worker before it counts as a failure


# ---------------------------------------------------------------------------- one program

class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def run_one(text: str, expected=None) -> dict:
    """Check one program; a JSON-able result (problems, refusals, skips, seconds)."""
    from .checks import check

    t0 = time.perf_counter()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
    try:
        outcome = check(text, expected)
        result = {"problems": outcome.problems, "refused": outcome.refused,
                  "skipped": outcome.skipped}
    except _Timeout:
        result = {"problems": [f"time: still running after {TIME_LIMIT} s"], "refused": [],
                  "skipped": []}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    result["seconds"] = time.perf_counter() - t0
    return result


def _stage(problem: str) -> str:
    return problem.split(":", 1)[0]


def shrink(text: str, stage: str, budget: float = 120.0) -> str:
    """A smaller program that still checks clean and still fails at `stage`: lines deleted one
    at a time, last first, while that holds (a few passes, within `budget` seconds)."""
    import archdsl

    def fails(candidate: str) -> bool:
        try:
            net = archdsl.parse(candidate)
        except Exception:
            return False
        if any(d.severity == "error" for d in net.diagnostics):
            return False
        return any(_stage(p) == stage for p in run_one(candidate)["problems"])

    deadline = time.monotonic() + budget
    lines = text.splitlines()
    changed = True
    while changed and time.monotonic() < deadline:
        changed = False
        for i in range(len(lines) - 1, -1, -1):
            if time.monotonic() >= deadline:
                break
            candidate = lines[:i] + lines[i + 1:]
            if candidate and fails("\n".join(candidate) + "\n"):
                lines, changed = candidate, True
    return "\n".join(lines) + "\n"


def save_case(text: str, problem: str, seed: int, index: int) -> Path:
    CASES.mkdir(exist_ok=True)
    path = CASES / f"seed{seed}-program{index}.arch"
    header = (f"# found by python -m tests.fuzz.valid --seed {seed} (program {index}), shrunk\n"
              f"# {problem[:200]}\n")
    path.write_text(header + text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- workers

def _worker(seed: int, indices: list[int]) -> int:
    """Run programs, one JSON line each on stdout (a `start` line first, so the parent knows
    which program was running if the process dies)."""
    import warnings

    import torch

    from .programs import program

    warnings.simplefilter("ignore")  # torch's and the exporter's warnings are not findings
    torch.set_num_threads(1)  # tiny tensors: threads only cost
    out = sys.stdout
    crash_at = os.environ.get("ARCHDSL_VALID_CRASH_AT")  # tests/fuzz/test_valid.py's hook
    for index in indices:
        print(json.dumps({"start": index}), file=out, flush=True)
        if crash_at is not None and int(crash_at) == index:
            os.kill(os.getpid(), signal.SIGSEGV)
        arch = program(seed, index)
        result = run_one(arch.text, arch)
        result.update(done=index, features=sorted(arch.features),
                      rss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        print(json.dumps(result), file=out, flush=True)
    return 0


@dataclass
class Report:
    seed: int
    ran: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)
    refused: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    features: Counter = field(default_factory=Counter)
    slowest: tuple[float, int] = (0.0, -1)
    rss_kb: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        refused = sum(self.refused.values())
        out = [f"fuzz-valid: {self.ran:,} programs (seed {self.seed}) in {self.seconds:,.0f} s: "
               f"{len(self.failures)} failed",
               "  every back end: front end, IR vs torch, standalone source, in place vs out "
               "of place (values, gradients), optimize, ONNX in onnxruntime, DOT/SVG",
               f"  ONNX export refused (located E0601, by design): {refused}"
               + (" (" + ", ".join(f"{k} {v}" for k, v in self.refused.most_common()) + ")"
                  if refused else ""),
               f"  slowest program: {self.slowest[1]} took {self.slowest[0]:.2f} s; largest "
               f"worker peak memory {self.rss_kb / 1024:,.0f} MB"]
        for what, n in self.skipped.most_common():
            out.append(f"  skipped in {n:,} programs: {what}")
        return out


def fuzz(programs: int, seed: int = 0, jobs: int = 2, start: int = 0, progress=None) -> Report:
    """Run programs `start` .. `start + programs - 1` of `seed` in `jobs` worker processes."""
    t0 = time.perf_counter()
    report = Report(seed)
    todo = {w: list(range(start + w, start + programs, jobs)) for w in range(jobs)}
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    sel = selectors.DefaultSelector()
    running: dict = {}

    def spawn(w: int) -> None:
        if not todo[w]:
            return
        rest = todo[w]  # every `jobs`-th program from the first not yet done
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fuzz.valid", "--worker", "--seed", str(seed),
             "--indices", f"{rest[0]}:{rest[-1] + 1}:{jobs}"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT, env=env, text=True)
        running[w] = {"proc": proc, "current": None}
        sel.register(proc.stdout, selectors.EVENT_READ, w)

    for w in todo:
        spawn(w)
    while running:
        for key, _ in sel.select():
            w = key.data
            state = running[w]
            line = key.fileobj.readline()
            if line:
                msg = json.loads(line)
                if "start" in msg:
                    state["current"] = msg["start"]
                    continue
                index = msg["done"]
                todo[w].remove(index)
                state["current"] = None
                report.ran += 1
                report.refused.update(msg["refused"])
                report.skipped.update(msg["skipped"])
                report.features.update(msg["features"])
                report.slowest = max(report.slowest, (msg["seconds"], index))
                report.rss_kb = max(report.rss_kb, msg["rss_kb"])
                if msg["problems"]:
                    report.failures.append((index, "; ".join(msg["problems"])))
                    if progress:
                        progress(f"  program {index}: {msg['problems'][0]}")
                if progress and report.ran % 500 == 0:
                    progress(f"  {report.ran:,} programs, {len(report.failures)} failed, "
                             f"{time.perf_counter() - t0:,.0f} s")
                continue
            # the worker ended: normally, or it died inside a program
            sel.unregister(key.fileobj)
            code = state["proc"].wait()
            del running[w]
            if state["current"] is not None:
                index = state["current"]
                todo[w].remove(index)
                report.ran += 1
                report.failures.append((index, f"crash: the worker died (exit {code})"))
                if progress:
                    progress(f"  program {index}: crash (exit {code})")
            spawn(w)
    report.failures.sort()
    report.seconds = time.perf_counter() - t0
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz.valid", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--programs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0, help="the run's seed (default 0)")
    ap.add_argument("--start", type=int, default=0, help="first program number")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--replay", type=int, metavar="N", help="print and rerun program N only")
    ap.add_argument("--save", action="store_true",
                    help=f"shrink each failure and write it to {CASES.relative_to(ROOT)}/")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--indices", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        first, stop, step = map(int, args.indices.split(":"))
        return _worker(args.seed, list(range(first, stop, step)))
    if args.replay is not None:
        from .programs import program

        arch = program(args.seed, args.replay)
        print(arch.text)
        result = run_one(arch.text, arch)
        for problem in result["problems"]:
            print(f"# {problem}", file=sys.stderr)
        print(f"# {'failed' if result['problems'] else 'ok'} ({result['seconds']:.2f} s)",
              file=sys.stderr)
        return 1 if result["problems"] else 0
    report = fuzz(args.programs, args.seed, args.jobs, args.start,
                  progress=lambda s: print(s, file=sys.stderr, flush=True))
    for index, problem in report.failures[:50]:
        print(f"program {index}: {problem}")
    if args.save:
        from .programs import program

        for index, problem in report.failures:
            if problem.startswith("crash"):
                continue  # a crash cannot be shrunk in-process: replay it by its number
            text = shrink(program(args.seed, index).text, _stage(problem))
            print(f"  wrote {save_case(text, problem, args.seed, index).relative_to(ROOT)}")
    for line in report.lines():
        print(line)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
