"""The command line as a person uses it: help, version, exit codes, summary formats."""

from __future__ import annotations

import json

import pytest

from archdsl.commands import COMMANDS
from tests.conftest import run_cli


def test_version():
    code, out, _ = run_cli("--version")
    assert code == 0 and out.startswith("archdsl ")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command):
    code, out, _ = run_cli(command, "--help")
    assert code == 0 and "usage: archdsl" in out


def test_no_command_is_a_usage_error():
    code, _, err = run_cli()
    assert code == 2 and "COMMAND" in err


def test_check_is_silent_on_success():
    assert run_cli("check", "lenet5") == (0, "", "")


def test_check_reports_errors_with_exit_1(tmp_path):
    bad = tmp_path / "bad.arch"
    bad.write_text("network n {\n  input 1x4x4\n  conv(2, 7x7)\n}\n")
    code, out, err = run_cli("check", str(bad))
    assert code == 1 and out == ""
    assert f"{bad}:3:3: error[E0301]" in err and "^^^^" in err


def test_check_json(tmp_path):
    bad = tmp_path / "bad.arch"
    bad.write_text("network n { input 1x4x4  covn }")
    code, out, _ = run_cli("check", "--format", "json", str(bad))
    assert code == 1
    (diag,) = json.loads(out)
    assert diag["code"] == "E0201" and diag["span"]["line"] == 1
    assert "did you mean `conv`" in diag["message"]


def test_usage_errors_exit_2():
    assert run_cli("summary", "no_such_net")[0] == 2
    assert run_cli("summary", "lenet5", "--set", "classes")[0] == 2
    assert run_cli("summary", "lenet5", "--input", "3xx4")[0] == 2
    assert run_cli("summary", "lenet5", "--depth", "x")[0] == 2


def test_summary_table_shows_the_lecture_numbers():
    code, out, _ = run_cli("summary", "lenet5")
    assert code == 0
    assert "conv 6 5x5 /1 p0" in out and "6x28x28" in out and "61,706" in out


def test_summary_json_schema():
    code, out, _ = run_cli("summary", "lenet5", "--format", "json", "--set", "classes=7")
    data = json.loads(out)
    assert code == 0
    assert {"network", "input", "output", "params", "trainable_params", "macs", "layers"} <= \
        set(data)
    assert data["network"] == "lenet5" and data["input"] == [1, 32, 32]
    assert data["output"] == [7]
    first = data["layers"][0]
    assert {"name", "op", "shape", "params", "macs"} <= set(first)
    assert first["name"] == "conv1" and first["shape"] == [6, 28, 28]
    assert sum(layer["params"] for layer in data["layers"]) == data["params"]


def test_summary_input_override_and_markdown():
    code, out, _ = run_cli("summary", "lenet5", "--input", "1x36x36", "--format", "markdown")
    assert code == 0 and "| `conv1` | conv 6 5x5 /1 p0 | 6x32x32 |" in out


def test_summary_on_a_shape_error_prints_up_to_the_failing_layer(tmp_path):
    bad = tmp_path / "bad.arch"
    bad.write_text("network n {\n input 1x8x8\n a: conv(2, 3x3)\n b: conv(2, 9x9)\n c: relu\n}\n")
    code, out, err = run_cli("summary", str(bad))
    assert code == 1 and "E0301" in err
    assert "a " in out and "<-- error" in out and "\nc " not in out


def test_summary_depth_collapses_blocks():
    code, out, _ = run_cli("summary", "resnet50", "--depth", "1")
    assert code == 0
    assert "layer1 " in out and "layer1.0" not in out


def test_zoo_lists_networks():
    code, out, _ = run_cli("zoo")
    assert code == 0 and "lenet5" in out and "61,706" in out
