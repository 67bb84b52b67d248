"""One module per CLI subcommand; each has `add_parser(subparsers)` and `run(args) -> int`.

`COMMANDS` lists them in the order `archdsl --help` shows them.
"""

COMMANDS = ["check", "summary", "draw", "compile", "export", "fmt", "zoo", "explain"]
