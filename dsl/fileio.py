"""Writing output files safely: atomically (temporary file, then rename) so an interrupted run
never leaves a half-written file, and never over an input `.arch` file."""

from __future__ import annotations

import contextlib
import os
import tempfile


class OutputRefused(Exception):
    """The output path is not acceptable (e.g. it is a `.arch` source)."""


def check_output_path(path: str, inputs: tuple[str, ...] = ()) -> None:
    if path.endswith(".arch"):
        raise OutputRefused(f"refusing to write {path}: output would overwrite a .arch source")
    real = os.path.realpath(path)
    if os.path.isdir(real):
        example = os.path.join(path, "net" + (os.path.splitext(path)[1] or ".svg"))
        raise OutputRefused(f"cannot write {path}: it is a folder; give a file name, "
                            f"e.g. {example}")
    for src in inputs:
        if src and os.path.realpath(src) == real:
            raise OutputRefused(f"refusing to write {path}: it is an input file")
    parent = os.path.dirname(real) or "."
    if not os.path.isdir(parent):
        raise OutputRefused(f"cannot write {path}: folder {os.path.dirname(path)} does not exist")


def write_atomic(path: str, data: str | bytes, inputs: tuple[str, ...] = (),
                 allow_arch: bool = False) -> None:
    """Write `data` to `path` via a temporary file in the same folder and a rename.

    `allow_arch` is for the formatter, which rewrites `.arch` files in place on purpose.
    """
    if not allow_arch:
        check_output_path(path, inputs)
    try:
        _write(path, data)
    except OSError as exc:  # name the file the person asked for, not the temporary one
        raise OSError(exc.errno, exc.strerror, path) from exc


def _write(path: str, data: str | bytes) -> None:
    mode = "wb" if isinstance(data, bytes) else "w"
    text_opts = {} if mode == "wb" else {"encoding": "utf-8", "newline": "\n"}
    if os.path.exists(path) and not os.path.isfile(path):
        # a device or pipe (`-o /dev/stdout`): renaming over it would replace the device node
        with open(path, mode, **text_opts) as fh:
            fh.write(data)
        return
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".archdsl-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode, **text_opts) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if os.path.exists(path):
            with contextlib.suppress(OSError):
                os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
