"""What every subcommand shares: a target that is a path or a zoo name, `--set`, `--input`,
limits, and printing diagnostics. Exit codes: 0 ok, 1 errors in the input, 2 usage."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from dataclasses import fields

from .. import textscan
from .. import zoo_index as zoo
from ..api import parse_shape
from ..diagnostics import Diagnostics, render_all
from ..elaborate import Limits
from ..fileio import TooLarge, describe_kind, read_pipe, read_stream
from ..loader import LoadOptions, too_large
from ..pipeline import Result, run

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(Exception):
    """A wrong command line: printed as `archdsl: error: ...`, exit 2."""


def add_target(p: argparse.ArgumentParser, many: bool = False) -> None:
    if many:
        p.add_argument("targets", nargs="+", metavar="FILE|ZOO",
                       help="`.arch` files or zoo network names")
    else:
        p.add_argument("target", metavar="FILE|ZOO", help="a `.arch` file or a zoo name")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                   help="override a network parameter, e.g. --set classes=10 (repeatable)")
    p.add_argument("--input", dest="input_shape", metavar="CxHxW",
                   help="override the input shape, e.g. --input 3x227x227")
    p.add_argument("--network", metavar="NAME", help="which network, when a file has several")
    p.add_argument("-I", "--include", dest="search_path", action="append", default=[],
                   metavar="DIR", help="also look for imports in DIR")
    p.add_argument("--sandbox", action="store_true",
                   help="refuse imports outside the first file's folder")
    p.add_argument("--werror", action="store_true",
                   help="treat warnings as errors: exit 1 when there is any")
    lim = p.add_argument_group("limits")
    defaults = Limits()
    for field, flag in (("max_repeat", "--max-repeat"), ("max_depth", "--max-depth"),
                        ("max_layers", "--max-layers"), ("max_params", "--max-params"),
                        ("max_tensor", "--max-tensor"), ("max_int", "--max-int"),
                        ("max_import_depth", "--max-import-depth"),
                        ("max_file_size", "--max-file-size"), ("max_work", "--max-work"),
                        ("max_memory", "--max-memory")):
        lim.add_argument(flag, dest=field, type=int, default=getattr(defaults, field),
                         metavar="N", help=f"default {getattr(defaults, field):,}")


def parse_value(text: str):
    """A --set value: integer, number, true/false, a shape like 3x3, a list or tuple written
    as in a file (`[(1, 16, 1, 1), (6, 24, 2, 2)]`), or a string."""
    t = text.strip()
    if t[:1] in ("[", "("):
        return literal_value(t)
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        pass
    if "x" in low and all(p.isdigit() for p in low.split("x")):
        from ..values import Dims

        return Dims(int(p) for p in low.split("x"))
    if len(t) >= 2 and t[0] == t[-1] == '"':
        return t[1:-1]
    return t


def literal_value(text: str):
    """A list or tuple of literals, read by the language's own parser and evaluator (so it
    means what it would in a file); anything else in it (a name, a call) is a usage error."""
    from .. import syntax as s
    from ..evaluate import Evaluator
    from ..parser import parse_module
    from ..source import SourceFile
    from ..values import POISON

    diags = Diagnostics()
    module = parse_module(SourceFile("--set", f"network n(v = {text}) {{}}"), diags)
    if module is None or diags.has_errors:
        raise UsageError(f"--set: `{text}` is not a list or tuple of values")
    expr = module.definitions[0].params[0].default

    def literal(e) -> bool:
        if isinstance(e, (s.ListLit, s.TupleLit)):
            return all(literal(x) for x in e.items)
        if isinstance(e, s.UnaryOp) and e.op == "-":
            return literal(e.operand)
        return isinstance(e, (s.Literal, s.DimsLit))

    if not literal(expr):
        raise UsageError(f"--set: `{text}` holds something other than numbers, sizes, "
                         "strings, true/false, lists and tuples")
    value = Evaluator(diags).eval(expr, None)
    if value is POISON or diags.has_errors:
        raise UsageError(f"--set: `{text}`: " + "; ".join(d.message for d in diags.items))
    return value


def overrides(args) -> dict:
    out = {}
    for item in args.overrides:
        if "=" not in item:
            raise UsageError(f"--set wants NAME=VALUE, got `{item}`")
        k, v = item.split("=", 1)
        if not k.strip().isidentifier():
            raise UsageError(f"--set: `{k}` is not a parameter name")
        if not v.strip():
            raise UsageError(f"--set {k.strip()}= gives no value; write --set "
                             f"{k.strip()}=VALUE")
        value = v.strip()
        bad = textscan.bad_in_string(value, 0, len(value))
        if bad is not None:  # the rule for strings in a file (E0107), as a usage error
            what = textscan.describe(value[bad])[0]
            raise UsageError(f"--set {k.strip()}: the value holds a {what}; values are "
                             "visible characters only")
        out[k.strip()] = parse_value(v)
    return out


STDIN = "<stdin>"  # how diagnostics name standard input


def is_stream(target: str) -> bool:
    """Whether `target` is read as a stream, not a file: `-` (standard input) or a pipe or
    terminal named by a path (`/dev/stdin`, `<(...)`, which is `/dev/fd/63`)."""
    if target == "-":
        return True
    try:
        mode = os.stat(target).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def resolve_target(target: str) -> tuple[str, str]:
    """(real path, path to show in messages) for a file, a zoo name (also as `zoo:NAME`) or a
    stream (`-` is ("", "<stdin>"))."""
    if target == "-":
        return "", STDIN
    if os.path.isfile(target) or is_stream(target):
        return target, target
    if target.startswith("zoo:"):
        target = target[len("zoo:"):]
    if not target.endswith(".arch") and os.sep not in target:
        path = zoo.path_of(target)
        if path is not None:
            return path, zoo.display_path(target)
        from ..argspec import suggest

        hint = suggest(target, zoo.names())
        raise UsageError(f"no such file or zoo network: {target}" +
                         (f" (did you mean `{hint}`?)" if hint else ""))
    if os.path.exists(target):  # a folder, a pipe, a device: `fmt` says the same (fileio)
        raise UsageError(f"{target} is {describe_kind(os.stat(target).st_mode)}, not a .arch "
                         "file")
    raise UsageError(f"no such file: {target}")


def load(args, target: str, require_network: bool = True) -> Result:
    path, display = resolve_target(target)
    try:
        shape = parse_shape(args.input_shape) if args.input_shape else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    limits = Limits(**{f.name: getattr(args, f.name) for f in fields(Limits)})
    opts = LoadOptions(search_path=tuple(args.search_path), sandbox=args.sandbox)
    where = dict(path=path, display=display)
    if is_stream(target):  # read here, held to the size limit; imports from the cwd
        try:
            where = dict(text=read_stream_text(target, limits.max_file_size), display=display,
                         base_dir=os.getcwd())
        except TooLarge as exc:
            diags = Diagnostics()
            diags.add(too_large(display, exc.size, exc.limit,
                                exc.head.decode("utf-8", "replace")))
            return Result(None, diags, None, None)
    return run(**where, params=overrides(args), input_shape=shape, network=args.network,
               limits=limits, load=opts, require_network=require_network)


def read_stream_text(target: str, limit: int) -> str:
    """The text of standard input (`-`) or of the pipe or device at `target`, at most `limit`
    bytes (TooLarge past that: `/dev/zero` never ends); undecodable bytes become U+FFFD, as
    for a file (loader.read_text)."""
    if target == "-":
        return read_stream(sys.stdin.buffer, limit).decode("utf-8", errors="replace")
    return read_pipe(target, limit).decode("utf-8", errors="replace")


def load_checked(args, target: str):
    """Load and check a target, printing its diagnostics: the `Network`, or None on errors."""
    result = load(args, target)
    if report(result, werror=args.werror) != EXIT_OK or result.ir is None:
        return None
    from ..api import network_of

    return network_of(result)


def report(result: Result, fmt: str = "text", stream=None, werror: bool = False) -> int:
    """Print diagnostics (text to stderr, or JSON); the exit code they imply (with `werror`,
    --werror, warnings fail the command too)."""
    stream = stream or sys.stderr
    diags = result.diagnostics.items
    if fmt == "json":
        print(json.dumps([d.to_json() for d in diags], indent=2), file=stream)
    elif diags:
        print(render_all(diags), file=stream)
    return EXIT_INPUT if failed(result, werror) else EXIT_OK


def failed(result: Result, werror: bool) -> bool:
    """Whether a run's diagnostics fail the command: any error, or with --werror any warning."""
    d = result.diagnostics
    return d.has_errors or (werror and d.has_warnings)
