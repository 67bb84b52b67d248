"""Warnings (dsl/lint.py): their level, --werror, the count line, colour, the JSON, the API,
and a zoo, examples and language reference without any."""

from __future__ import annotations

from pathlib import Path

import pytest

import archdsl
from archdsl import colour
from archdsl.diagnostics import Diagnostics, render_all
from archdsl.pipeline import run
from tests.conftest import ROOT, run_cli

FILES = sorted([*(ROOT / "architectures").glob("*.arch"), *(ROOT / "examples").glob("*.arch")])

LEFTOVER = "network net {\n    input 3x8x8\n    conv1 = conv(4, 3x3)\n    relu\n}\n"


def _diags(text: str):
    return run(text=text, display="net.arch", require_network=False).diagnostics.items


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_zoo_and_the_examples_have_no_warning(path: Path):
    diags = run(path=str(path), require_network=False).diagnostics.items
    assert not diags, [(d.code, d.span.location() if d.span else None, d.message) for d in diags]


def test_a_warning_does_not_fail_check_unless_werror(tmp_path):
    f = tmp_path / "net.arch"
    f.write_text(LEFTOVER)
    code, out, err = run_cli("check", str(f))
    assert code == 0 and not out
    assert "warning[W0002]" in err and err.rstrip().endswith("1 warning found")
    assert run_cli("check", "--werror", str(f))[0] == 1
    for command in ("summary", "draw"):
        code, out, err = run_cli(command, str(f))
        assert code == 0 and out and "warning[W0002]" in err, command
        assert run_cli(command, "--werror", str(f))[0] == 1, command


def test_the_count_line_names_errors_and_warnings():
    diags = _diags(LEFTOVER.replace("relu", "relu\n    conv(4, 9x9)"))
    assert [d.severity for d in diags] == ["warning", "error"]
    assert render_all(diags).endswith("\n\n1 error and 1 warning found")


def test_check_json_gives_the_severity(tmp_path):
    import json

    f = tmp_path / "net.arch"
    f.write_text(LEFTOVER)
    code, out, _ = run_cli("check", "--format", "json", str(f))
    assert code == 0
    assert [(d["severity"], d["code"]) for d in json.loads(out)] == [("warning", "W0002")]


def test_the_api_loads_a_network_with_warnings_and_keeps_them():
    net = archdsl.parse(LEFTOVER, filename="net.arch")
    assert [d.code for d in net.warnings] == [d.code for d in net.diagnostics] == ["W0002"]
    assert net.summary()  # the table is made as usual
    assert archdsl.parse(LEFTOVER.replace("conv1 =", "conv1:")).warnings == []


def test_summary_json_lists_the_warnings_and_is_not_partial(tmp_path):
    import json

    f = tmp_path / "net.arch"
    f.write_text(LEFTOVER)
    code, out, err = run_cli("summary", "--format", "json", str(f))
    data = json.loads(out)
    assert code == 0 and "warning[W0002]" in err
    assert data["partial"] is False
    assert [(d["severity"], d["code"]) for d in data["diagnostics"]] == [("warning", "W0002")]


def test_an_error_after_warnings_is_the_headline():
    with pytest.raises(archdsl.ArchError) as info:
        archdsl.parse(LEFTOVER.replace("relu", "relu\n    conv(4, 9x9)"), filename="net.arch")
    assert info.value.headline.startswith("net.arch:5:") and "(and" not in info.value.headline


def test_warnings_have_a_cap_of_their_own_and_do_not_stop_elaboration():
    body = "".join(f"    v{i} = relu\n" for i in range(150))
    diags = _diags("network net {\n    input 3x8x8\n" + body + "    conv(4, 9x9)\n}\n")
    codes = [d.code for d in diags]
    assert codes.count("W0002") == 100 and "E0301" in codes  # the error is still found
    assert diags[-1].message == "50 more warnings not shown (the first 100 are above)"


def test_warning_carets_are_yellow_and_error_carets_red():
    text = render_all(_diags(LEFTOVER.replace("relu", "relu\n    conv(4, 9x9)")))
    painted = colour.paint(text).split("\n")
    carets = [line for line in painted if "^" in line]
    assert colour.YELLOW + "^^^^^" in carets[0] and colour.RED + "^" in carets[1]
    assert painted[0].startswith(colour.BOLD) and colour.YELLOW + "warning[W0002]" in painted[0]


def test_the_painter_keeps_the_severity_across_writes():
    import io

    out = io.StringIO()
    p = colour.Painter(out)
    text = render_all(_diags(LEFTOVER))
    for line in text.split("\n"):
        p.write(line + "\n")
    assert colour.YELLOW + "^^^^^" in out.getvalue() and colour.RED not in out.getvalue()


def test_collector_counts_warnings_apart():
    d = Diagnostics(limit=2)
    for i in range(3):
        d.warning("W0001", f"w{i}", None)
    for i in range(3):
        d.error("E0204", f"e{i}", None)
    assert [x.message for x in d.items[:4]] == ["w0", "w1", "e0", "e1"]
    assert d.items[-1].message.startswith("1 more error and 1 warning not shown")
    assert d.full and d.has_warnings and d.has_errors


def test_compile_shows_warnings_and_writes_nothing_with_werror(tmp_path):
    pytest.importorskip("torch")
    f = tmp_path / "net.arch"
    f.write_text(LEFTOVER)
    out = tmp_path / "net.py"
    code, _, err = run_cli("compile", str(f), "-o", str(out))
    assert code == 0 and out.exists() and "warning[W0002]" in err
    out.unlink()
    code, _, err = run_cli("compile", str(f), "-o", str(out), "--werror")
    assert code == 1 and not out.exists() and "warning[W0002]" in err
