"""Coverage-guided fuzzing of the front end with atheris (libFuzzer for Python), issue 11.

Where `tests/fuzz/mutate.py` edits real files at random, this lets libFuzzer grow inputs
towards new coverage of archdsl and Lark (both instrumented): every branch of the lexer, the
parser's error paths, the evaluator, elaboration, the renderer and the formatter. Each input
is decoded as `archdsl` decodes a file (bad bytes become U+FFFD) and goes where a person's file
would go: `pipeline.run`, the diagnostic renderer, the summary table, and the formatter.

An input passes when it ends in a result or in diagnostics, within `SLOW` seconds of CPU for
the front end and as much again for the formatter. Anything else (an exception that is not an
`ArchError`, a diagnostic with no place, a slow case) is a crash: libFuzzer saves the input as
`crash-<sha1>` and stops; every crash found becomes a case of `tests/fuzz/test_fuzz.py`.

The seed corpus is the zoo and the golden error files; the dictionary is made from the grammar's
keywords and punctuation and from the op registry (kinds, argument names), so the fuzzer can
splice real words. Run it with `make fuzz-atheris RUNS=1000000` (figures: docs/internals.md), or

    python -m tests.fuzz.atheris_target -runs=100000 out/fuzz-atheris/corpus

(any libFuzzer flag passes through; `--prepare DIR` only writes the corpus and dictionary).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SLOW = 2.0  # CPU seconds an input may take in the front end (and again in the formatter)
MAX_LAYERS = 20_000  # as tests/fuzz/mutate.py: a valid `relu * 100000` is not a slow case


class SlowInput(Exception):
    """An input that took longer than `SLOW` seconds of CPU: a failure like any crash."""


class Misplaced(Exception):
    """A diagnostic whose place is missing or outside its file."""


def check_one(data: bytes) -> None:
    """Run one input as the fuzzer does; raises on failure, returns on success."""
    from archdsl.diagnostics import ArchError, Omitted, render_all
    from archdsl.elaborate import Limits
    from archdsl.format import format_text
    from archdsl.pipeline import run
    from archdsl.summary import render as summary

    text = data.decode("utf-8", errors="replace")
    t0 = time.process_time()
    result = run(text=text, display="fuzz.arch", base_dir=str(ROOT / "tests" / "errors"),
                 limits=Limits(max_layers=MAX_LAYERS))
    for d in result.diagnostics.items:
        if isinstance(d, Omitted):
            continue
        if d.span is None and d.code != "E0212":
            raise Misplaced(f"{d.code} has no location: {d.message}")
        for sp in [d.span, *(lab.span for lab in d.labels)]:
            if sp is not None and not 0 <= sp.start <= sp.end <= len(sp.source.text):
                raise Misplaced(f"{d.code} span {sp.start}..{sp.end} outside {sp.path}")
    render_all(result.diagnostics.items)
    if result.ir is not None and "totals" in result.ir.attrs:
        summary(result.ir)
    t1 = time.process_time()
    if t1 - t0 > SLOW:
        raise SlowInput(f"checking took {t1 - t0:.2f} s of CPU")
    try:
        format_text(text, "fuzz.arch")
    except ArchError as exc:
        render_all(exc.diagnostics)
    if time.process_time() - t1 > SLOW:
        raise SlowInput(f"formatting took {time.process_time() - t1:.2f} s of CPU")


# ---------------------------------------------------------------------------- corpus, dictionary

def dictionary_words() -> list[str]:
    """The language's tokens: the grammar's quoted strings (keywords, brackets, operators),
    every layer kind and argument name of the op registry, shape attributes, init functions,
    constants, and a few literals of each form."""
    from archdsl import ops
    from archdsl.evaluate import SHAPE_ATTRS
    from archdsl.inits import INIT_FUNCTIONS
    from archdsl.load_grammar import grammar_text

    words = set(re.findall(r'"((?:[^"\\]|\\.)+)"', grammar_text()))
    for name in ops.names():
        words.add(name)
        for arg in ops.get(name).args:
            words.update((arg.name, *arg.aliases))
    words.update(SHAPE_ATTRS)
    words.update(INIT_FUNCTIONS)
    words.update(("same", "valid", "fan_in", "fan_out", "in", "then", "else", "min", "max",
                  "weight", "bias", "3x3", "1x1", "3x224x224", "0.5", "1e-5", "64", "2 ** 62",
                  '"blocks.arch"', "# comment", "\n", "{ }", "{}", "()", "[]", " * 3",
                  "in.channels", "[0]", "[1:]", "{i}", "layer{i + 1}:", "let w = ",
                  "for i in ", "(t, c, n, s)", "[(1, 16, 1, 1), (6, 24, 2, 2)]"))
    from archdsl.builtins import FUNCTIONS

    words.update(FUNCTIONS)
    return sorted(w for w in words if w)


def write_dictionary(path: Path) -> Path:
    lines = []
    for i, word in enumerate(dictionary_words()):
        escaped = "".join(c if c.isprintable() and c not in '"\\' else f"\\x{ord(c):02x}"
                          for c in word)
        lines.append(f'w{i}="{escaped}"')
    path.write_text("\n".join(lines) + "\n")
    return path


def write_corpus(folder: Path) -> Path:
    """The seeds: every zoo file and every golden error file (their imports resolve from
    tests/errors, where `check_one` runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = sorted((ROOT / "architectures").glob("*.arch")) + \
        sorted((ROOT / "tests" / "errors").rglob("*.arch"))
    for p in seeds:
        target = folder / ("seed-" + str(p.relative_to(ROOT)).replace(os.sep, "_"))
        if not target.exists():
            shutil.copyfile(p, target)
    return folder


def prepare(out: Path) -> tuple[Path, Path]:
    return write_corpus(out / "corpus"), write_dictionary(out / "archdsl.dict")


# ---------------------------------------------------------------------------- running

_STATS = {"inputs": 0, "worst_cpu": 0.0, "worst_input": "", "peak_rss_mb": 0.0}


def _one_input(data: bytes) -> None:
    """The fuzzed function. Every 1,000 inputs the figures so far go to $ARCHDSL_FUZZ_STATS
    as JSON: inputs, the slowest one (CPU), the peak RSS (libFuzzer ends the process without
    Python's exit handlers, so there is no write at the end; its own final stats count all)."""
    t0 = time.process_time()
    try:
        check_one(data)
    except SlowInput:
        # Instrumented for coverage, archdsl and Lark run about three times slower than they
        # do for a user: time the input again in a process of its own, uninstrumented, and
        # fail only if it is slow there too.
        _check_uninstrumented(data)
    took = time.process_time() - t0
    _STATS["inputs"] += 1
    if took > _STATS["worst_cpu"]:
        import hashlib

        _STATS.update(worst_cpu=took, worst_input=hashlib.sha1(data).hexdigest())
        path = os.environ.get("ARCHDSL_FUZZ_STATS")
        if path and took > 0.5:  # keep the slowest input seen, to look at
            Path(path).with_suffix(".slowest").write_bytes(data)
    if _STATS["inputs"] % 1_000 == 0:
        _write_stats()


def _check_uninstrumented(data: bytes) -> None:
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "tests.fuzz.atheris_target", "--check-one"],
                          input=data, capture_output=True, cwd=ROOT, timeout=120)
    if proc.returncode != 0:
        raise SlowInput("uninstrumented: " + proc.stderr.decode("utf-8", "replace")[-500:])


def _write_stats() -> None:
    import json
    import resource

    path = os.environ.get("ARCHDSL_FUZZ_STATS")
    if not path:
        return
    _STATS["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(path).write_text(json.dumps(_STATS, indent=1) + "\n")


def main(argv: list[str]) -> None:
    if argv[1:2] == ["--check-one"]:  # one input from standard input, as _one_input runs it
        from archdsl.load_grammar import lark_parser

        lark_parser()
        check_one(sys.stdin.buffer.read())
        return
    if argv[1:2] == ["--prepare"]:
        corpus, words = prepare(Path(argv[2]))
        print(f"corpus {corpus} ({len(list(corpus.iterdir()))} files), dictionary {words}")
        return
    import atheris

    with atheris.instrument_imports(include=["archdsl", "lark"]):
        import archdsl.diagnostics
        import archdsl.format
        import archdsl.pipeline
        import archdsl.summary  # noqa: F401
    from archdsl.load_grammar import lark_parser

    lark_parser()  # built (or loaded) once, before the first input is timed
    atheris.Setup(argv, _one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
