"""The thin step that runs Graphviz's `dot` program on DOT text: SVG, PNG or PDF bytes.

Everything else in this package is pure; only this module starts a process.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import warnings

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


MAX_BITMAP = 32_767  # pixels: the largest side of a bitmap Graphviz's cairo renderer makes
_SCALED = re.compile(r"Scaling by ([0-9.]+)")


class Scaled(UserWarning):
    """Graphviz drew a bitmap smaller than asked, to fit its size limit (`factor` < 1)."""

    def __init__(self, fmt: str, factor: float):
        self.fmt, self.factor = fmt, factor
        super().__init__(
            f"Graphviz scaled the {fmt.upper()} down to {factor:.0%} of its size to fit its "
            f"{MAX_BITMAP:,}-pixel limit, so its text may be unreadable; draw it as SVG "
            "(-o FILE.svg, which has no such limit), or smaller with --depth N or --focus")


def scaled(stderr: str, fmt: str) -> Scaled | None:
    """The `Scaled` warning that `dot`'s messages hold, if any."""
    m = _SCALED.search(stderr)
    if m is None:
        return None
    try:
        return Scaled(fmt, float(m.group(1)))
    except ValueError:
        return None


def render(dot_text: str, fmt: str = "svg", warn=None) -> bytes:
    """Run `dot -T<fmt>` on the text; the image's bytes. A bitmap Graphviz had to scale down
    (`Scaled`) is passed to `warn` when given, else issued with `warnings.warn`."""
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
    problem = scaled(done.stderr.decode("utf-8", "replace"), fmt)
    if problem is not None:
        if warn is not None:
            warn(problem)
        else:
            warnings.warn(problem, stacklevel=2)
    return done.stdout
