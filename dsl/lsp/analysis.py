"""One check of one document: the compiler's own pipeline (`archdsl.pipeline.run`, exactly what
`archdsl check` runs, with the same limits), fed the editor's open buffers in place of the
files on disk, and the indexes the editor features read from its result.

A document that does not parse still answers for the parts that do (the tolerant pass): each
top-level piece (`import`, `block`, `network`, found at the start of a line, as the parser's
own error recovery cuts the file) that fails to parse on its own is blanked out, keeping every
line break so offsets do not move, and the rest goes through the pipeline again. Its
diagnostics are dropped (the syntax errors of the real text are what the user sees); its
syntax tree and IR answer hovers, symbols and inlay hints. The workspace prefers the last
analysis that parsed, carried to the current text through the edits since (see
`workspace.View`), and uses this pass when there is none.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import syntax as s
from ..diagnostics import Diagnostic, Diagnostics
from ..elaborate import Limits
from ..ir import IR
from ..loader import LoadOptions, read_text
from ..parser import parse_module
from ..pipeline import Result, run
from ..source import SourceFile, Span

# Where the parser's recovery cuts a file into definitions (dsl/parser.py, `_TOPLEVEL`).
_TOPLEVEL = re.compile(r"^(?:block|network|import)\b", re.M)
MAX_PIECES = 200  # a file cut into more pieces than this gets no tolerant pass


@dataclass(frozen=True)
class Settings:
    """What every check runs with: the CLI's `-I`, `--sandbox` and limits, and a time budget
    (seconds of one check; 0 for none)."""

    search_path: tuple[str, ...] = ()
    sandbox: bool = False
    limits: Limits = field(default_factory=Limits)
    timeout: float = 10.0


class CheckTimeout(BaseException):
    """A check ran past its time budget. A BaseException, so that no `except Exception` on the
    way (the pipeline's, the elaborator's) takes it for an error of the input."""


@contextlib.contextmanager
def time_budget(seconds: float):
    """Raise CheckTimeout in the block after `seconds` (a timer signal: only in the main
    thread, and only where the system has one; elsewhere the block runs unbounded). The limits
    bound what a file can ask for; this bounds what they still let through."""
    usable = seconds > 0 and hasattr(signal, "setitimer") and \
        threading.current_thread() is threading.main_thread() and \
        signal.getitimer(signal.ITIMER_REAL)[0] == 0  # no other timer running (a harness's)
    if not usable:
        yield
        return
    armed = [True]

    def ring(signum, frame):
        if armed[0]:
            armed[0] = False
            raise CheckTimeout()

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def display_path(real: str) -> str:
    """A file as messages name it: relative to the working folder when below it (the loader's
    rule for imports, so the server's messages are the CLI's when both run in one folder)."""
    rel = os.path.relpath(real)
    return real if rel.startswith("..") else rel


def real_path(display: str) -> str:
    """The inverse of `display_path`."""
    return display if os.path.isabs(display) else os.path.abspath(display)


@dataclass
class BlockCall:
    """One instance of a block made by a call (or of a named group, `kind` "group"): its
    module path and the nodes made inside, which are consecutive ids."""

    path: str
    kind: str
    span: Span
    first: int
    last: int


@dataclass
class Analysis:
    uri: str
    path: str | None  # the real path, None for a document that is not a file
    display: str
    text: str
    version: int | None
    result: Result
    files: dict[str, str]  # real path -> text of every file the check read (imports)
    parsed: bool  # the text parsed; else `module` and `ir` come from the tolerant pass
    module: s.Module | None
    ir: IR | None
    _by_file: dict[str, list[int]] | None = None
    _by_span: dict[tuple[str, int, int], list[int]] | None = None
    _calls: dict[tuple[str, int, int], list[BlockCall]] | None = None

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.result.diagnostics.items

    def owns(self, span: Span) -> bool:
        """Whether `span` lies in this document (not in a file it imports)."""
        return span.source.path == self.display

    def file_of(self, span: Span) -> str:
        """The real path of the file `span` lies in ("" for a document that is not a file)."""
        if self.owns(span):
            return self.path or ""
        return real_path(span.source.path)

    def _key(self, path: str | None) -> str:
        return (self.path or "") if path is None else path

    # ------------------------------------------------------------------ indexes of the IR
    def _index(self) -> dict[tuple[str, int, int], list[int]]:
        if self._by_span is None:
            self._by_span, self._by_file = {}, {}
            if self.ir is not None:
                files: dict[str, str] = {}  # display path -> real path ("" here)
                for nid, data in self.ir.nodes():
                    sp = data["span"]
                    f = files.get(sp.source.path)
                    if f is None:
                        f = files[sp.source.path] = self.file_of(sp)
                    self._by_span.setdefault((f, sp.start, sp.end), []).append(nid)
                    self._by_file.setdefault(f, []).append(nid)
        return self._by_span

    def nodes_in(self, path: str | None) -> list[int]:
        """IR node ids whose span lies in the file `path` (None: this document), in order."""
        self._index()
        return self._by_file.get(self._key(path), [])

    def nodes_at(self, path: str | None, start: int, end: int) -> list[int]:
        """IR node ids made by the item whose span is [start, end) in `path`."""
        return self._index().get((self._key(path), start, end), [])

    def block_calls(self, path: str | None, start: int, end: int, groups: bool = False
                    ) -> list[BlockCall]:
        """The block instances made by the call whose span is [start, end) in `path` (with
        `groups`: the instances of the named group or repeated copy there instead)."""
        return [c for c in self.scope_index().get((self._key(path), start, end), [])
                if (c.kind == "group") == groups]

    def calls_in(self, path: str | None) -> list[BlockCall]:
        """Every block instance whose call lies in `path`."""
        key = self._key(path)
        return [c for (f, _, _), calls in self.scope_index().items() if f == key
                for c in calls if c.kind != "group"]

    def scope_index(self) -> dict[tuple[str, int, int], list[BlockCall]]:
        """(file, start, end) of a call or named group -> the instances it made."""
        if self._calls is None:
            self._calls = {}
            if self.ir is not None:
                by_path: dict[str, BlockCall] = {}
                for nid, data in self.ir.nodes():
                    for sc in data["scopes"]:
                        call = by_path.get(sc.path)
                        if call is None:
                            call = by_path[sc.path] = BlockCall(sc.path, sc.kind, sc.span,
                                                                nid, nid)
                            key = (self.file_of(sc.span), sc.span.start, sc.span.end)
                            self._calls.setdefault(key, []).append(call)
                        call.last = nid
        return self._calls


def analyse(uri: str, path: str | None, text: str, version: int | None, settings: Settings,
            read: Callable[[str], str | None], log: Callable[[str], None] | None = None
            ) -> Analysis:
    """Check a document. `read(real path)` gives an open buffer's text, or None for the disk."""
    display = display_path(path) if path else _untitled_name(uri)
    files: dict[str, str] = {}
    result = _check(path, display, text, settings, read, files, log)
    module, ir = result.module, result.ir
    parsed = module is not None
    stopped = any(d.code == "timeout" for d in result.diagnostics)
    if not parsed and not stopped:
        blanked = tolerant_text(text, display)
        if blanked is not None:
            again = _check(path, display, blanked, settings, read, {}, None)
            module, ir = again.module, again.ir
    return Analysis(uri, path, display, text, version, result, files, parsed, module, ir)


def _untitled_name(uri: str) -> str:
    tail = uri.rsplit("/", 1)[-1] or "untitled"
    return tail if tail.endswith(".arch") else tail + ".arch"


def _check(path, display, text, settings, read, files, log) -> Result:
    def reader(real: str) -> str:
        if path is not None and real == path:
            got = text
        else:
            got = read(real)
            if got is None:
                got = read_text(real)
        files[real] = got
        return got

    opts = LoadOptions(search_path=settings.search_path, sandbox=settings.sandbox, read=reader)
    try:
        with time_budget(settings.timeout):
            if path is not None:
                return run(path=path, display=display, limits=settings.limits, load=opts,
                           require_network=False)
            return run(text=text, display=display, base_dir=os.getcwd(),
                       limits=settings.limits, load=opts, require_network=False)
    except CheckTimeout:
        diags = Diagnostics()
        diags.error("timeout", f"checking this file took longer than {settings.timeout:g} s "
                    "and was stopped", Span(SourceFile(display, text), 0, 0),
                    help="`archdsl check` takes as long; lower the repetition counts or the "
                         "limits (`archdsl lsp --max-layers N`), or raise `--check-timeout`")
        return Result(None, diags, None, None)
    except Exception as exc:  # a bug in the compiler: say so where the user looks
        if log is not None:
            log("archdsl internal error while checking " + display + ":\n"
                + traceback.format_exc())
        diags = Diagnostics()
        where = getattr(exc, "arch_location", display)
        diags.error("internal", f"archdsl internal error: {type(exc).__name__}: {exc} (while "
                    f"processing {where}); please report it", Span(SourceFile(display, text), 0, 0))
        return Result(None, diags, None, None)


def tolerant_text(text: str, display: str) -> str | None:
    """`text` with each top-level piece that does not parse on its own blanked out (spaces,
    line breaks kept), or None when no piece parses."""
    starts = sorted({0, *(m.start() for m in _TOPLEVEL.finditer(text))})
    if len(starts) > MAX_PIECES:
        return None
    bounds = [*starts, len(text)]
    keep = []
    for a, b in itertools.pairwise(bounds):
        piece = _blank(text[:a]) + text[a:b]
        if parse_module(SourceFile(display, piece), Diagnostics()) is not None:
            keep.append((a, b))
    if not keep:
        return None
    out, at = [], 0
    for a, b in keep:
        out.append(_blank(text[at:a]))
        out.append(text[a:b])
        at = b
    out.append(_blank(text[at:]))
    return "".join(out)


def _blank(segment: str) -> str:
    """Spaces for every character but the line breaks (so no offset or line moves)."""
    return re.sub(r"[^\r\n]", " ", segment)
