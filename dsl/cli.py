"""The `archdsl` command line. Subcommands live in `archdsl.commands`, one module each.

Exit codes: 0 ok, 1 errors in the input (or an output that could not be written), 2 usage,
3 internal error (a bug: please report), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys

from . import _interrupt, colour, streams
from ._version import __version__
from .commands import COMMANDS, MODULES, SUMMARIES
from .commands.common import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, UsageError
from .diagnostics import ArchError
from .escape import visible
from .extras import MissingExtra


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own usage errors: exit 2, no traceback
        self.print_usage(sys.stderr)
        print(f"archdsl: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)

    def _print_message(self, message, file=None):
        # argparse ignores a failed write (`archdsl --help > /dev/full` exited 0); let it
        # reach `main`, which reports it
        if message:
            (file or sys.stderr).write(message)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line. Given `argv`, only the subcommand it names is imported and set
    up in full (the others are listed, with their one-line summary): each command module
    imports what it needs, and `check` should not pay for `draw`'s or `fmt`'s imports."""
    chosen = _command_named(argv)
    parser = _Parser(prog="archdsl", description="A declarative language and compiler for "
                     "neural-network architectures. Every command takes a .arch file or a "
                     "zoo name (see `archdsl zoo`).")
    parser.add_argument("--version", action="version", version=f"archdsl {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    add_common_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    handlers, parsers = {}, {}
    for name in COMMANDS:
        if chosen is not None and name != chosen:
            sub.add_parser(name, help=SUMMARIES[name])
            continue
        module = importlib.import_module(f"archdsl.commands.{MODULES[name]}")
        parsers[name] = module.add_parser(sub)
        add_common_options(parsers[name])
        handlers[name] = module.run
    parser.set_defaults(_handlers=handlers, _parsers=parsers)
    return parser


def _command_named(argv: list[str] | None) -> str | None:
    """The subcommand `argv` runs: its first word that is not an option (of the global
    options only --color takes a value). None when there is none or it is not a command
    (argparse then reports)."""
    words = sys.argv[1:] if argv is None else argv
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in ("--color", "--colour"):
            skip = True
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit code. Everything the command prints to standard output is
    flushed here, so a write that fails (a full disk: `> /dev/full`) is an error, exit 1,
    and not a silently truncated file. A reader that leaves early (`| head -1`, `| true`) does
    not change the exit code: the command runs on to its own (streams.py)."""
    _interrupt.during_command()  # Ctrl-C is KeyboardInterrupt from here (see _interrupt.py)
    try:
        with streams.guard(), _painted_stderr(argv):
            code = _run(argv)
            _flush_stdout()
    except KeyboardInterrupt:
        _interrupt.after_command()
        print("archdsl: interrupted", file=sys.stderr)
        return _interrupt.EXIT_INTERRUPTED
    except BrokenPipeError:  # `archdsl summary resnet152 | head`: the reader has gone
        # the interpreter's own flush at exit must not fail a second time
        streams.discard(sys.stdout)
        code = EXIT_OK
    except OSError as exc:  # the output refused the data (a file the command writes is named
        # by _run instead)
        # the interpreter's own flush at exit must not fail a second time
        streams.discard(sys.stdout)
        print(f"archdsl: error: cannot write the output: {exc.strerror or exc}",
              file=sys.stderr)
        code = EXIT_INPUT
    finally:
        _interrupt.after_command()
    return code


@contextlib.contextmanager
def _painted_stderr(argv: list[str] | None):
    """Standard error coloured for the run when `--color` and the environment say so
    (colour.py). `--color` is read here, before argparse, so that argparse's own usage
    errors are coloured too; argparse still validates it."""
    words = sys.argv[1:] if argv is None else argv
    choice = None
    for i, word in enumerate(words):
        if word == "--":
            break
        if word in ("--color", "--colour") and i + 1 < len(words):
            choice = words[i + 1]
        elif word.startswith(("--color=", "--colour=")):
            choice = word.split("=", 1)[1]
    saved = sys.stderr
    if saved is not None and colour.enabled(choice, saved):
        sys.stderr = colour.Painter(saved)
    try:
        yield
    finally:
        if isinstance(sys.stderr, colour.Painter):
            sys.stderr = saved


def add_common_options(p: argparse.ArgumentParser, top: bool = False) -> None:
    """The options every command takes, before or after its name (`archdsl --color never
    check f.arch` and `archdsl check f.arch --color never`)."""
    p.add_argument("--color", "--colour", dest="color", choices=colour.CHOICES,
                   default="auto" if top else argparse.SUPPRESS,
                   help="colour the diagnostics: auto (on a terminal; NO_COLOR, FORCE_COLOR "
                        "and CLICOLOR_FORCE are honoured), always or never")


def _run(argv: list[str] | None) -> int:
    try:
        parser = build_parser(argv)
        args, extra = parser.parse_known_args(argv)
        if extra:  # an unknown option: the usage of the command it was given to
            own = args._parsers.get(args.command) if args.command else None
            (own or parser).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help, --version, a usage error: argparse has printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE if exc.code else EXIT_OK
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args._handlers[args.command](args)
    except UsageError as exc:
        print(f"archdsl: error: {visible(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except MissingExtra as exc:  # an optional part is not installed: say what to install
        print(f"archdsl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ArchError as exc:  # found after the check, by a backend (memory, export)
        print(exc.render(), file=sys.stderr)
        return EXIT_INPUT
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except OSError as exc:  # the file system said no: a full disk, a missing permission
        if exc.filename is None:
            raise  # no file named: standard output refused a write; main reports it
        where = f"{visible(str(exc.filename))}: " if exc.filename else ""
        print(f"archdsl: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # a bug in archdsl, never the user's fault
        if args.debug:
            raise
        where = getattr(exc, "arch_location", None)
        print(f"archdsl: internal error: {type(exc).__name__}: {visible(str(exc))}"
              + (f" (while processing {visible(where)})" if where else "")
              + "; please report it (rerun with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def _flush_stdout() -> None:
    stream = sys.stdout
    # a command that hands standard output to a library may get it back closed (pygls closes
    # it when the editor says `exit`): nothing is left to flush then
    if stream is not None and not stream.closed:
        stream.flush()


if __name__ == "__main__":
    sys.exit(main())
