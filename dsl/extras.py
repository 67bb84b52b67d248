"""What each optional part needs, and the one error that says what to install.

The base install (`pip install archdsl`) runs the front end (`check`, `summary`, `fmt`, `zoo`,
`explain`) and the diagrams (`draw`; svg/png/pdf also need Graphviz's `dot` program). The
rest comes with extras, declared in pyproject.toml with the same names (a test keeps the two
in step):

    archdsl[torch]   `compile`, `Network.to_torch()`, `to_source()`
    archdsl[onnx]    `export`, `Network.to_onnx()` (torch, onnx and onnxruntime)
    archdsl[lsp]     `archdsl lsp`, the language server
    archdsl[all]     all of the above

`require(extra, what)` raises `MissingExtra` (an ImportError, so code that catches one keeps
working) naming the missing modules and the `pip install` line; the CLI prints it as a usage
error (`archdsl: error: ...`, exit 2), never as a diagnostic on the `.arch` file.
"""

from __future__ import annotations

import importlib.util

# extra -> the modules it must make importable (a module's name, not its distribution's)
EXTRAS: dict[str, tuple[str, ...]] = {
    "torch": ("torch",),
    "onnx": ("torch", "onnx"),  # and onnxruntime, which checks the file (without it: a note)
    "lsp": ("pygls", "lsprotocol"),
}
WHAT = {"torch": "PyTorch", "onnx": "PyTorch and onnx",
        "lsp": "pygls and lsprotocol"}


class MissingExtra(ImportError):
    """An optional part of archdsl is not installed; the message says what to install."""

    def __init__(self, extra: str, what: str, missing: list[str]):
        self.extra, self.missing = extra, list(missing)
        names = " and ".join(missing)
        verb = "is" if len(missing) == 1 else "are"
        super().__init__(f"{what} needs {WHAT[extra]} ({names} {verb} not installed): "
                         f"pip install 'archdsl[{extra}]'",
                         name=missing[0] if missing else None)


def missing(extra: str) -> list[str]:
    """The modules of `extra` that cannot be imported here."""
    return [m for m in EXTRAS[extra] if not _importable(m)]


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or half-installed package
        return False


def require(extra: str, what: str) -> None:
    """Raise `MissingExtra` unless every module of `extra` can be imported. `what` names the
    command or method that needs it (`archdsl compile`, `Network.to_torch()`)."""
    gone = missing(extra)
    if gone:
        raise MissingExtra(extra, what, gone)
