"""One module per CLI subcommand; each has `add_parser(subparsers)` and `run(args) -> int`.

`COMMANDS` lists them in the order `archdsl --help` shows them. `SUMMARIES` holds each one's
line in that list, here so that the CLI can list every command while importing only the one
it runs.
"""

SUMMARIES = {
    "check": "parse and shape-check .arch files (no torch)",
    "summary": "per-layer shapes, parameters and MACs",
    "draw": "draw the network with Graphviz (svg, png, pdf or dot)",
    "compile": "write the network as standalone PyTorch source",
    "export": "export the network to ONNX",
    "fmt": "format .arch files in the canonical layout",
    "import": "write a PyTorch model as an .arch file (runs the model's Python code)",
    "zoo": "list the networks of the zoo",
    "explain": "explain an error code, with examples",
    "lsp": "run the language server for editors (stdio)",
}
COMMANDS = list(SUMMARIES)
# the module of each command, where its name is not one (`import` is a Python keyword)
MODULES = {name: name for name in COMMANDS} | {"import": "importer"}
