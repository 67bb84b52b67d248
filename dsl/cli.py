"""The `archdsl` command line. Subcommands live in `archdsl.commands`, one module each.

Exit codes: 0 ok, 1 errors in the input, 2 usage, 3 internal error (a bug: please report).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ._version import __version__
from .commands import COMMANDS, SUMMARIES
from .commands.common import EXIT_INPUT, EXIT_INTERNAL, EXIT_USAGE, UsageError
from .escape import visible


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own usage errors: exit 2, no traceback
        self.print_usage(sys.stderr)
        print(f"archdsl: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    handlers = {}
    for name in COMMANDS:
        if chosen is not None and name != chosen:
            sub.add_parser(name, help=SUMMARIES[name])
            continue
        module = importlib.import_module(f"archdsl.commands.{name}")
        module.add_parser(sub)
        handlers[name] = module.run
    parser.set_defaults(_handlers=handlers)
    return parser


def _command_named(argv: list[str] | None) -> str | None:
    """The subcommand `argv` runs: its first word that is not an option (the global options
    take no value). None when there is none or it is not a command (argparse then reports)."""
    words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
    return words[0] if words and words[0] in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args._handlers[args.command](args)
    except UsageError as exc:
        print(f"archdsl: error: {visible(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("archdsl: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # the file system said no: a full disk, a missing permission
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


if __name__ == "__main__":
    sys.exit(main())
