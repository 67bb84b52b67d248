"""Loads the Lark grammar, once, from package data (`archdsl.grammar/archdsl.lark`).

Building the LALR tables from the grammar takes ~0.15 s, most of a `check`'s start-up. The
built parser is therefore kept in the user's cache folder (`$XDG_CACHE_HOME/archdsl`, else
`~/.cache/archdsl`) under a name made from the grammar's text, lark's version, the options, the
Python version and the cache format, so an edited grammar or another lark never loads stale
tables. A cache that is missing, unwritable or unreadable only costs the build; it never
changes a result.

The cache is data, never code: Lark's own `save` pickles, and unpickling a file planted in the
cache folder would run whatever it says. The tables are written as JSON instead (Lark's
`memo_serialize` form, plain dicts, lists, tuples, strings and numbers, with tuples and
integer-keyed dicts tagged) and rebuilt with Lark's deserializer, which instantiates only
Lark's own grammar classes. And, as ssh does with its keys, the cache is read and written only
in a folder that belongs to the user and that nobody else may write (owner, mode, not a link;
checked on the open folder, then the file is opened relative to it), so nobody else can swap
the tables for others that parse differently. Folders it creates are made 0o700; its own
`archdsl` folder, if others may write to it, has those write bits taken away first.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import stat
import sys

import lark
from lark import Lark
from lark.grammar import Rule
from lark.lexer import ContextualLexer, TerminalDef
from lark.parsers.lalr_analysis import Shift

from .lexer import FastContextualLexer

OPTIONS = {"parser": "lalr", "lexer": "contextual", "propagate_positions": False,
           "maybe_placeholders": True}


def grammar_text() -> str:
    from . import grammar  # the package data folder (see zoo_index.zoo_dir for why not resources)

    path = os.path.join(os.path.dirname(os.path.abspath(grammar.__file__)), "archdsl.lark")
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "archdsl")


CACHE_FORMAT = "json-1"


def cache_path(text: str) -> str:
    key = "\0".join([text, lark.__version__, repr(sorted(OPTIONS.items())), sys.version,
                     CACHE_FORMAT])
    return os.path.join(cache_dir(), f"grammar-{hashlib.sha256(key.encode()).hexdigest()[:24]}"
                        ".lark.json")


@functools.lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The LALR parser (linear time), with the fast lexer (dsl/lexer.py) in place of Lark's
    contextual one; built once per process."""
    parser = _lalr_parser()
    frontend = parser.parser
    # Both speed-ups reach into Lark's parser objects (as laid out in lark 1.3). Another lark
    # that lays them out differently keeps its own lexer and lookups: slower, same results.
    if isinstance(frontend.lexer, ContextualLexer):
        conf = frontend.lexer_conf
        frontend.lexer = FastContextualLexer(frontend.lexer, conf.terminals, conf.ignore)
    lalr = getattr(frontend.parser, "parser", None)
    if isinstance(getattr(lalr, "callbacks", None), dict) and hasattr(lalr, "parse_table"):
        _key_callbacks_by_table_rules(lalr)
    return parser


def counts_tokens() -> bool:
    """Whether the parser's lexer charges the work budget for each token (the fast lexer
    does; without it, dsl/parser.py estimates the count before parsing)."""
    return isinstance(lark_parser().parser.lexer, FastContextualLexer)


def _key_callbacks_by_table_rules(lalr) -> None:
    """Each reduction looks its rule up in the callbacks dict. A parser loaded from the cache
    holds equal but distinct Rule objects in its table and in that dict, so every lookup
    fell through to Rule.__eq__ (Python code comparing whole expansions); keyed by the table's
    own objects, the lookup stops at identity."""
    rules = {arg for actions in lalr.parse_table.states.values()
             for action, arg in actions.values() if action is not Shift}
    lalr.callbacks = {rule: lalr.callbacks[rule] for rule in rules}


def _lalr_parser() -> Lark:
    """Lark's LALR parser for the grammar, loaded from the cache if it can."""
    text = grammar_text()
    path = cache_path(text)
    folder, name = os.path.split(path)
    data = _read_cached(folder, name)
    if data is not None:
        try:
            tables = json.loads(data, object_hook=decode)
            return Lark._load_from_dict(tables["data"], tables["memo"])
        except Exception:  # truncated, written by another lark: build it instead
            pass
    parser = Lark(text, **OPTIONS)
    try:
        tables, memo = parser.memo_serialize([TerminalDef, Rule])
        _write_cached(folder, name, json.dumps(encode({"data": tables, "memo": memo}),
                                               separators=(",", ":")).encode())
    except (OSError, TypeError, ValueError):
        pass  # a read-only home, a folder that is not safe, another lark: build each time
    return parser


# ---------------------------------------------------------------------------- JSON form

def encode(x):
    """Lark's serialized tables as JSON values. JSON has no tuples and only string keys, so a
    tuple is `{"(": [...]}` and a dict with other keys `{"#": [key, value, key, value ...]}`;
    `decode` (a json object hook, so the C parser does the walking) turns them back."""
    if isinstance(x, dict):
        if all(type(k) is str for k in x):
            if "(" in x or "#" in x:
                raise ValueError("a key that looks like a tag")
            return {k: encode(v) for k, v in x.items()}
        return {"#": [y for k, v in x.items() for y in (encode(k), encode(v))]}
    if isinstance(x, tuple):
        return {"(": [encode(v) for v in x]}
    if isinstance(x, list):
        return [encode(v) for v in x]
    if x is None or type(x) in (str, int, float, bool):
        return x
    raise TypeError(f"not plain data: {type(x).__name__}")


def decode(obj: dict):
    """The object hook that undoes `encode`'s tags."""
    if len(obj) == 1:
        if "(" in obj:
            return tuple(obj["("])
        if "#" in obj:
            it = iter(obj["#"])
            return dict(zip(it, it, strict=True))
    return obj


# ---------------------------------------------------------------------------- the folder

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
# Without these (Windows) the checks below cannot be made race-free: no cache there.
_CAN_CHECK = (hasattr(os, "geteuid") and hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY")
              and hasattr(os, "fchmod")
              and {os.open, os.rename, os.unlink} <= os.supports_dir_fd)


def _safe(st: os.stat_result, kind) -> bool:
    """Owned by the user running archdsl, writable by nobody else, of the expected kind."""
    return kind(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o022


def _open_folder(folder: str, create: bool) -> int | None:
    """A descriptor of the cache folder, when it is safe (see the module docstring)."""
    if not _CAN_CHECK:
        return None
    if create:
        _make_folders(folder)
    try:
        fd = os.open(folder, _DIR_FLAGS)
    except OSError:
        return None
    st = os.fstat(fd)
    if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and st.st_mode & 0o022:
        # The user's own folder, made group-writable by an older archdsl under umask 002:
        # take the write bits back. A file someone else put there is still refused (its owner).
        with contextlib.suppress(OSError):
            os.fchmod(fd, stat.S_IMODE(st.st_mode) & ~0o022)
            st = os.fstat(fd)
    if not _safe(st, stat.S_ISDIR):
        os.close(fd)
        return None
    return fd


def _make_folders(folder: str) -> None:
    """Create `folder` and any missing parent, each 0o700 (os.makedirs' mode would reach only
    the last one)."""
    missing = []
    path = os.path.abspath(folder)
    while not os.path.lexists(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        except OSError:
            return


def _read_cached(folder: str, name: str) -> bytes | None:
    fd = _open_folder(folder, create=False)
    if fd is None:
        return None
    try:
        f = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    with os.fdopen(f, "rb") as fh:
        if not _safe(os.fstat(fh.fileno()), stat.S_ISREG):
            return None
        return fh.read()


def _write_cached(folder: str, name: str, data: bytes) -> None:
    """Write the file atomically (a temporary name, then a rename) inside the checked folder."""
    fd = _open_folder(folder, create=True)
    if fd is None:
        return
    tmp = f".{name}.{os.getpid()}.tmp"
    try:
        f = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=fd)
        try:
            with os.fdopen(f, "wb") as fh:
                fh.write(data)
            os.rename(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)  # POSIX: replaces `name`
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=fd)
            raise
    finally:
        os.close(fd)
