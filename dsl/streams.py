"""Standard output and standard error as a shell sees them.

A reader that leaves early (`archdsl check bad.arch 2>&1 | head -1`, `... | true`) closes the
pipe; a write after that fails with EPIPE. The command must still end with the exit status
its work implies (1 for errors in the input), so that `set -o pipefail` sees a failing check
fail: `guard()` wraps both streams so that, once the reader has gone, what is written is
dropped and the command runs on to its own status. Any other failed write (a full disk) is
still raised, for the CLI to report.
"""

from __future__ import annotations

import os
import sys


class PipeGuard:
    """A stream (text or binary) whose writes stop at a closed pipe instead of raising.

    Everything but `write`, `writelines` and `flush` is the wrapped stream's. `broken` says
    whether the reader has gone; `buffer` (of a text stream) is guarded the same way."""

    def __init__(self, stream, parent: PipeGuard | None = None):
        self._stream = stream
        self._parent = parent
        self._broken = False

    @property
    def broken(self) -> bool:
        return self._broken or (self._parent is not None and self._parent.broken)

    def _mark(self) -> None:
        self._broken = True
        if self._parent is not None:
            self._parent._mark()

    def write(self, data):
        if self.broken:
            return len(data)
        try:
            return self._stream.write(data)
        except BrokenPipeError:
            self._mark()
            return len(data)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self.broken:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._mark()

    @property
    def buffer(self):
        inner = getattr(self._stream, "buffer", None)
        if inner is None:
            raise AttributeError("buffer")
        # flush the text layer first, so text and bytes keep their order
        self.flush()
        return PipeGuard(inner, parent=self)

    def __getattr__(self, name):
        return getattr(self._stream, name)


class guard:
    """`with guard():` standard output and standard error as `PipeGuard`s; on leaving, the
    originals are back, and a stream whose reader has gone is pointed at /dev/null so that
    the interpreter's own flush at exit does not fail again ("Exception ignored")."""

    def __enter__(self) -> guard:
        self.saved = (sys.stdout, sys.stderr)
        self.out = PipeGuard(sys.stdout) if sys.stdout is not None else None
        self.err = PipeGuard(sys.stderr) if sys.stderr is not None else None
        if self.out is not None:
            sys.stdout = self.out
        if self.err is not None:
            sys.stderr = self.err
        return self

    def __exit__(self, *exc) -> None:
        # a command may have swapped a stream itself (a test's redirect): put back only ours
        if sys.stdout is self.out:
            sys.stdout = self.saved[0]
        if sys.stderr is self.err:
            sys.stderr = self.saved[1]
        for wrapped in (self.out, self.err):
            if wrapped is not None and wrapped.broken:
                discard(wrapped._stream)

    @property
    def stdout_gone(self) -> bool:
        return self.out is not None and self.out.broken


def discard(stream) -> None:
    """Drop what `stream` still holds: its file descriptor becomes /dev/null (nothing to do
    for a stream that is not a real file, such as a test's StringIO)."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)
