"""The command line as a shell sees it (issue 15): the exit status through a closed pipe, `-`
and other streams as input, colour on a terminal (a real pty) and not through a pipe, and an
unknown option answered with the subcommand's own usage. Real processes, real pipes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archdsl import colour
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes and ptys")

BAD = "network n {\n  input 3x8x8\n  conv(4, 9x9)\n}\n"  # E0301 at 3:3
BROKEN = "network n {\n  input 3x8x8\n  conv(4, 3x3\n"  # a syntax error
GOOD = "network n {\n    input 3x8x8\n    conv(4, 3x3)\n}\n"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
COLOUR_ENV = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "TERM")


def _exe() -> str:
    exe = Path(sys.executable).with_name("archdsl")
    return str(exe) if exe.exists() else "archdsl"


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in COLOUR_ENV}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("shell")
    out = {}
    for name, text in (("bad", BAD), ("broken", BROKEN), ("good", GOOD)):
        (d / f"{name}.arch").write_text(text)
        out[name] = str(d / f"{name}.arch")
    out["dir"] = str(d)
    return out


def _commands(files) -> list[tuple[list[str], int]]:
    """Every command, on an input that fails (or succeeds, for `zoo`), and its exit code."""
    onnx = os.path.join(files["dir"], "out.onnx")
    return [(["check", files["bad"]], 1), (["check", "--format", "json", files["bad"]], 1),
            (["summary", files["bad"]], 1), (["summary", "--format", "json", files["bad"]], 1),
            (["draw", files["bad"], "--format", "dot"], 1), (["compile", files["bad"]], 1),
            (["export", files["bad"], "-o", onnx], 1), (["fmt", "--check", files["broken"]], 1),
            (["fmt", files["broken"]], 1), (["explain", "E9999"], 2), (["explain"], 0),
            (["zoo"], 0), (["check", "--bogus", files["good"]], 2)]


@pytest.mark.parametrize("stream", ["stdout", "stderr", "both"])
def test_the_exit_status_survives_a_closed_pipe(files, stream):
    """The reader has gone before the first write (its end of the pipe is closed): every
    write fails with EPIPE, and the exit code is still the command's own."""
    for argv, expected in _commands(files):
        read, write = os.pipe()
        os.close(read)
        try:
            out = write if stream in ("stdout", "both") else subprocess.DEVNULL
            err = write if stream in ("stderr", "both") else subprocess.PIPE
            proc = subprocess.run([_exe(), *argv], stdout=out, stderr=err, cwd=ROOT,
                                  env=_env(), timeout=300)
        finally:
            os.close(write)
        assert proc.returncode == expected, (argv, proc.returncode, proc.stderr)
        if proc.stderr is not None:
            assert b"Traceback" not in proc.stderr and b"Exception ignored" not in proc.stderr


@pytest.mark.parametrize("reader", ["true", "head -1", "head -c 10"])
def test_pipefail_sees_a_failing_check(files, reader):
    """`archdsl check bad.arch 2>&1 | true` under `set -o pipefail` fails, as it should."""
    for argv in (["check", files["bad"]], ["summary", files["bad"]]):
        cmd = f"set -o pipefail; {_exe()} {' '.join(argv)} 2>&1 | {reader}"
        proc = subprocess.run(["bash", "-c", cmd], capture_output=True, env=_env(),
                              timeout=120)
        assert proc.returncode == 1, (cmd, proc.stdout, proc.stderr)


# ------------------------------------------------------------------------ standard input

@pytest.mark.parametrize("command", ["check", "summary", "draw", "compile"])
def test_dash_is_standard_input_named_stdin(command):
    proc = subprocess.run([_exe(), command, "-"], input=BAD.encode(), capture_output=True,
                          cwd=ROOT, env=_env(), timeout=120)
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    assert "<stdin>:3:3: error[E0301]" in err and "  3 |   conv(4, 9x9)" in err, err


def test_standard_input_for_every_reading_command(tmp_path):
    for argv in (["check", "-"], ["summary", "-"], ["draw", "-", "--format", "dot"],
                 ["compile", "-"], ["fmt", "-"]):
        proc = subprocess.run([_exe(), *argv], input=GOOD.encode(), capture_output=True,
                              cwd=ROOT, env=_env(), timeout=300)
        assert proc.returncode == 0, (argv, proc.stderr)
    assert b"class N(nn.Module)" in subprocess.run(
        [_exe(), "compile", "-"], input=GOOD.encode(), capture_output=True, cwd=ROOT).stdout
    summary = subprocess.run([_exe(), "summary", "-"], input=GOOD.encode(),
                             capture_output=True, cwd=ROOT).stdout.decode()
    assert summary.startswith("n  (<stdin>)")


def test_dev_stdin_and_process_substitution(files):
    """`/dev/stdin` (a pipe here) and `<(...)` (a /dev/fd path) are read like `-`."""
    proc = subprocess.run([_exe(), "check", "/dev/stdin"], input=BAD.encode(),
                          capture_output=True, env=_env(), timeout=120)
    assert proc.returncode == 1 and b"/dev/stdin:3:3: error[E0301]" in proc.stderr
    for command in ("check", "summary", "fmt"):
        proc = subprocess.run(["bash", "-c", f"{_exe()} {command} <(cat {files['good']})"],
                              capture_output=True, env=_env(), timeout=120)
        assert proc.returncode == 0, (command, proc.stderr)
    proc = subprocess.run(["bash", "-c", f"{_exe()} check <(cat {files['bad']})"],
                          capture_output=True, env=_env(), timeout=120)
    assert proc.returncode == 1 and re.search(rb"/dev/fd/\d+:3:3: error\[E0301\]", proc.stderr)


def test_stdin_imports_resolve_from_the_current_folder(tmp_path):
    (tmp_path / "lib.arch").write_text("block unit(c) { conv(c, 3x3, pad=1) }\n")
    text = 'import "lib.arch"\nnetwork n { input 3x8x8  unit(4) }\n'
    proc = subprocess.run([_exe(), "check", "-"], input=text.encode(), capture_output=True,
                          cwd=tmp_path, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------------------- colour

def _on_a_pty(argv: list[str], env: dict) -> tuple[int, str]:
    """Run with standard error on a pseudo-terminal; (exit code, what it showed)."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([_exe(), *argv], stdout=subprocess.DEVNULL, stderr=slave,
                            env=env, cwd=ROOT)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child has gone and closed its side
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pty")
@pytest.mark.parametrize(("argv", "env", "coloured"), [
    ([], {}, True),
    ([], {"NO_COLOR": "1"}, False),
    ([], {"TERM": "dumb"}, False),
    (["--color", "never"], {}, False),
    (["--color=never"], {"FORCE_COLOR": "1"}, False),
    (["--color", "always"], {"NO_COLOR": "1"}, True),
], ids=["tty", "NO_COLOR", "dumb", "never", "never-beats-FORCE_COLOR", "always-beats-NO_COLOR"])
def test_colour_on_a_terminal(files, argv, env, coloured):
    code, shown = _on_a_pty(["check", files["bad"], *argv], _env(**{"TERM": "xterm", **env}))
    assert code == 1
    assert "error[E0301]" in ANSI.sub("", shown)
    assert (colour.RED + "error[E0301]" in shown) is coloured, shown
    assert bool(ANSI.search(shown)) is coloured, shown


@pytest.mark.parametrize(("argv", "env", "coloured"), [
    ([], {}, False),
    ([], {"FORCE_COLOR": "1"}, True),
    ([], {"CLICOLOR_FORCE": "1"}, True),
    ([], {"FORCE_COLOR": "0"}, False),
    (["--color", "always"], {}, True),
    (["--colour=always"], {}, True),
], ids=["piped", "FORCE_COLOR", "CLICOLOR_FORCE", "FORCE_COLOR=0", "always", "colour="])
def test_colour_through_a_pipe(files, argv, env, coloured):
    proc = subprocess.run([_exe(), *argv, "check", files["bad"]], capture_output=True,
                          env=_env(**env), timeout=120)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and bool(ANSI.search(err)) is coloured, err
    assert not ANSI.search(proc.stdout.decode())


def test_usage_errors_are_coloured_too():
    proc = subprocess.run([_exe(), "check", "--bogus", "x", "--color", "always"],
                          capture_output=True, env=_env(), timeout=60)
    assert proc.returncode == 2
    assert f"{colour.RED}error{colour.RESET}" in proc.stderr.decode()


def test_painting_only_adds_colour():
    """Every golden diagnostic, painted and stripped again, is the text it was; the parts
    rustc colours are coloured."""
    texts = [p.read_text() for p in sorted((ROOT / "tests" / "errors").glob("*.expected"))]
    assert len(texts) > 50
    for text in texts:
        painted = colour.paint(text)
        assert ANSI.sub("", painted) == text
        if "error[" in text:
            assert colour.RED + "error[" in painted
        if "\n  help: " in text:
            assert f"  {colour.CYAN}help{colour.RESET}: " in painted


def test_colour_choice_rules():
    class Tty:
        def isatty(self):
            return True

    assert colour.enabled(None, Tty(), {}) and not colour.enabled(None, object(), {})
    assert not colour.enabled("auto", Tty(), {"NO_COLOR": "x"})
    assert colour.enabled("auto", Tty(), {"NO_COLOR": ""})  # empty means unset
    assert colour.enabled(None, object(), {"FORCE_COLOR": "3"})
    assert not colour.enabled("never", Tty(), {"FORCE_COLOR": "1"})


# ----------------------------------------------------------------------- usage of commands

@pytest.mark.parametrize("command", ["check", "summary", "draw", "compile", "export", "fmt",
                                     "zoo", "explain"])
def test_an_unknown_option_prints_the_subcommands_usage(command):
    more = ["-o", "x.onnx"] if command == "export" else []  # its required option first
    target = [] if command == "zoo" else ["lenet5"]
    code, _, err = run_cli(command, *target, *more, "--no-such-option")
    assert code == 2
    assert err.startswith(f"usage: archdsl {command} "), err
    assert "unrecognized arguments: --no-such-option" in err


def test_color_is_accepted_before_and_after_the_command():
    assert run_cli("--color", "never", "check", "lenet5")[0] == 0
    assert run_cli("check", "lenet5", "--color", "never")[0] == 0
    code, _, err = run_cli("check", "lenet5", "--color", "sometimes")
    assert code == 2 and "invalid choice: 'sometimes'" in err


# ----------------------------------------------------------------------- streams and files

def test_status_lines_go_to_standard_error(tmp_path):
    """`wrote ...`, `reformatted ...`: on stderr, so stdout holds only the data asked for."""
    pytest.importorskip("torch")
    unformatted = tmp_path / "u.arch"
    unformatted.write_text("network n{input 8;relu}\n")
    for argv, said in ((["compile", "lenet5", "-o", str(tmp_path / "l.py")], "wrote "),
                       (["draw", "lenet5", "-o", str(tmp_path / "l.dot")], "wrote "),
                       (["fmt", str(unformatted)], "reformatted ")):
        code, out, err = run_cli(*argv)
        assert code == 0 and out == "" and err.startswith(said), (argv, out, err)


def test_binary_output_is_refused_on_a_terminal():
    """`archdsl draw lenet5 --format png` on a terminal would fill it with bytes."""
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.run([_exe(), "draw", "lenet5", "--format", "png"], stdout=slave,
                              stderr=subprocess.PIPE, env=_env(), timeout=120, cwd=ROOT)
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 2
    assert proc.stderr.decode() == ("archdsl: error: PNG is binary: refusing to write it to a "
                                    "terminal; give -o FILE.png or redirect the output\n")


def test_an_extension_contradicting_format_is_warned(tmp_path):
    out = tmp_path / "net.png"
    code, _, err = run_cli("draw", "lenet5", "-o", str(out), "--format", "dot")
    assert code == 0 and out.read_text().startswith('digraph "lenet5"')
    assert err.startswith(f"warning: -o {out} says .png but --format dot writes DOT; the file "
                          "will hold DOT\n"), err
    code, _, err = run_cli("draw", "lenet5", "-o", str(tmp_path / "net.gv"), "--format", "dot")
    assert code == 0 and "warning" not in err


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_a_png_that_graphviz_scales_down_is_reported(tmp_path):
    """ResNet-152 drawn whole is taller than 32,767 pixels: Graphviz shrinks the bitmap."""
    out = tmp_path / "r.png"
    code, _, err = run_cli("draw", "resnet152", "-o", str(out))
    assert code == 0 and out.read_bytes().startswith(b"\x89PNG")
    height = int.from_bytes(out.read_bytes()[20:24], "big")  # the IHDR chunk
    assert height == 32_767
    assert re.search(r"warning: Graphviz scaled the PNG down to \d+% of its size to fit its "
                     r"32,767-pixel limit, .*draw it as SVG", err), err
    code, _, err = run_cli("draw", "resnet152", "-o", str(tmp_path / "r.svg"))
    assert code == 0 and "warning" not in err


def test_export_opset_is_validated_as_a_usage_error(tmp_path):
    pytest.importorskip("onnx")
    from archdsl.backends.torch.onnx_export import supported_opsets

    low, high = supported_opsets()
    assert low <= 17 <= high
    for opset in (low - 1, high + 1, 0):
        code, _, err = run_cli("export", "lenet5", "-o", str(tmp_path / "l.onnx"), "--opset",
                               str(opset))
        assert code == 2 and err == (f"archdsl: error: --opset {opset} is not supported: "
                                     f"opsets {low} to {high} can be exported here "
                                     "(default 17)\n"), err
    assert not (tmp_path / "l.onnx").exists()


def test_the_zoo_is_in_natural_order_with_a_header_on_every_column():
    code, out, _ = run_cli("zoo")
    lines = out.splitlines()
    names = [line.split()[0] for line in lines[1:]]
    assert code == 0 and names.index("resnet18") < names.index("resnet34") < names.index(
        "resnet50") < names.index("resnet101") < names.index("resnet152")
    assert names.index("vgg11") < names.index("vgg11_bn") < names.index("vgg13")
    assert lines[0].split("  ")[-1].strip() and len(re.split(r"\s{2,}", lines[0])) == len(
        re.split(r"\s{2,}", lines[1]))  # as many headers as columns
    md = run_cli("zoo", "--format", "markdown")[1].splitlines()
    assert md[0].count("|") == md[1].count("|") == md[2].count("|")


def test_the_summary_says_where_a_zoo_file_is():
    assert run_cli("summary", "resnet50")[1].startswith("resnet50  (zoo:resnet50)  classes=")
    code, out, _ = run_cli("summary", "zoo:resnet50", "--depth", "1")
    assert code == 0 and out.startswith("resnet50  (zoo:resnet50)")
    path = str(ROOT / "architectures" / "lenet5.arch")  # a file is named by its path
    code, out, _ = run_cli("summary", path)
    assert out.startswith(f"lenet5  ({path})")


def test_every_option_in_the_readme_exists():
    """The README's command lines use only options their command has (and show the new
    ones: --color, `-`, zoo:NAME)."""
    from archdsl.cli import build_parser

    readme = (ROOT / "README.md").read_text()
    lines = [m.group(1) for m in re.finditer(r"(?:^|\| )archdsl (\w+[^#\n]*)", readme, re.M)]
    assert len(lines) > 20
    seen = set()
    for line in lines:
        words = line.split()
        sub = build_parser(words[:1]).get_default("_parsers")[words[0]]
        known = {s for action in sub._actions for s in action.option_strings}
        for word in words[1:]:
            if word.startswith("--"):
                flag = word.split("=")[0]
                assert flag in known, (line, flag)
                seen.add(flag)
    assert {"--color", "--depth", "--format", "--opset"} <= seen
    assert "archdsl check -" in readme and "zoo:resnet50" in readme
