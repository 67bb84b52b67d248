"""Diagnostics over stdio against `archdsl check --format json`: every golden error file, opened
in the server as an editor opens it, gets exactly the CLI's diagnostics (code, message, help,
range, labels and notes as related information) on the file each one points into, and the
code links to its `archdsl explain` entry."""

from __future__ import annotations

import json
import shlex
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

pytest.importorskip("pygls", reason="needs the `lsp` extra (pygls)")

from tests.conftest import ROOT, TESTS, run_cli
from tests.lsp.client import Client
from tests.lsp.conftest import lsp_position

ERRORS = TESTS / "errors"
CASES = sorted(p for p in ERRORS.rglob("*.arch") if "lib" not in p.relative_to(ERRORS).parts)


def _server_args(path: Path) -> tuple[str, ...]:
    """The server-wide flags a golden file asks for (`# args: --max-depth 2`); `--set` and
    `--input` have no server counterpart (an editor checks the file as written), nor has
    `--werror` (an exit status), so they are left out."""
    first = path.read_text(errors="replace").split("\n", 1)[0]
    if not first.startswith("# args:"):
        return ()
    words = shlex.split(first[len("# args:"):])
    out, i = [], 0
    while i < len(words):
        if words[i] in ("--set", "--input"):
            i += 2
            continue
        if words[i] == "--werror":
            i += 1
            continue
        out.append(words[i])
        i += 1
    return tuple(out)


def _cli_json(path: Path, args: tuple[str, ...]) -> list[dict]:
    code, out, err = run_cli("check", "--format", "json", *args,
                             path.relative_to(ROOT).as_posix())
    assert code in (0, 1), err
    return json.loads(out)


def _path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def _utf8(path: Path) -> bool:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


GROUPS: dict[tuple[str, ...], list[Path]] = defaultdict(list)
for _p in CASES:
    if not _utf8(_p):  # an editor hands over decoded text: E0108 is for files read from disk
        continue
    GROUPS[_server_args(_p)].append(_p)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("args", sorted(GROUPS), ids=lambda a: " ".join(a) or "defaults")
def test_error_files_match_check_json(args):
    with Client(*args, cwd=ROOT) as c:
        c.initialize(ROOT)
        for path in GROUPS[args]:
            _compare(c, path, args)
        assert not c.errors_logged(), c.errors_logged()


def _compare(c: Client, path: Path, args: tuple[str, ...]) -> None:
    expected = _cli_json(path, args)
    mark = c.mark()
    text = path.read_bytes().decode("utf-8", errors="replace")
    uri = c.open(path, text)
    published: dict[Path, list[dict]] = {path.resolve(): c.diagnostics(uri, mark)}
    own = published[path.resolve()]
    if not expected:  # clean without its `--set`: clean in the editor too
        assert own == [], (path.name, own)
        return
    for e in expected:  # diagnostics in imported files are published on those files
        if e["span"]:
            file = (ROOT / e["span"]["file"]).resolve()
            if file not in published:
                published[file] = c.diagnostics(file.as_uri(), mark)
    copies = [d for d in own if d["message"].startswith("in ")]
    for e in expected:
        file = (ROOT / e["span"]["file"]).resolve() if e["span"] else path.resolve()
        ftext = file.read_bytes().decode("utf-8", errors="replace")
        got = published.get(file, [])
        matches = [d for d in got if d["code"] == e["code"]
                   and d["message"].split("\nhelp: ")[0] == e["message"]]
        assert len(matches) == 1, f"{path.name}: {e['code']} {e['message']!r} not published " \
                                  f"once on {file.name}: {got}"
        d = matches[0]
        if e["span"]:
            s, t = e["span"], d["range"]
            assert (t["start"]["line"], t["start"]["character"]) == \
                lsp_position(ftext, s["line"], s["col"]), (path.name, e, d)
            assert (t["end"]["line"], t["end"]["character"]) == \
                lsp_position(ftext, s["end_line"], s["end_col"]), (path.name, e, d)
        # DiagnosticSeverity: Error 1, Warning 2
        assert d["severity"] == {"error": 1, "warning": 2}[e["severity"]]
        assert d["source"] == "archdsl"
        assert d["message"] == e["message"] + (f"\nhelp: {e['help']}" if e["help"] else "")
        related = [r["message"] for r in d.get("relatedInformation") or []]
        wanted = ([e["label"]] if e["label"] else []) + [lab["message"] for lab in e["labels"]] \
            + [f"note: {n}" for n in e["notes"]]
        assert related == wanted, (path.name, related, wanted)
        href = d["codeDescription"]["href"]
        assert _path(href).read_text().startswith(f"# {e['code']}: ")
        if file != path.resolve():  # shown in this document too, where it comes from
            assert any(x["code"] == e["code"] and e["message"] in x["message"] for x in copies)
    own_expected = [e for e in expected if not e["span"] or
                    (ROOT / e["span"]["file"]).resolve() == path.resolve()]
    assert len(own) == len(own_expected) + len(copies), (path.name, own, own_expected)


def test_every_code_has_an_explain_page():
    from archdsl.codes import CATALOGUE, explain
    from archdsl.lsp.convert import explain_uri

    for code in CATALOGUE:
        text = _path(explain_uri(code)).read_text()
        assert text == "# " + explain(code)
    assert explain_uri("E9999") is None
