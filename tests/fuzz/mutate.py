"""Mutation fuzzing of the front end: broken variants of real files must fail politely.

Seeds are every zoo file (`architectures/*.arch`), every example (`examples/*.arch`, the
table-driven networks among them) and every golden error file (`tests/errors/**/*.arch`, inline
calls and warnings among them). Each case takes one seed and applies one to three random edits:
delete, duplicate, repeat or swap tokens; replace a token by a keyword or bracket; change a
number to 0, -1 or a huge value; cut the file at a random point; insert random bytes (decoded
the way `archdsl` reads files, bad bytes becoming U+FFFD) or non-ASCII text; splice in part of
another seed. Then it runs what a person would: the pipeline (parse, imports, elaboration,
analyses), the diagnostic renderer, the summary table, and the formatter.

A case passes when it ends in success or in diagnostics whose spans lie inside their file
(a span may be None only for whole-file problems), the formatter either formats (idempotently)
or reports diagnostics, and nothing takes longer than `--slow` seconds (2 by default). Any
other exception is a failure. Each case is reproducible from its number and the run's seed:

    python -m tests.fuzz.mutate --cases 100000 --jobs 2
    python -m tests.fuzz.mutate --replay 4711 --seed 0    # print and rerun one case
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HARD_TIMEOUT = 20  # seconds: a case still running is stopped and counted as a failure

# The default limits let a valid file ask for a million layers, which takes longer than a
# case's 2 s to elaborate (relu * 100000 is legitimate); cases run with this lower layer limit
# so the time bound tests the compiler, not the size of what was asked for.
MAX_LAYERS = 20_000

# Codes whose diagnostics may have no span: they are about the whole file.
WHOLE_FILE = {"E0212"}

_TOKEN = re.compile(r'\s+|#[^\n]*|"[^"\n]*"|[A-Za-z_][A-Za-z0-9_]*|\d+(?:x\d+)+'
                    r'|\d+\.\d*(?:[eE][-+]?\d+)?|\d+|\*\*|//|[=!<>]=|.', re.S)
_VOCAB = ["{", "}", "(", ")", "[", "]", ",", ";", ":", "=", "*", ".", "-", "+", "/", "**",
          "if", "else", "then", "and", "or", "not", "true", "false", "in", "in.channels",
          "add", "concat", "input", "init", "block", "network", "import", '"x.arch"',
          "conv", "relu", "linear", "maxpool", "same", "3x3", "0x0", "1.5", '"', "#", "\n",
          # issue 13: inline calls, the current tensor
          "inline", "x", "x.channels", "x.height", "3x", "x3",
          # tables (issue 13): loops, constants, indexing, value functions, computed labels
          "for", "let", "for i in range(3)", "enumerate(", "range(10 ** 12)", "zip(", "len(",
          "sum(", "round(", "int(", "[0]", "[-1]", "[1:]", "[:2]", "(t, c, n, s)", "{i}",
          "layer{i + 1}:", "let w = 4 *", "[(1, 16, 1, 1), (6, 24, 2, 2)]", "[x for x in ",
          " if "]
_HUGE = ["0", "-1", "1000000000", str(2**62), str(2**62 + 1), str(10**30), "9" * 200,
         "99999999999", "1e308", "1e999", "0.0", "65536x65536", "100000x100000x100000"]
_STRANGE = ["é", "λ", "ß", "\u202e", "\u200b", "\ufeff", "\x00", "\t", "\r", "\r\n", "🙂",
            "\u2028", "\x0c", "ｃｏｎｖ", "中文", "\\", "`", "$", "@", "'", "\x7f"]


def seeds() -> list[Path]:
    zoo = sorted((ROOT / "architectures").glob("*.arch"))
    examples = sorted((ROOT / "examples").glob("*.arch"))  # the table-driven networks too
    errors = sorted((ROOT / "tests" / "errors").rglob("*.arch"))
    return zoo + examples + errors


@dataclass
class Case:
    index: int
    seed: Path
    edits: list[str]
    text: str


def make_case(run_seed: int, index: int, files: list[Path], texts: dict[Path, str]) -> Case:
    rng = random.Random(f"{run_seed}:{index}")
    seed = rng.choice(files)
    text = texts[seed]
    edits = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        text, what = _mutate(rng, text, files, texts)
        edits.append(what)
    return Case(index, seed, edits, text)


def _mutate(rng: random.Random, text: str, files, texts) -> tuple[str, str]:
    toks = _TOKEN.findall(text) or [""]
    solid = [i for i, t in enumerate(toks) if t.strip()] or [0]
    i = rng.choice(solid)
    op = rng.randrange(11)
    if op == 0:
        toks[i] = ""
        return "".join(toks), f"delete token {i}"
    if op == 1:
        toks[i] = toks[i] * 2 if rng.random() < 0.5 else toks[i] + " " + toks[i]
        return "".join(toks), f"duplicate token {i}"
    if op == 2:
        j = rng.choice(solid)
        toks[i], toks[j] = toks[j], toks[i]
        return "".join(toks), f"swap tokens {i} and {j}"
    if op == 3:
        nums = [k for k, t in enumerate(toks) if t[:1].isdigit()] or [i]
        k = rng.choice(nums)
        toks[k] = rng.choice(_HUGE)
        return "".join(toks), f"number {k} -> {toks[k][:20]}"
    if op == 4:
        cut = rng.randrange(len(text) + 1)
        return text[:cut], f"cut at {cut}"
    if op == 5:
        raw = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        at = rng.randrange(len(text) + 1)
        return text[:at] + raw.decode("utf-8", errors="replace") + text[at:], f"bytes at {at}"
    if op == 6:
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice(_STRANGE) + text[at:], f"non-ASCII at {at}"
    if op == 7:
        toks[i] = rng.choice(_VOCAB)
        return "".join(toks), f"token {i} -> {toks[i]!r}"
    if op == 8:
        other = texts[rng.choice(files)]
        a = rng.randrange(len(other) + 1)
        b = min(len(other), a + rng.randint(1, 200))
        at = rng.randrange(len(text) + 1)
        return text[:at] + other[a:b] + text[at:], f"splice {b - a} chars at {at}"
    if op == 9:
        n = rng.choice((10, 50, 200, 1000))
        toks[i] = " ".join([toks[i]] * n)
        return "".join(toks), f"repeat token {i} x{n}"
    toks.insert(i, rng.choice(_VOCAB))
    return "".join(toks), f"insert before token {i}"


# ---------------------------------------------------------------------------- one case

def check_case(case: Case, slow: float = 2.0) -> str | None:
    """None when the case behaves; otherwise what went wrong. `archdsl check` (pipeline and
    rendering) and `archdsl fmt` are timed apart: each must finish within `slow` seconds of
    CPU time (wall time on a shared machine mostly measures the neighbours)."""
    from archdsl.diagnostics import ArchError, render_all
    from archdsl.elaborate import Limits
    from archdsl.format import format_text
    from archdsl.pipeline import run
    from archdsl.summary import render as summary

    display = os.path.relpath(case.seed, ROOT)
    t0 = time.process_time()
    result = run(text=case.text, display=display, base_dir=str(case.seed.parent),
                 limits=Limits(max_layers=MAX_LAYERS))
    problem = _check_spans(result.diagnostics.items)
    if problem:
        return problem
    render_all(result.diagnostics.items)
    if result.ir is not None and "totals" in result.ir.graph.graph:
        summary(result.ir)
    t1 = time.process_time()
    if t1 - t0 > slow:
        return f"slow: checking took {t1 - t0:.2f} s"
    try:
        out = format_text(case.text, display)
    except ArchError as exc:
        return _check_spans(exc.diagnostics)
    if time.process_time() - t1 > slow:
        return f"slow: formatting took {time.process_time() - t1:.2f} s"
    if format_text(out, display, verify=False) != out:
        return "formatting is not idempotent"
    return None


def _check_spans(diags) -> str | None:
    from archdsl.diagnostics import Omitted

    for d in diags:
        if isinstance(d, Omitted):  # the count of diagnostics past the cap: no place
            continue
        spans = ([d.span] if d.span is not None else []) + [lab.span for lab in d.labels]
        if d.span is None and d.code not in WHOLE_FILE:
            return f"{d.code} has no location: {d.message}"
        for sp in spans:
            if not 0 <= sp.start <= sp.end <= len(sp.source.text):
                return f"{d.code} span {sp.start}..{sp.end} outside {sp.path}: {d.message}"
    return None


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def run_case(case: Case, slow: float) -> tuple[int, str | None, float]:
    """(index, failure or None, seconds); a failure message names the exception."""
    t0 = time.perf_counter()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, HARD_TIMEOUT)
    try:
        problem = check_case(case, slow)
    except _Timeout:
        problem = f"still running after {HARD_TIMEOUT} s"
    except BaseException as exc:  # any escape is exactly what we look for
        if isinstance(exc, KeyboardInterrupt):
            raise
        problem = f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return case.index, problem, time.perf_counter() - t0


# ---------------------------------------------------------------------------- driving

_STATE: dict = {}


def _init(run_seed: int, slow: float) -> None:
    from archdsl.load_grammar import lark_parser

    lark_parser()  # built once per process, before any case is timed
    files = seeds()
    _STATE.update(seed=run_seed, slow=slow, files=files,
                  texts={p: p.read_bytes().decode("utf-8", "replace") for p in files})


def _work(index: int) -> tuple[int, str | None, float]:
    case = make_case(_STATE["seed"], index, _STATE["files"], _STATE["texts"])
    return run_case(case, _STATE["slow"])


@dataclass
class Report:
    ran: int
    failures: list[tuple[int, str]]
    slowest: tuple[float, int]
    seconds: float

    def line(self) -> str:
        rate = self.ran / self.seconds if self.seconds else 0.0
        return (f"fuzz: ran {self.ran:,} cases in {self.seconds:.1f} s ({rate:,.0f}/s): "
                f"{len(self.failures)} failed; slowest case {self.slowest[1]} took "
                f"{self.slowest[0]:.2f} s")


def fuzz(cases: int, run_seed: int = 0, jobs: int = 1, slow: float = 2.0,
         start: int = 0, progress=None) -> Report:
    t0 = time.perf_counter()
    failures: list[tuple[int, str]] = []
    slowest = (0.0, -1)
    indices = range(start, start + cases)
    if jobs <= 1:
        _init(run_seed, slow)
        results = map(_work, indices)
        pool = None
    else:
        pool = multiprocessing.get_context("fork").Pool(jobs, _init, (run_seed, slow))
        results = pool.imap_unordered(_work, indices, chunksize=64)
    try:
        for n, (index, problem, took) in enumerate(results, 1):
            if problem is not None:
                failures.append((index, problem))
                if progress:
                    progress(f"  case {index}: {problem}")
            slowest = max(slowest, (took, index))
            if progress and n % 10_000 == 0:
                progress(f"  {n:,} cases, {len(failures)} failed, "
                         f"{time.perf_counter() - t0:.0f} s")
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return Report(cases, sorted(failures), slowest, time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz.mutate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0, help="the run's seed (default 0)")
    ap.add_argument("--start", type=int, default=0, help="first case number")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--slow", type=float, default=2.0, help="seconds before a case fails")
    ap.add_argument("--replay", type=int, metavar="N", help="print and rerun case N only")
    ap.add_argument("--save", metavar="DIR", help="write each failing case to DIR/case-N.arch")
    args = ap.parse_args(argv)
    if args.replay is not None:
        _init(args.seed, args.slow)
        case = make_case(args.seed, args.replay, _STATE["files"], _STATE["texts"])
        print(f"# case {case.index}: seed {case.seed.relative_to(ROOT)}; "
              + "; ".join(case.edits))
        print(case.text)
        _, problem, took = run_case(case, args.slow)
        print(f"# {problem or 'ok'} ({took:.3f} s)", file=sys.stderr)
        return 1 if problem else 0
    report = fuzz(args.cases, args.seed, args.jobs, args.slow, args.start,
                  progress=lambda s: print(s, file=sys.stderr, flush=True))
    for index, problem in report.failures[:50]:
        print(f"case {index}: {problem}")
    if args.save and report.failures:
        _init(args.seed, args.slow)
        os.makedirs(args.save, exist_ok=True)
        for index, _ in report.failures:
            case = make_case(args.seed, index, _STATE["files"], _STATE["texts"])
            Path(args.save, f"case-{index}.arch").write_text(case.text, encoding="utf-8")
    print(report.line())
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
