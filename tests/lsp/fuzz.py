"""Mutation fuzzing of the language server: the corpus of tests/fuzz/mutate.py (random edits of
the zoo and of the golden error files), each case played as an editor would: open the seed,
change it into the mutant with one incremental edit, then ask for diagnostics, hovers,
signature help and completions at random positions (some past the ends of lines and of the
file), definitions, references, symbols, inlay hints, quick fixes and formatting.

A case passes when nothing raises and it takes at most twice `--slow` seconds of CPU time
(each check runs with the server's time budget set to `--slow`, as `archdsl lsp
--check-timeout` does, and stops there: a file the compiler itself is slow on stays bounded).
The
features are called in-process, unguarded (the server's guard would turn a crash into a log
line); `test_fuzz.py` also plays a slice over stdio.

    python -m tests.lsp.fuzz --cases 20000
    python -m tests.lsp.fuzz --replay 17 --seed 0
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
import traceback

from lsprotocol import types as lsp

from archdsl.elaborate import Limits
from archdsl.lsp.actions import code_actions
from archdsl.lsp.analysis import Settings
from archdsl.lsp.completion import completion
from archdsl.lsp.convert import path_to_uri
from archdsl.lsp.hover import hover
from archdsl.lsp.inlay import inlay_hints
from archdsl.lsp.navigation import definition, references
from archdsl.lsp.server import formatting
from archdsl.lsp.signature import signature_help
from archdsl.lsp.symbols import document_symbols
from archdsl.lsp.text import Lines
from archdsl.lsp.workspace import Workspace
from tests.fuzz.mutate import MAX_LAYERS, Case, make_case, seeds

POSITIONS = 6  # hovers, and as many other requests, per case
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")


def change_range(old: str, new: str) -> tuple[int, int, str]:
    """The one edit (old[a:b] replaced by a string) that turns `old` into `new`."""
    a = 0
    n = min(len(old), len(new))
    while a < n and old[a] == new[a]:
        a += 1
    b = 0
    while b < n - a and old[len(old) - 1 - b] == new[len(new) - 1 - b]:
        b += 1
    start, end, text = a, len(old) - b, new[a:len(new) - b]
    # a position cannot lie between the `\r` and the `\n` of a line end (the protocol's
    # lines end at either side of it): widen the edit to take the whole terminator
    if 0 < start < len(old) and old[start - 1] == "\r" and old[start] == "\n":
        start, text = start - 1, "\r" + text
    if 0 < end < len(old) and old[end - 1] == "\r" and old[end] == "\n":
        end, text = end + 1, text + "\n"
    return start, end, text


def play(case: Case, seed_text: str, rng: random.Random, slow: float = 2.0) -> None:
    """One case through every feature; raises on a failure."""
    # the server's own time budget, as `archdsl lsp` runs with it, at the case's bound
    ws = Workspace(Settings(limits=Limits(max_layers=MAX_LAYERS), timeout=slow))
    uri = path_to_uri(str(case.seed.parent / "__fuzz__.arch"))
    ws.open(uri, seed_text, 1)
    ws.diagnostics()
    a, b, new = change_range(seed_text, case.text)
    lines = Lines(seed_text)
    ws.change(uri, [(lines.position(a), lines.position(b), new)], 2)
    assert ws.docs[uri].text == case.text, "the incremental change did not give the mutant"
    ws.diagnostics()
    text = case.text
    now = Lines(text)
    words = [m.start() for m in _WORD.finditer(text)]
    for _ in range(POSITIONS):
        if words and rng.random() < 0.6:  # on a word: where hovers have something to say
            line, char = now.position(rng.choice(words) + rng.randrange(3))
        else:  # anywhere, past the ends of lines and of the file too
            line = rng.randrange(len(now) + 2)
            char = rng.randrange(len(now.line_text(line)) + 3)
        pos = lsp.Position(line=line, character=char)
        hover(ws, uri, pos)
        signature_help(ws, uri, pos)
        what = rng.randrange(4)
        if what == 0:
            completion(ws, uri, pos, snippets=True)
        elif what == 1:
            definition(ws, uri, pos)
        elif what == 2:
            references(ws, uri, pos)
        else:
            completion(ws, uri, pos, snippets=False)
    document_symbols(ws, uri)
    whole = lsp.Range(start=lsp.Position(line=0, character=0),
                      end=lsp.Position(line=len(now) + 1, character=0))
    inlay_hints(ws, uri, whole)
    code_actions(ws, uri, whole)
    formatting(ws, uri)


def check(run_seed: int, index: int, files, texts, slow: float = 2.0) -> str | None:
    rng = random.Random(f"lsp:{run_seed}:{index}")
    case = make_case(run_seed, index, files, texts)
    t0 = time.process_time()
    try:
        play(case, texts[case.seed], rng, slow)
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc)[:200]}\n" + traceback.format_exc(limit=-3)
    took = time.process_time() - t0
    if took > 2 * slow:  # a check stopped at the budget, then every feature
        return f"slow: {took:.2f} s"
    return None


def fuzz(cases: int, run_seed: int = 0, start: int = 0, slow: float = 2.0):
    files = seeds()
    texts = {p: p.read_bytes().decode("utf-8", "replace") for p in files}
    failures = []
    for index in range(start, start + cases):
        problem = check(run_seed, index, files, texts, slow)
        if problem is not None:
            failures.append((index, problem))
    return failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.lsp.fuzz", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--slow", type=float, default=2.0)
    ap.add_argument("--replay", type=int, metavar="N")
    args = ap.parse_args(argv)
    if args.replay is not None:
        files = seeds()
        texts = {p: p.read_bytes().decode("utf-8", "replace") for p in files}
        case = make_case(args.seed, args.replay, files, texts)
        print(f"# case {case.index}: {'; '.join(case.edits)}\n{case.text}")
        problem = check(args.seed, args.replay, files, texts, args.slow)
        print(f"# {problem or 'ok'}", file=sys.stderr)
        return 1 if problem else 0
    t0 = time.perf_counter()
    failures = fuzz(args.cases, args.seed, args.start, args.slow)
    for index, problem in failures[:50]:
        print(f"case {index}: {problem}")
    print(f"lsp fuzz: {args.cases:,} cases in {time.perf_counter() - t0:.1f} s, "
          f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
