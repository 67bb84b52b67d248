"""The thin step that runs Graphviz's `dot` program on DOT text: SVG, PNG or PDF bytes.

Everything else in this package is pure; only this module starts a process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

FORMATS = ("svg", "png", "pdf", "dot")


class DotNotFound(RuntimeError):
    """The `dot` program is missing; the message says how to install it."""


class RenderFailed(RuntimeError):
    """`dot` ran and failed (its stderr is in the message)."""


def install_hint() -> str:
    if sys.platform == "darwin":
        how = "`brew install graphviz`"
    elif sys.platform.startswith("win"):
        how = "`winget install graphviz`"
    else:
        how = "`apt-get install graphviz` on Debian/Ubuntu, `dnf install graphviz` on Fedora"
    return (f"Graphviz's `dot` program was not found on PATH; install it with {how} "
            "(https://graphviz.org/download/). DOT text needs no Graphviz: "
            "use `-o FILE.dot` or `--format dot`")


def dot_program() -> str | None:
    return os.environ.get("ARCHDSL_DOT") or shutil.which("dot")


def format_of(path: str | None, fmt: str | None) -> str:
    """The output format: `fmt` when given, else the path's extension, else svg."""
    if fmt:
        fmt = fmt.lower().lstrip(".")
    elif path:
        fmt = os.path.splitext(path)[1].lower().lstrip(".") or "svg"
        if fmt == "gv":
            fmt = "dot"
    else:
        fmt = "dot"
    if fmt not in FORMATS:
        raise ValueError(f"unknown diagram format `{fmt}`; choose one of {', '.join(FORMATS)}")
    return fmt


def render(dot_text: str, fmt: str = "svg") -> bytes:
    """Run `dot -T<fmt>` on the text; the image's bytes."""
    if fmt == "dot":
        return dot_text.encode("utf-8")
    program = dot_program()
    if program is None or not os.path.exists(program):
        raise DotNotFound(install_hint())
    try:
        done = subprocess.run([program, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                              capture_output=True, check=False)
    except OSError as exc:
        raise DotNotFound(f"{install_hint()} ({exc})") from None
    if done.returncode != 0:
        msg = done.stderr.decode("utf-8", "replace").strip()
        raise RenderFailed(f"dot failed (exit {done.returncode}): {msg}")
    return done.stdout
