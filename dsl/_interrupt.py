"""Ctrl-C in the `archdsl` command, from the first line of archdsl that runs to the last.

Python turns SIGINT into KeyboardInterrupt wherever the program is, and a KeyboardInterrupt
outside `cli.main` (importing archdsl, Lark, the command's module; shutting down) reached the
user as a traceback. In the command's process, `archdsl/__init__.py` runs `install()` first of
all, before any other import: SIGINT then ends the process quietly, exit 130 (nothing has been
written yet). `cli.main` lets Python raise KeyboardInterrupt while the command runs, so that
output files are cleaned up (`fileio.write_atomic`) and it can say "interrupted", and hands
back to the quiet handler when it is done, for the interpreter's shutdown.

Only the command's own process is touched: a program that imports archdsl keeps Python's
handling of Ctrl-C. What remains is the interpreter's own start-up, before any archdsl code
runs (tens of milliseconds), where Python itself prints the traceback.
"""

from __future__ import annotations

# `_signal` is the C module under `signal`: importing `signal` itself runs Python code (enum)
# in the very window this module closes. `os` and `sys` are loaded before any program runs.
import _signal
import os
import sys

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a process ended by Ctrl-C


def is_command() -> bool:
    """Whether this process is the `archdsl` command: its console script (named `archdsl`),
    or `python -m archdsl.cli`."""
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0] if sys.argv else ""
    if name == "archdsl":
        return True
    argv = getattr(sys, "orig_argv", ())
    return any(argv[i] == "-m" and argv[i + 1] == "archdsl.cli" for i in range(len(argv) - 1))


def _quiet(signum, frame) -> None:
    try:  # noqa: SIM105 (contextlib is not imported yet when this can run)
        os.write(2, b"archdsl: interrupted\n")
    except OSError:
        pass
    os._exit(EXIT_INTERRUPTED)


def _set(handler) -> None:
    try:  # noqa: SIM105
        _signal.signal(_signal.SIGINT, handler)
    except (ValueError, OSError):  # not the main thread, or no signals here
        pass


def install() -> None:
    """From now on, in the command's process, Ctrl-C exits quietly with 130."""
    if is_command() and _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
        _set(_quiet)


def during_command() -> None:
    """While the command runs, Ctrl-C is KeyboardInterrupt (caught by `cli.main`)."""
    if _signal.getsignal(_signal.SIGINT) is _quiet:
        _set(_signal.default_int_handler)


def after_command() -> None:
    """After the command, until the process ends: quiet again."""
    if is_command():
        _set(_quiet)
