"""A file from a stranger cannot hurt: no code execution on the input path, imports only of
`.arch` files (relative, or along an explicit search path; `--sandbox` keeps them under the
first file's folder), atomic outputs that never overwrite a `.arch` input, and internal
errors reported in one line with the `.arch` location (exit 3, no traceback)."""

from __future__ import annotations

import dataclasses
import os
import re

import pytest

import archdsl
from archdsl import fileio
from archdsl.commands import COMMANDS
from archdsl.ops import registry
from tests.conftest import ROOT, run_cli

# ---------------------------------------------------------------------------- no code execution

FORBIDDEN = re.compile(
    r"(?<![\w.])(?<!def )(eval|exec|compile|__import__|execfile)\s*\("  # builtins, not methods
    r"|\bimport\s+(pickle|marshal|shelve|dill)\b|\bfrom\s+(pickle|marshal|shelve)\b"
    r"|\b(pickle|marshal)\.loads?\(|\bLark\.load\(|\bos\.system\(|shell\s*=\s*True"
    r"|\bimportlib\.import_module\((?!f\"archdsl\.)")

# Reviewed exceptions, each with why it is safe: (path, pattern that is allowed there). (The
# grammar-table cache, once unpickled, is JSON: see the tests at the end.)
ALLOWED: set[tuple[str, str]] = {
    # `to_torch` runs the source `to_source` generates (issue 14: one lowering). That text is
    # archdsl's own: every string from an input reaches it through archdsl/escape.py, which
    # tests/torch/test_hostile_source.py proves gives a file of exactly the statements meant.
    ("backends/torch/module.py", 'exec(compile(source, filename, "exec"), mod.__dict__)'),
    # `archdsl import pkg.module:factory` (issue 17) imports the Python module the person names
    # on the command line, which is what they ask for (docs/import.md says it runs its code);
    # no `.arch` file can reach it, and the factory's arguments are `ast.literal_eval`ed.
    ("backends/importer/spec.py", "mod = importlib.import_module(module)"),
}


def _sources():
    for top in ("dsl", "backends"):
        for path in sorted((ROOT / top).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


def test_no_eval_exec_or_unpickling_on_the_input_path():
    found = []
    for rel, text in _sources():
        for lineno, line in enumerate(text.splitlines(), 1):
            code = line.split("#", 1)[0]
            for m in FORBIDDEN.finditer(code):
                if not any(rel == p and allowed in code for p, allowed in ALLOWED):
                    found.append(f"{rel}:{lineno}: {m.group(0)}")
    assert not found, "code execution on the input path:\n" + "\n".join(found)


def test_the_grep_would_catch_it():
    assert FORBIDDEN.search("x = eval(text)") and FORBIDDEN.search("exec(code, g)")
    assert FORBIDDEN.search("import pickle") and FORBIDDEN.search("__import__('os')")
    assert not FORBIDDEN.search("self.ev.eval(expr, env)")
    assert not FORBIDDEN.search("re.compile(r'x')")
    assert not FORBIDDEN.search("    def eval(self, expr, env):")


def test_python_in_a_file_is_just_an_unknown_name():
    with pytest.raises(archdsl.ArchError) as info:
        archdsl.parse('network n { input 1x8x8\n __import__("os") }')
    assert info.value.diagnostics[0].code == "E0201"


# ---------------------------------------------------------------------------- imports

BLOCK = "block unit { relu }\n"
USE = "network n {\n    input 1x8x8\n    unit\n}\n"


def _codes(path, **kw) -> list[str]:
    try:
        archdsl.load(path, **kw)
    except archdsl.ArchError as exc:
        return [d.code for d in exc.diagnostics]
    return []


@pytest.fixture
def tree(tmp_path):
    """root/main.arch, root/sub/lib.arch, and outside/lib.arch next to root."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (root / "sub" / "lib.arch").write_text(BLOCK)
    (outside / "lib.arch").write_text(BLOCK)
    (outside / "secret.txt").write_text("block unit { relu }\n")
    (outside / "model.py").write_text("import os\n")
    return root, outside


def _main(root, imp: str):
    p = root / "main.arch"
    p.write_text(f'import "{imp}"\n' + USE)
    return p


def test_imports_are_relative_to_the_importing_file(tree, monkeypatch):
    root, _ = tree
    main = _main(root, "sub/lib.arch")
    monkeypatch.chdir(root.parent)  # not the file's folder
    assert _codes(main) == []
    assert _codes(main, sandbox=True) == []


def test_only_arch_files(tree):
    root, outside = tree
    assert _codes(_main(root, "../outside/model.py"))[0] == "E0401"
    os.symlink(outside / "secret.txt", root / "link.arch")
    assert _codes(_main(root, "link.arch"))[0] == "E0401"


def test_absolute_paths_are_refused(tree):
    root, outside = tree
    assert _codes(_main(root, str(outside / "lib.arch")))[0] == "E0401"


def test_search_path(tree):
    root, outside = tree
    main = _main(root, "lib.arch")
    assert _codes(main)[0] == "E0401"
    assert _codes(main, search_path=[str(outside)]) == []
    assert run_cli("check", str(main), "-I", str(outside))[0] == 0


def test_sandbox_refuses_dotdot(tree):
    root, _ = tree
    main = _main(root, "../outside/lib.arch")
    assert _codes(main) == []
    assert _codes(main, sandbox=True)[0] == "E0404"
    code, _, err = run_cli("check", "--sandbox", str(main))
    assert code == 1 and "E0404" in err and "outside the sandbox" in err


def test_sandbox_refuses_symlinks_out(tree):
    root, outside = tree
    os.symlink(outside / "lib.arch", root / "sub" / "link.arch")
    os.symlink(outside, root / "door")
    assert _codes(_main(root, "sub/link.arch"), sandbox=True)[0] == "E0404"
    assert _codes(_main(root, "door/lib.arch"), sandbox=True)[0] == "E0404"
    assert _codes(_main(root, "door/lib.arch")) == []


def test_sandbox_refuses_the_search_path_outside(tree):
    root, outside = tree
    main = _main(root, "lib.arch")
    assert _codes(main, sandbox=True, search_path=[str(outside)])[0] == "E0404"


def test_sandbox_inside_nested_imports(tree):
    root, _ = tree
    (root / "sub" / "mid.arch").write_text('import "../../outside/lib.arch"\n')
    assert _codes(_main(root, "sub/mid.arch"), sandbox=True)[0] == "E0404"


# ---------------------------------------------------------------------------- outputs

class Interrupted(BaseException):
    pass


def test_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch):
    p = tmp_path / "out.py"
    p.write_text("old\n")

    def cut(src, dst):
        raise Interrupted()

    monkeypatch.setattr(fileio.os, "replace", cut)
    with pytest.raises(Interrupted):
        fileio.write_atomic(str(p), "new " * 100_000)
    assert p.read_text() == "old\n"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["out.py"]


def test_interrupted_write_of_a_new_file_leaves_nothing(tmp_path, monkeypatch):
    p = tmp_path / "new.py"
    real_fsync = os.fsync

    def fail(fd):
        real_fsync(fd)
        raise Interrupted()

    monkeypatch.setattr(fileio.os, "fsync", fail)
    with pytest.raises(Interrupted):
        fileio.write_atomic(str(p), "x" * 1_000_000)
    assert list(tmp_path.iterdir()) == []


def test_write_atomic_refuses_arch_files(tmp_path):
    with pytest.raises(fileio.OutputRefused):
        fileio.write_atomic(str(tmp_path / "net.arch"), "x")
    src = tmp_path / "net.py"
    src.write_text("keep")
    with pytest.raises(fileio.OutputRefused):
        fileio.write_atomic(str(src), "x", inputs=(str(src),))
    assert src.read_text() == "keep"


@pytest.mark.parametrize("command", ["compile", "draw", "export"])
def test_outputs_never_overwrite_the_input(command, tmp_path):
    if command not in COMMANDS:
        pytest.skip(f"no `{command}` command yet")
    src = tmp_path / "n.arch"
    text = (ROOT / "architectures" / "lenet5.arch").read_text()
    src.write_text(text)
    extra = ["--format", "svg"] if command == "draw" else []
    code, _, err = run_cli(command, str(src), "-o", str(src), *extra)
    assert code == 2 and "refusing" in err
    assert src.read_text() == text
    other = tmp_path / "other.arch"
    code, _, err = run_cli(command, str(src), "-o", str(other), *extra)
    assert code == 2 and not other.exists()


# ---------------------------------------------------------------------------- internal errors

@pytest.fixture
def broken_relu(monkeypatch):
    spec = registry.get("relu")

    def boom(args, in_shapes):
        raise ZeroDivisionError("a bug in a shape rule")

    monkeypatch.setitem(registry._REGISTRY, "relu", dataclasses.replace(spec, shape=boom))


def test_internal_error_is_one_line_with_the_location(tmp_path, broken_relu):
    p = tmp_path / "n.arch"
    p.write_text("network n {\n    input 1x8x8\n    conv(4, 3x3)\n    relu\n}\n")
    code, out, err = run_cli("check", str(p))
    assert code == 3 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "internal error" in lines[0] and "please report" in lines[0]
    assert "ZeroDivisionError" in lines[0] and "n.arch:4:5" in lines[0]
    assert "Traceback" not in err


def test_internal_error_with_debug_shows_the_traceback(tmp_path, broken_relu):
    p = tmp_path / "n.arch"
    p.write_text("network n {\n    input 1x8x8\n    relu\n}\n")
    with pytest.raises(ZeroDivisionError) as info:
        run_cli("--debug", "check", str(p))
    assert info.value.arch_location.endswith("n.arch:3:5")


def test_internal_error_in_a_block_names_the_line_inside_it(tmp_path, broken_relu):
    p = tmp_path / "n.arch"
    p.write_text("block b {\n    conv(4, 1x1)\n    relu\n}\n"
                 "network n {\n    input 1x8x8\n    b\n}\n")
    code, _, err = run_cli("check", str(p))
    assert code == 3 and "n.arch:3:5" in err


def test_output_to_a_folder_is_a_usage_error(tmp_path):
    from tests.conftest import run_cli

    code, _, err = run_cli("draw", "lenet5", "-o", str(tmp_path), "--format", "dot")
    assert code == 2 and "it is a folder" in err
    assert list(tmp_path.iterdir()) == []


def test_a_failing_write_is_an_error_not_a_crash(tmp_path, monkeypatch):
    import errno

    from archdsl import fileio
    from tests.conftest import run_cli

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", "/tmp/.archdsl-x.tmp")

    monkeypatch.setattr(fileio, "_write", full)
    target = tmp_path / "net.dot"
    code, _, err = run_cli("draw", "lenet5", "-o", str(target))
    assert code == 1
    assert f"archdsl: error: {target}: No space left on device" in err
    assert "internal error" not in err and not target.exists()


def test_writing_to_a_device_does_not_replace_it(tmp_path):
    import os
    import stat

    from archdsl.fileio import write_atomic

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_atomic(str(fifo), "hello\n")
        assert os.read(reader, 100) == b"hello\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


# ---------------------------------------------------------------------------- the grammar cache

_MARK = "pwned-by-cache"
_CHECK = "import archdsl; print(archdsl.zoo('lenet5').params)"


def _python(code: str, cache: str, cwd) -> str:
    import subprocess
    import sys

    env = {**os.environ, "XDG_CACHE_HOME": cache}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=cwd, check=True).stdout.strip()


def _planted_pickle(marker) -> bytes:
    """A pickle whose loading runs code: it creates `marker`."""
    import pickle

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    return pickle.dumps(Payload())


def _cache_names(cache: str, cwd) -> tuple[str, str]:
    """The cache file archdsl reads, and the name the pickle-based cache used."""
    path = _python("from archdsl.load_grammar import cache_path, grammar_text\n"
                   "print(cache_path(grammar_text()))", cache, cwd)
    return path, path.replace(".lark.json", ".lark.pickle")


def test_a_planted_pickle_in_the_cache_runs_nothing(tmp_path):
    cache = tmp_path / "cache"
    marker = tmp_path / _MARK
    path, old = _cache_names(str(cache), tmp_path)
    os.makedirs(os.path.dirname(path), mode=0o700)
    for name in (path, old):  # where archdsl reads, and where it used to
        with open(name, "wb") as fh:
            fh.write(_planted_pickle(marker))
    assert _python(_CHECK, str(cache), tmp_path) == str(archdsl.zoo("lenet5").params)
    assert not marker.exists()
    with open(path, "rb") as fh:  # the planted file was replaced by the JSON tables
        assert fh.read(1) == b"{"


def test_the_cache_is_json_and_round_trips(tmp_path):
    import json

    from archdsl import load_grammar

    cache = tmp_path / "cache"
    path, _ = _cache_names(str(cache), tmp_path)
    _python(_CHECK, str(cache), tmp_path)
    with open(path, "rb") as fh:
        tables = json.loads(fh.read(), object_hook=load_grammar.decode)
    lark = load_grammar.Lark._load_from_dict(tables["data"], tables["memo"])
    text = (ROOT / "architectures" / "resnet50.arch").read_text()
    assert lark.parse(text) == load_grammar.Lark(load_grammar.grammar_text(),
                                                 **load_grammar.OPTIONS).parse(text)
    assert load_grammar.decode({"#": [1, {"(": [2, "a"]}]}) == {1: {"(": [2, "a"]}}
    value = {"a": [(1, None), {3: (True, "x")}], "b": 1.5}
    assert json.loads(json.dumps(load_grammar.encode(value)),
                      object_hook=load_grammar.decode) == value


@pytest.mark.parametrize("how", ["someone else's folder", "linked folder",
                                 "group-writable file", "linked file", "someone else's file"])
def test_the_cache_is_used_only_from_a_folder_only_the_user_can_write(tmp_path, how):
    from archdsl import load_grammar as g

    cache = tmp_path / "cache"
    path, _ = _cache_names(str(cache), tmp_path)
    _python(_CHECK, str(cache), tmp_path)  # a good cache
    folder, name = os.path.split(path)
    assert g._read_cached(folder, name) is not None
    if how == "someone else's folder":
        if os.geteuid() != 0:
            pytest.skip("changing a folder's owner needs root")
        os.chown(folder, 65534, 65534)
    elif how == "group-writable file":
        os.chmod(path, 0o660)
    elif how == "linked folder":
        os.rename(folder, folder + ".real")
        os.symlink(folder + ".real", folder)
    elif how == "linked file":
        os.rename(path, path + ".real")
        os.symlink(path + ".real", path)
    elif how == "someone else's file":
        if os.geteuid() != 0:
            pytest.skip("changing a file's owner needs root")
        os.chown(path, 65534, 65534)
    assert g._read_cached(folder, name) is None  # not read ...
    before = os.lstat(path)
    assert _python(_CHECK, str(cache), tmp_path) == str(archdsl.zoo("lenet5").params)
    after = os.lstat(path)
    if how.endswith("folder"):  # ... and nothing written into a folder others can change
        assert after.st_mtime_ns == before.st_mtime_ns and after.st_ino == before.st_ino
    else:  # in the user's own folder the bad file is replaced by a good one
        assert after.st_ino != before.st_ino and g._read_cached(folder, name) is not None
        if how == "linked file":
            assert os.path.exists(path + ".real") and not os.path.islink(path)


def test_cache_folders_archdsl_creates_are_private(tmp_path):
    import stat

    cache = tmp_path / "a" / "b"
    path, _ = _cache_names(str(cache), tmp_path)
    _python(_CHECK, str(cache), tmp_path)
    for folder in (tmp_path / "a", cache, cache / "archdsl"):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o775, 0o777, 0o1777])
def test_the_users_own_cache_folder_that_others_could_write_is_tightened(tmp_path, mode):
    """An `archdsl` folder made under umask 002 was group-writable: the write bits others have
    are taken back before anything is read from it, so the cache keeps working."""
    import stat

    from archdsl import load_grammar as g

    cache = tmp_path / "cache"
    path, _ = _cache_names(str(cache), tmp_path)
    _python(_CHECK, str(cache), tmp_path)
    folder, name = os.path.split(path)
    os.chmod(folder, mode)
    assert g._read_cached(folder, name) is not None
    assert not stat.S_IMODE(os.stat(folder).st_mode) & 0o022


# ---------------------------------------------------------------------------- the terminal

_NAME = "n\x1b[2J\r\u202e\u2028\n.arch"  # clear the screen, return, reorder, break lines


@pytest.mark.parametrize("argv", [("check",), ("summary",), ("fmt", "--check"), ("compile",),
                                  ("draw", "--format", "dot"), ("check", "--format", "json")])
def test_a_file_name_cannot_drive_the_terminal(tmp_path, monkeypatch, argv):
    """What archdsl prints about a file whose name holds an escape sequence, a carriage
    return, a bidi control or line breaks shows them escaped (the name may come from a glob)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / _NAME).write_text("network n{input 3x8x8\n conv(4, 9x9)}\n")  # unformatted
    code, out, err = run_cli(*argv[:1], _NAME, *argv[1:])
    assert code == 1, err
    for stream in (out, err):
        assert all(ch == "\n" or ch.isprintable() for ch in stream), ascii(stream[:300])
    if "json" in argv:  # JSON escapes in its own way, and gives the name back
        import json

        assert json.loads(out)[0]["span"]["file"] == _NAME
    elif argv[0] != "draw":
        assert "n\\x1b[2J\\x0d\\u202e\\u2028\\x0a.arch" in err + out
