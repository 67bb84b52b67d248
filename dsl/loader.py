"""Reads `.arch` files and their imports.

An import is resolved relative to the importing file, then along the search path; only
`.arch` files are accepted, a cycle is an error, and each file is parsed once per run (cached
by path and content). In sandbox mode no import may leave the first file's folder.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from . import lint
from . import syntax as s
from .budget import Budget
from .diagnostics import Diagnostic, Diagnostics, Label
from .escape import char_escape, visible
from .fileio import MAX_FILE_SIZE, TooLarge, decode_source, read_source, strip_bom
from .ops import lookup as lookup_op
from .parser import parse_module
from .source import SourceFile, Span

# control characters other than tab, newline, carriage return and form feed (whitespace)
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


@dataclass
class LoadOptions:
    search_path: tuple[str, ...] = ()
    sandbox: bool = False
    max_import_depth: int = 32
    # how a file's text is read, given its real path (default: from the disk); the language
    # server passes one that prefers the editor's open buffers
    read: Callable[[str], str] | None = None
    max_file_size: int = MAX_FILE_SIZE  # bytes of one file (characters of a text)


class Loader:
    def __init__(self, diags: Diagnostics, options: LoadOptions | None = None,
                 budget: Budget | None = None):
        self.diags = diags
        self.options = options or LoadOptions()
        self.budget = budget  # charged for parsing (dsl/budget.py)
        self._cache: dict[tuple[str, str], s.Module | None] = {}
        self._root: str | None = None

    def load_text(self, text: str, path: str = "<string>", base_dir: str | None = None
                  ) -> s.Module | None:
        limit = self.options.max_file_size
        if len(text) > limit:
            self.diags.add(too_large(path, len(text), limit, text[:4096], "characters"))
            return None
        source = SourceFile(path, strip_bom(text))
        if self._root is None:
            self._root = os.path.realpath(base_dir or os.getcwd())
        return self._load(source, base_dir or os.getcwd(), [])

    def _read(self, real: str) -> tuple[str, int | None]:
        """The text of the file at `real` and where its first byte that is not UTF-8 is (or
        None): from the `read` hook when one is given (the open buffers of an editor), else
        from the disk; either way held to the size limit."""
        limit = self.options.max_file_size
        if self.options.read is None:
            return read_decoded(real, limit)
        text = self.options.read(real)
        if len(text) > limit:
            raise TooLarge(len(text), limit, text[:200].encode("utf-8", "surrogatepass"))
        return strip_bom(text), None

    def load_file(self, path: str, display: str | None = None) -> s.Module | None:
        try:
            text, undecodable = self._read(os.path.realpath(path))
        except TooLarge as exc:
            self.diags.add(too_large(display or path, exc.size, exc.limit,
                                     exc.head.decode("utf-8", errors="replace")))
            return None
        real = os.path.realpath(path)
        if self._root is None:
            self._root = os.path.dirname(real)
        source = SourceFile(display or path, text)
        if undecodable is not None:
            self.diags.add(not_utf8(source, undecodable))
            return None
        return self._load(source, os.path.dirname(real), [real])

    # ------------------------------------------------------------------------------------
    def _load(self, source: SourceFile, base_dir: str, stack: list[str]) -> s.Module | None:
        key = (stack[-1] if stack else source.path,
               hashlib.sha1(source.text.encode("utf-8", "surrogatepass")).hexdigest())
        if key in self._cache:
            return self._cache[key]
        if not self._is_text(source):
            self._cache[key] = None
            return None
        module = parse_module(source, self.diags, self.budget)
        self._cache[key] = module
        if module is None:
            return None
        self._check_own_names(module)
        for imp in module.imports:
            imported = self._import(imp, base_dir, stack)
            if imported is None:
                continue
            for d in imported.definitions:
                self._define(module, d, imp.span)
        for d in module.definitions:
            self._define(module, d, None)
        lint.run(module, self.diags)  # once per file, as it is loaded (cached above)
        return module

    def _is_text(self, source: SourceFile) -> bool:
        """Refuse binary files (one diagnostic, not a page of bytes) and control characters
        (an escape sequence such as `\\x1b[2J` would otherwise be read as a bracket)."""
        text = source.text
        nul = text.find("\0")
        if nul >= 0:
            self.diags.error("E0106", f"`{source.path}` is not a text file", Span(source, nul, nul),
                             label="a NUL byte", help="archdsl reads `.arch` source text "
                             "(UTF-8); is this the right file?")
            return False
        bad = [m.start() for m in _CONTROL.finditer(text)]
        for pos in bad[:10]:
            self.diags.error("E0101", f"unexpected character `{char_escape(text[pos])}`",
                             Span(source, pos, pos + 1), label="a control character",
                             help="remove it; source files are plain text")
        self.diags.skipped(len(bad) - 10)  # counted in the final note, not each shown
        return not bad

    def _check_own_names(self, module: s.Module) -> None:
        seen: dict[str, s.Definition] = {}
        for d in module.definitions:
            if self.diags.full:  # 200,000 clashing definitions: count them, build none
                if lookup_op(d.name) is not None or d.name in ("concat", "add") \
                        or d.name in seen:
                    self.diags.skipped(1)
                seen.setdefault(d.name, d)
                continue
            if lookup_op(d.name) is not None or d.name in ("concat", "add"):
                self.diags.error("E0208", f"`{d.name}` is a built-in layer kind", d.name_span,
                                 label=f"a {d.kind} cannot take this name",
                                 help=f"rename the {d.kind}, e.g. `my_{d.name}`")
            elif d.name in seen:
                first = seen[d.name]
                self.diags.error("E0208", f"`{d.name}` is defined twice", d.name_span,
                                 labels=[Label(first.name_span, "first defined here")])
            else:
                seen[d.name] = d

    def _define(self, module: s.Module, d: s.Definition, via: Span | None) -> None:
        have = module.namespace.get(d.name)
        if have is None:
            module.namespace[d.name] = d
            return
        if have is d:
            return
        if have.module is module and d.module is module:
            return  # reported by _check_own_names
        span = d.name_span if via is None else via
        self.diags.error("E0403", f"`{d.name}` is defined both in {have.name_span.path} and "
                         f"{d.name_span.path}", span,
                         labels=[Label(have.name_span, "one definition"),
                                 Label(d.name_span, "the other")],
                         help="rename one of them")

    def _import(self, imp: s.Import, base_dir: str, stack: list[str]) -> s.Module | None:
        if not imp.path.endswith(".arch"):
            self.diags.error("E0401", f"can only import `.arch` files, not `{imp.path}`",
                             imp.span, help='write `import "blocks.arch"`')
            return None
        if os.path.isabs(imp.path) or imp.path.startswith("~"):
            self.diags.error("E0401", f"import paths are relative, not `{imp.path}`", imp.span,
                             help="write the path relative to this file, or add its folder "
                                  "to the search path with -I DIR")
            return None
        if len(stack) >= self.options.max_import_depth:
            self.diags.error("E0508", f"imports nest deeper than {self.options.max_import_depth}"
                             " files", imp.span, help="raise the limit with --max-import-depth")
            return None
        found = self._resolve(imp.path, base_dir)
        if found is None:
            looked = [visible(_shown_dir(d)) for d in (base_dir, *self.options.search_path)]
            self.diags.error("E0401", f"cannot find `{imp.path}`", imp.span,
                             label="no such file", notes=[f"looked in {d}" for d in looked],
                             help="import paths are relative to the importing file")
            return None
        real = os.path.realpath(found)
        if not real.endswith(".arch"):
            # a link named `x.arch` may point anywhere; only `.arch` files are ever read
            self.diags.error("E0401", f"`{imp.path}` is a link to a file that is not a `.arch` "
                             "file", imp.span, notes=[f"it points to {visible(real)}"])
            return None
        if self.options.sandbox and self._root and not _inside(real, self._root):
            self.diags.error("E0404", f"`{imp.path}` is outside the sandbox", imp.span,
                             notes=[f"sandbox root: {visible(_shown_dir(self._root))}"],
                             help="with --sandbox, imports must stay in the first file's folder")
            return None
        if real in stack:
            chain = [os.path.basename(p) for p in stack[stack.index(real):]] + \
                [os.path.basename(real)]
            self.diags.error("E0402", "import cycle: " + " -> ".join(chain), imp.span,
                             label="this import closes the cycle",
                             help="move the shared blocks into a file that both import")
            return None
        try:
            text, undecodable = self._read(real)
        except TooLarge as exc:
            diag = too_large(imp.path, exc.size, exc.limit, "")
            self.diags.add(Diagnostic(diag.code, diag.message, imp.span,
                                      label="this file is too large", help=diag.help))
            return None
        except OSError as exc:
            self.diags.error("E0401", f"cannot read `{imp.path}`: {exc.strerror}", imp.span)
            return None
        display = os.path.relpath(real) if not os.path.isabs(imp.path) else real
        if display.startswith(".."):
            display = real
        source = SourceFile(display, text)
        if undecodable is not None:
            self.diags.add(not_utf8(source, undecodable))
            return None
        return self._load(source, os.path.dirname(real), [*stack, real])

    def _resolve(self, rel: str, base_dir: str) -> str | None:
        for d in (base_dir, *self.options.search_path):
            cand = os.path.join(d, rel)
            if os.path.isfile(cand):
                return cand
        return None


def _shown_dir(d: str) -> str:
    """A folder as messages show it: relative to the working folder when below it."""
    rel = os.path.relpath(d)
    return d if rel.startswith("..") else rel


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def read_text(path: str, limit: int = MAX_FILE_SIZE) -> str:
    """A file's text; undecodable bytes become U+FFFD so the lexer can point at them. Only a
    regular file of at most `limit` bytes is read (fileio.read_source: TooLarge, NotAFile)."""
    return read_decoded(path, limit)[0]


def read_decoded(path: str, limit: int = MAX_FILE_SIZE) -> tuple[str, int | None]:
    """`read_text`, with the index of the first character that was not UTF-8 (or None)."""
    return decode_source(read_source(path, limit))


def not_utf8(source: SourceFile, index: int) -> Diagnostic:
    """E0108 at the first character of `source` that was not UTF-8 in the file: the same
    error from `check`, `fmt` and the editor server. Nothing else is reported for the file (a
    guess at its encoding could only produce wrong names and spurious errors)."""
    return Diagnostic("E0108", f"`{source.path}` is not UTF-8 text", Span(source, index, index + 1),
                      label="this byte is not UTF-8",
                      help="save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 FILE`); "
                           "archdsl reads source text only as UTF-8")


def too_large(path: str, size: int | None, limit: int, head: str,
              unit: str = "bytes") -> Diagnostic:
    """E0510 for a source over the size limit, pointing at its start (`head` is all of it
    that was read: the rest never is)."""
    message = (f"`{path}` is {size:,} {unit}, over the limit of {limit:,}" if size is not None
               else f"`{path}` is over the limit of {limit:,} {unit}")
    return Diagnostic("E0510", message,
                      Span(SourceFile(path, head), 0, 0), label="the file starts here",
                      help="a .arch file is short text; is this the right file? Raise the "
                           "limit with --max-file-size BYTES if you mean it")
