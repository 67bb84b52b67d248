"""The server never crashes on the mutation fuzz corpus: a seeded slice of `tests/lsp/fuzz.py`
in-process (every feature, unguarded), and a smaller one over stdio (every answer a result,
never an error, nothing logged, the process alive at the end)."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("pygls", reason="needs the `lsp` extra (pygls)")

from tests.conftest import ROOT
from tests.fuzz.mutate import make_case, seeds
from tests.lsp.client import Client
from tests.lsp.fuzz import change_range, fuzz

CI_CASES = 1500
STDIO_CASES = 60


def test_mutated_files_never_crash_a_feature():
    failures = fuzz(CI_CASES, run_seed=2024)
    assert not failures, "\n".join(f"case {i}: {p}" for i, p in failures[:10]) + \
        "\n(replay one with: python -m tests.lsp.fuzz --seed 2024 --replay N)"


def _pos(text: str, offset: int) -> dict:
    line = text.count("\n", 0, offset)
    return {"line": line, "character": offset - (text.rfind("\n", 0, offset) + 1)}


def test_mutated_files_over_stdio():
    files = seeds()
    texts = {p: p.read_bytes().decode("utf-8", "replace") for p in files}
    with Client(cwd=ROOT) as c:
        c.initialize(ROOT)
        for index in range(STDIO_CASES):
            case = make_case(99, index, files, texts)
            rng = random.Random(index)
            seed = texts[case.seed]
            path = case.seed.parent / f"__fuzz_{index}__.arch"
            uri = c.open(path, seed)
            a, b, new = change_range(seed, case.text)
            # positions by character count: the corpus's non-BMP characters are rare, and a
            # position the client miscounts is still a position the server must survive
            c.change(uri, 2, rng={"start": _pos(seed, a), "end": _pos(seed, b)}, new=new)
            for _ in range(4):
                at = rng.randrange(len(case.text) + 1)
                p = _pos(case.text, at)
                c.at("textDocument/hover", uri, p["line"], p["character"])
                c.at("textDocument/completion", uri, p["line"], p["character"])
            c.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
            c.request("textDocument/inlayHint", {"textDocument": {"uri": uri}, "range": {
                "start": {"line": 0, "character": 0}, "end": {"line": 10**4, "character": 0}}})
            c.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        assert c.proc.poll() is None
        assert not c.errors_logged(), c.errors_logged()[:3]
        assert c.close() == 0
