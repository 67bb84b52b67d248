"""Reading sources and writing outputs safely. A source is read only from a regular file and
only up to a size limit, checked before reading (a FIFO would block forever, `/dev/zero` never
ends). Outputs are written atomically (temporary file, then rename) so an interrupted run never
leaves a half-written file, and never over an input `.arch` file."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

MAX_FILE_SIZE = 1 << 20  # bytes of one source file (Limits.max_file_size, --max-file-size)


class NotAFile(OSError):
    """The path is a folder, a pipe, a device or a socket: nothing a source can be read from."""


class TooLarge(Exception):
    """The source is larger than the limit; `size` is its size in bytes when known (a file
    that grows while it is read is only known to be larger than the limit), `head` its start."""

    def __init__(self, size: int | None, limit: int, head: bytes = b""):
        super().__init__(f"{size if size is not None else 'more than ' + str(limit)} bytes")
        self.size, self.limit, self.head = size, limit, head


def describe_kind(mode: int) -> str:
    for test, what in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a pipe"),
                       (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "not a regular file"


def read_source(path: str, limit: int = MAX_FILE_SIZE) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them. Raises NotAFile for
    anything but a regular file (opened without blocking, then checked on the open file, so a
    file swapped for a FIFO between a check and the open cannot hang the run), and TooLarge,
    from the file's size before anything is read, or after reading `limit` + 1 bytes."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
        | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotAFile(0, f"{describe_kind(info.st_mode)}, not a .arch file", path)
        if info.st_size > limit:
            raise TooLarge(info.st_size, limit, os.read(fd, 4096))
        chunks, got = [], 0
        while got <= limit:  # a regular file may still grow as it is read
            chunk = os.read(fd, limit + 1 - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise TooLarge(None, limit, data[:4096])
        return data
    finally:
        os.close(fd)


def read_stream(stream, limit: int = MAX_FILE_SIZE) -> bytes:
    """At most `limit` bytes of a stream (standard input), or TooLarge: `/dev/zero` piped in
    must not fill the memory."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(None, limit, data[:4096])
    return data


def read_pipe(path: str, limit: int = MAX_FILE_SIZE) -> bytes:
    """At most `limit` bytes of the pipe or device at `path` (`/dev/stdin`, `<(...)`), or
    TooLarge. Opened without blocking, so a named FIFO that no one writes to reads as empty
    instead of hanging the run; then read as a stream (`read_stream`)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
        | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a writer that is slow is waited for
        stream = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with stream:
        return read_stream(stream, limit)


BOM = "\ufeff"  # a UTF-8 byte-order mark: accepted at the start of a file, and dropped


def decode_source(data: bytes) -> tuple[str, int | None]:
    """A source's text and, when it is not UTF-8, the index in that text of the first
    character that could not be decoded (None when all of it is UTF-8). Undecodable bytes
    become U+FFFD so a diagnostic can show the line; a leading byte-order mark is dropped, so
    columns count from the first real character. `check`, `fmt` and the editor server all read
    through here, so a file is the same text (and the same error, E0108) for each of them."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return data.decode("utf-8", errors="replace"), len(data[:exc.start].decode("utf-8"))


def strip_bom(text: str) -> str:
    """Text handed over as a string (an editor's buffer, `load_text`) without its BOM."""
    return text[1:] if text.startswith(BOM) else text


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
