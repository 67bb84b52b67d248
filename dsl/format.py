"""The formatter: a `.arch` file in, the same program in the canonical layout out.

The style (docs/format.md): 4-space indents; parameters written over several lines get a line
each; one definition per paragraph, separated by one
blank line; a definition's body always spans lines; inside a body, items that the author put
on one line stay on one line, joined by `; ` (`fc1: linear(120); tanh`), and each other item
starts its own line; at most one blank line is kept between items; a group or list written
on one line stays inline (`{ conv(64, 1x1); relu }`), one written over several lines gets its
contents indented and its closing bracket on a line of its own; a literal kernel or a table
(a list of tuples) written one row per line keeps its rows aligned. Spacing inside a line is
fixed: `, ` after commas, `=` without spaces in keyword arguments, ` = ` for defaults and
bindings, one space around binary operators, `name: item` for labels. Parentheses are
exactly those precedence needs.

Comments are kept. The grammar ignores them, so they are found by scanning the text (outside
strings, `#` to the end of the line): a comment alone on its line is placed, on its own line,
before the first output line that comes after it in the source; a comment that follows code
goes to the end of the output line that holds the last token before it.

The printer walks the syntax tree (not the text), so the output parses to the same tree;
`format_text` checks that before returning, and the IR is therefore the same too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from . import syntax as s
from .budget import MAX_WORK, Budget, OutOfWork, out_of_work
from .diagnostics import ArchError, Diagnostics
from .parser import parse_module
from .source import SourceFile, Span
from .textscan import lexemes

INDENT = 4
_CLOSERS = ("}", "]", ")")
_OPENERS = ("{", "[", "(")

# Expression precedence, lowest first (grammar/archdsl.lark, `?expr` downwards).
_COND, _OR, _AND, _NOT, _CMP, _SUM, _TERM, _UNARY, _POW, _ATOM = range(10)
_BINOP_PREC = {"+": _SUM, "-": _SUM, "*": _TERM, "/": _TERM, "//": _TERM, "%": _TERM}


class FormatterBug(AssertionError):
    """The formatted text does not parse to the same tree: a bug, never the user's fault."""


def format_text(text: str, path: str = "<stdin>", verify: bool = True,
                max_work: int = MAX_WORK) -> str:
    """The canonical form of `text`; raises ArchError (with diagnostics) if it does not parse.
    Both parses (of the text, and of the result to verify it) share one work budget
    (dsl/budget.py): a text too much work to format is E0511, like one too much to check.

    >>> format_text("network n{input 1x8x8;conv(4,3x3) relu}")
    'network n {\\n    input 1x8x8; conv(4, 3x3); relu\\n}\\n'
    """
    budget = Budget(max_work)
    source = SourceFile(path, text)
    module = _parse(source, budget=budget)
    # printing and the verifying parse each cost about what the first parse did: charged
    # now, so that a text too much work to format stops before either
    try:
        budget.charge("token", (1 + verify) * budget.done["token"])
    except OutOfWork:
        raise ArchError([out_of_work(budget, Span(source, 0, 0), "formatting the file",
                                     ["formatting parses the file twice and prints it"])]) \
            from None
    out = _Printer(module.span.source).module(module)
    if verify:  # like black's safe mode: never hand back text that means something else
        again = _parse(SourceFile(path, out), bug=True)
        if tree_key(again) != tree_key(module):
            raise FormatterBug(f"formatting {path} would change its meaning")
    return out


def _parse(source: SourceFile, bug: bool = False, budget: Budget | None = None) -> s.Module:
    diags = Diagnostics()
    module = parse_module(source, diags, budget)
    if module is None or diags.has_errors:
        if bug:
            raise FormatterBug(f"the formatted text of {source.path} does not parse: "
                               + "; ".join(d.message for d in diags.items))
        raise ArchError(diags.items)
    return module


def tree_key(node) -> object:
    """A syntax tree as nested tuples, without spans: what must not change when formatting."""
    if isinstance(node, list):
        return tuple(tree_key(x) for x in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return (type(node).__name__, *(
            tree_key(getattr(node, f.name)) for f in dataclasses.fields(node)
            if f.name not in ("module", "namespace", "path")
            and not _spans(getattr(node, f.name))))
    return node


def _spans(v) -> bool:
    """A span, or a list of them (the names of `[a, b] = ...`)."""
    return isinstance(v, Span) or (isinstance(v, list) and bool(v)
                                   and all(isinstance(x, Span) for x in v))


# ---------------------------------------------------------------------------- comments

@dataclass
class _Comment:
    pos: int
    text: str
    alone: bool  # nothing but blanks before it on its line


def find_comments(text: str) -> list[_Comment]:
    """Every `#` comment outside strings, as the lexer sees them (STRING: /"[^"\\n]*"/), in
    one linear scan (dsl/textscan.py)."""
    out = []
    for kind, i, j in lexemes(text):
        if kind == "comment":
            line_start = text.rfind("\n", 0, i) + 1
            out.append(_Comment(i, text[i:j].rstrip(), not text[line_start:i].strip()))
    return out


# ---------------------------------------------------------------------------- output lines

@dataclass
class _Line:
    indent: int
    parts: list[str] = field(default_factory=list)
    pos: list[int] = field(default_factory=list)  # source offsets of the tokens on it
    comments: list[str] = field(default_factory=list)  # trailing comments
    top: str = ""  # "def" or "import" when it starts a top-level definition or import
    comment: bool = False  # a comment line of its own
    blank_before: bool = False

    @property
    def code(self) -> str:
        return "".join(self.parts)

    comment_col: int = 0  # where its trailing comment starts (aligned with its neighbours)

    def render(self) -> str:
        text = " " * self.indent + self.code
        if self.comments:
            if self.parts:
                text = text.ljust(max(self.comment_col, len(text) + 2))
            text += "  ".join(self.comments)
        return text.rstrip()


class _Printer:
    """Walks the syntax tree and writes lines; each handler names the rule it prints."""

    def __init__(self, source: SourceFile):
        self.src = source
        self.text = source.text
        self.lines: list[_Line] = []
        self.level = 0
        self.comments = find_comments(source.text)
        self._comment_pos = [c.pos for c in self.comments]

    # low-level writing ---------------------------------------------------------------------
    def nl(self, col: int | None = None, top: str = "") -> None:
        self.lines.append(_Line(self.level * INDENT if col is None else col, top=top))

    def w(self, text: str, pos: int | None = None) -> None:
        if not self.lines:
            self.nl()
        line = self.lines[-1]
        line.parts.append(text)
        if pos is not None:
            line.pos.append(pos)

    def column(self) -> int:
        line = self.lines[-1]
        return line.indent + len(line.code)

    def line_of(self, pos: int) -> int:
        return self.src.line_col(pos)[0]

    def one_line(self, span: Span) -> bool:
        return self.line_of(span.start) == self.line_of(max(span.start, span.end - 1))

    def has_comment(self, start: int, end: int) -> bool:
        return any(start < p < end for p in self._comment_pos)

    # module --------------------------------------------------------------------------------
    # start: _toplevel*
    def module(self, m: s.Module) -> str:
        tops = sorted([*m.imports, *m.definitions], key=lambda d: d.span.start)
        for top in tops:
            if isinstance(top, s.Import):
                self.nl(top="import")
                self.w("import ", top.span.start)
                self.w(f'"{top.path}"', top.span.end - 1)
            else:
                self.nl(top="def")
                self.definition(top)
        return self.finish()

    # block_def / network_def: ("block" | "network") NAME param_list? body
    def definition(self, d: s.Definition) -> None:
        self.w(f"{d.kind} ", d.span.start)
        self.w(d.name, d.name_span.start)
        if d.params:
            # parameters that start on several lines (a table among them) get one line each;
            # where they start is what the output keeps, so formatting again changes nothing
            spread = self.line_of(d.params[0].span.start) != self.line_of(
                d.params[-1].span.start)
            self.w("(")
            self.level += spread
            for i, p in enumerate(d.params):
                if spread:
                    self.nl()
                elif i:
                    self.w(", ")
                # param: NAME ["=" expr]
                self.w(p.name, p.span.start)
                if p.default is not None:
                    self.w(" = ")
                    self.expr(p.default, _COND)
                if spread:
                    self.w(",")
            self.level -= spread
            if spread:
                self.nl()
            self.w(")")
        self.w(" ")
        self.body(d.body.items, d.body.span.start, d.body.span.end - 1, multiline=True)

    # body: "{" _stmt* "}"
    def body(self, items: list[s.Item], open_pos: int, close_pos: int,
             multiline: bool = False) -> None:
        if not items and not self.has_comment(open_pos, close_pos):
            self.w("{", open_pos)
            self.w("}", close_pos)
            return
        if not multiline and self.line_of(open_pos) == self.line_of(close_pos):
            self.w("{ ", open_pos)
            for i, it in enumerate(items):
                if i:
                    self.w("; ")
                self.item(it)
            self.w(" }", close_pos)
            return
        self.w("{", open_pos)
        self.level += 1
        self.stmts(items)
        self.level -= 1
        self.nl()
        self.w("}", close_pos)

    def stmts(self, items: list[s.Item]) -> None:
        """One line per item, except that items sharing a source line share an output line."""
        prev = None
        for it in items:
            if prev is not None and self.line_of(it.span.start) == self.line_of(
                    max(prev.span.start, prev.span.end - 1)):
                self.w("; ")
            else:
                self.nl()
            self.item(it)
            prev = it

    # items ---------------------------------------------------------------------------------
    def item(self, it: s.Item) -> None:
        getattr(self, "_" + type(it).__name__)(it)

    # item_stmt: NAME ":" item_stmt -> labeled
    # item_stmt: label_template ":" item_stmt -> labeled_template
    def _Labeled(self, it: s.Labeled) -> None:
        if it.parts is None:
            self.w(it.label, it.label_span.start)
        else:  # `denselayer{i + 1}`: nothing between the parts
            self.w("", it.label_span.start)
            for part in it.parts:
                if isinstance(part, str):
                    self.w(part)
                else:
                    self.w("{")
                    self.expr(part, _COND)
                    self.w("}")
        self.w(": ")
        self.item(it.item)

    # let_stmt: LET patterns "=" expr
    def _LetStmt(self, it: s.LetStmt) -> None:
        self.w("let ", it.span.start)
        self.patterns(it.targets)
        self.w(" = ")
        self.expr(it.value, _COND)

    # primary: FOR patterns IN expr body -> for_item
    def _For(self, it: s.For) -> None:
        self.w("for ", it.span.start)
        self.patterns(it.targets)
        self.w(" in ")
        self.expr(it.iterable, _COND)
        self.w(" ")
        self.body(it.body.items, it.body.span.start, it.body.span.end - 1)

    # patterns: pattern ("," pattern)*
    def patterns(self, targets: list[s.Pattern]) -> None:
        for i, p in enumerate(targets):
            if i:
                self.w(", ")
            self.pattern(p)

    # pattern: NAME -> pat_name | "(" pattern ("," pattern)+ ","? ")" -> pat_tuple
    def pattern(self, p: s.Pattern) -> None:
        if isinstance(p, s.PatName):
            self.w(p.name, p.span.start)
            return
        self.w("(", p.span.start)
        self.patterns(p.items)
        self.w(")", p.span.end - 1)

    # item_stmt: NAME "=" item_stmt -> bind
    def _Bind(self, it: s.Bind) -> None:
        self.w(it.name, it.name_span.start)
        self.w(" = ")
        self.item(it.item)

    # return_stmt: RETURN NAME ("," NAME)* ","?
    def _ReturnStmt(self, it: s.ReturnStmt) -> None:
        self.w("return", it.span.start)
        for i, (name, span) in enumerate(zip(it.names, it.name_spans, strict=True)):
            self.w((" " if i == 0 else ", ") + name, span.start)

    # item_stmt: LSQB [item_stmt ("," item_stmt)*] ","? RSQB "=" item_stmt -> unpack
    def _Unpack(self, it: s.Unpack) -> None:
        self.w("[", it.span.start)
        for i, (name, span) in enumerate(zip(it.names, it.name_spans, strict=True)):
            self.w(("" if i == 0 else ", ") + name, span.start)
        self.w("] = ")
        self.item(it.item)

    # primary: NAME -> ref
    def _Ref(self, it: s.Ref) -> None:
        self.w(it.ident, it.span.start)

    # primary: NAME "(" args ")" -> call
    def _Call(self, it: s.Call) -> None:
        self.w(it.ident, it.ident_span.start)
        self.call_args(it.args, it.span.end - 1)

    # primary: INLINE NAME ["(" args RPAR] -> inline_ref / inline_call
    def _Inline(self, it: s.Inline) -> None:
        self.w("inline ", it.keyword_span.start)
        self.item(it.call)

    # primary: body -> group
    def _Group(self, it: s.Group) -> None:
        self.body(it.items, it.span.start, it.span.end - 1)

    # primary: "[" [item_stmt ("," item_stmt)*] ","? "]" -> item_list
    def _ItemList(self, it: s.ItemList) -> None:
        self.w("[", it.span.start)
        if self.one_line(it.span) or not it.items:
            for i, x in enumerate(it.items):
                if i:
                    self.w(", ")
                self.item(x)
        else:
            self.level += 1
            for x in it.items:
                self.nl()
                self.item(x)
                self.w(",")
            self.level -= 1
            self.nl()
        self.w("]", it.span.end - 1)

    # primary: _merge body -> merge
    def _Merge(self, it: s.Merge) -> None:
        self.w(it.kind, it.kind_span.start)
        self.w(" ")
        self.body(it.branches, self.find("{", it.kind_span.end), it.span.end - 1)

    # primary: _merge "(" args ")" -> merge_call
    def _MergeCall(self, it: s.MergeCall) -> None:
        self.w(it.kind, it.kind_span.start)
        self.call_args(it.args, it.span.end - 1)

    # primary: "if" expr body ["else" item] -> if_item
    def _If(self, it: s.If) -> None:
        # An if/else written over several lines gets `} else {` and its bodies on lines of
        # their own, so that neither branch is hidden at the end of a long line.
        spread = it.other is not None and not self.one_line(it.span)
        self.w("if ", it.span.start)
        self.expr(it.cond, _COND)
        self.w(" ")
        self.body(it.then.items, it.then.span.start, it.then.span.end - 1, multiline=spread)
        if it.other is not None:
            self.w(" else ")
            if isinstance(it.other, s.Group):
                o = it.other
                self.body(o.items, o.span.start, o.span.end - 1, multiline=spread)
            else:
                self.item(it.other)

    # item: primary MUL_OP atom -> repeat
    def _Repeat(self, it: s.Repeat) -> None:
        self.item(it.item)
        self.w(" * ")
        self.expr(it.count, _ATOM)

    # input_stmt: "input" (DIMS | "(" args ")")
    def _InputStmt(self, it: s.InputStmt) -> None:
        if it.dims is not None:
            self.w("input ", it.span.start)
            self.expr(it.dims, _ATOM)
        else:
            self.w("input", it.span.start)
            self.call_args(it.args, it.span.end - 1)

    # init_stmt: "init" dotted "=" NAME ["(" args ")"]
    def _InitStmt(self, it: s.InitStmt) -> None:
        self.w("init ", it.span.start)
        self.w(".".join(it.target), it.target_span.start)
        self.w(" = ")
        self.w(it.func, it.func_span.start)
        if it.args:
            self.call_args(it.args, it.span.end - 1)

    # args: [arg ("," arg)*] ","?     arg: expr | NAME "=" expr -> kwarg
    def call_args(self, args: list[s.Arg], close_pos: int | None) -> None:
        self.w("(")
        for i, a in enumerate(args):
            if i:
                self.w(", ")
            if a.name is not None:
                self.w(a.name, a.name_span.start if a.name_span else None)
                self.w("=")
            self.expr(a.value, _COND)
        self.w(")", close_pos)

    def find(self, ch: str, start: int) -> int:
        """The offset of `ch` at or after `start`, skipping comments (only blanks and comments
        can come between a merge's kind and its `{`)."""
        i = start
        while i < len(self.text) and self.text[i] != ch:
            if self.text[i] == "#":
                j = self.text.find("\n", i)
                i = len(self.text) if j < 0 else j
            else:
                i += 1
        return i

    # expressions ---------------------------------------------------------------------------
    def expr(self, e: s.Expr, min_prec: int) -> None:
        """Writes `e`, in parentheses when its precedence is below what the place needs."""
        paren = _prec(e) < min_prec
        if paren:
            self.w("(")
        getattr(self, "_" + type(e).__name__)(e)
        if paren:
            self.w(")")

    # expr: "if" expr "then" expr "else" expr -> cond_expr
    def _CondExpr(self, e: s.CondExpr) -> None:
        self.w("if ", e.span.start)
        self.expr(e.cond, _OR)  # a nested `if` reads better in parentheses, except after
        self.w(" then ")        # `else`, where it chains
        self.expr(e.then, _OR)
        self.w(" else ")
        self.expr(e.other, _COND)

    # or_expr: or_expr "or" and_expr    and_expr: and_expr "and" not_expr
    def _BoolOp(self, e: s.BoolOp) -> None:
        prec = _OR if e.op == "or" else _AND
        self.expr(e.left, prec)
        self.w(f" {e.op} ")
        self.expr(e.right, prec + 1)

    # not_expr: "not" not_expr        factor: "-" factor
    def _UnaryOp(self, e: s.UnaryOp) -> None:
        if e.op == "not":
            self.w("not ", e.span.start)
            self.expr(e.operand, _NOT)
        else:
            nested = isinstance(e.operand, s.UnaryOp) and e.operand.op == "-"
            self.w("- " if nested else "-", e.span.start)
            self.expr(e.operand, _UNARY)

    # comparison: sum COMP_OP sum (not associative)
    def _Compare(self, e: s.Compare) -> None:
        self.expr(e.left, _SUM)
        self.w(f" {e.op} ")
        self.expr(e.right, _SUM)

    # sum: sum ADD_OP term    term: term MUL_OP factor    power: atom "**" factor
    def _BinOp(self, e: s.BinOp) -> None:
        if e.op == "**":
            self.expr(e.left, _ATOM)
            self.w(" ** ")
            self.expr(e.right, _UNARY)
            return
        prec = _BINOP_PREC[e.op]
        self.expr(e.left, prec)
        self.w(f" {e.op} ")
        self.expr(e.right, prec + 1)

    # atom: INT | FLOAT | STRING | "true" | "false"
    def _Literal(self, e: s.Literal) -> None:
        v = e.value
        if isinstance(v, bool):
            text = "true" if v else "false"
        elif isinstance(v, int):
            text = str(v)
        elif isinstance(v, float):
            text = e.span.text()  # as written: repr() may not lex back (`inf`)
        else:
            text = f'"{v}"'
        self.w(text, e.span.start)

    # atom: DIMS
    def _DimsLit(self, e: s.DimsLit) -> None:
        self.w("x".join(str(d) for d in e.dims), e.span.start)

    # atom: NAME
    def _Name(self, e: s.Name) -> None:
        self.w(e.ident, e.span.start)

    # atom: atom "." NAME
    def _Attr(self, e: s.Attr) -> None:
        numeric = isinstance(e.obj, s.Literal) and not isinstance(e.obj.value, (bool, str))
        if numeric:  # `2.x` would lex as the number `2.`
            self.w("(")
        self.expr(e.obj, _ATOM)
        if numeric:
            self.w(")")
        self.w(".")
        self.w(e.attr, e.attr_span.start)

    # postfix: postfix INDEX expr "]" -> index (no space before the `[`: grammar, INDEX)
    def _Index(self, e: s.Index) -> None:
        self._indexed(e.obj)
        self.w("[")
        self.expr(e.index, _COND)
        self.w("]", e.span.end - 1)

    # postfix: postfix INDEX [expr] ":" [expr] "]" -> slice
    def _Slice(self, e: s.Slice) -> None:
        self._indexed(e.obj)
        self.w("[")
        if e.start is not None:
            self.expr(e.start, _COND)
        self.w(":")
        if e.stop is not None:
            self.expr(e.stop, _COND)
        self.w("]", e.span.end - 1)

    def _indexed(self, obj: s.Expr) -> None:
        numeric = isinstance(obj, s.Literal) and isinstance(obj.value, float)
        if numeric:  # `1.[0]`: a `[` after `.` opens a list, not an index
            self.w("(")
        self.expr(obj, _ATOM)
        if numeric:
            self.w(")")

    # atom: NAME "(" args ")" -> func
    def _FuncCall(self, e: s.FuncCall) -> None:
        self.w(e.func, e.func_span.start)
        self.call_args(e.args, e.span.end - 1)

    # atom: "(" expr "," [expr ("," expr)*] ","? ")" -> tuple_lit
    def _TupleLit(self, e: s.TupleLit) -> None:
        self.w("(", e.span.start)
        for i, x in enumerate(e.items):
            if i:
                self.w(", ")
            self.expr(x, _COND)
        if len(e.items) == 1:
            self.w(",")
        self.w(")", e.span.end - 1)

    # atom: "[" expr "for" patterns "in" expr ["if" expr] "]" -> list_comp
    def _ListComp(self, e: s.ListComp) -> None:
        self.w("[", e.span.start)
        self.expr(e.element, _OR)  # an `if ... then ... else` element reads better in ()
        self.w(" for ")
        self.patterns(e.targets)
        self.w(" in ")
        self.expr(e.iterable, _OR)
        if e.cond is not None:
            self.w(" if ")
            self.expr(e.cond, _OR)
        self.w("]", e.span.end - 1)

    # atom: "[" [expr ("," expr)*] ","? "]" -> list_lit
    def _ListLit(self, e: s.ListLit) -> None:
        rows = (len(e.items) > 1 and not self.one_line(e.span)
                and all(isinstance(x, (s.ListLit, s.TupleLit)) for x in e.items))
        col = self.column() + 1
        self.w("[", e.span.start)
        for i, x in enumerate(e.items):
            if i:
                self.w(",")
                if rows:  # a kernel written one row per line keeps its rows aligned
                    self.nl(col=col)
                else:
                    self.w(" ")
            self.expr(x, _COND)
        self.w("]", e.span.end - 1)

    # finishing: comments and blank lines ---------------------------------------------------
    def finish(self) -> str:
        lines = self._place_comments()
        self._blank_lines(lines)
        _align_comments(lines)
        out = []
        for line in lines:
            if line.blank_before and out:
                out.append("")
            out.append(line.render())
        return "\n".join(out) + "\n" if out else ""

    def _place_comments(self) -> list[_Line]:
        code = self.lines
        firsts = [ln.pos[0] if ln.pos else None for ln in code]
        before: dict[int, list[_Comment]] = {}  # line index -> comments to put above it
        k = 0  # index of the first code line starting after the current comment
        for c in self.comments:
            while k < len(code) and (firsts[k] is None or firsts[k] < c.pos):
                k += 1
            if not c.alone and k > 0:
                code[k - 1].comments.append(c.text)
            else:
                before.setdefault(k, []).append(c)
        out: list[_Line] = []
        for i in range(len(code) + 1):
            for c in before.get(i, ()):
                nxt = code[i] if i < len(code) else None
                indent = 0
                if nxt is not None:
                    indent = nxt.indent + (INDENT if nxt.code.startswith(_CLOSERS) else 0)
                out.append(_Line(indent, comments=[c.text], pos=[c.pos], comment=True))
            if i < len(code):
                out.append(code[i])
        return out

    def _blank_lines(self, lines: list[_Line]) -> None:
        """Keep one blank line where the source had one or more; always one between
        top-level definitions (above the comments that introduce a definition)."""
        prev: _Line | None = None
        for line in lines:
            if prev is not None and line.pos and prev.pos:
                gap = self.text[prev.pos[-1]:line.pos[0]].split("\n")
                line.blank_before = any(not g.strip() for g in gap[1:-1])
                if prev.code.endswith(_OPENERS) and not prev.comment:
                    line.blank_before = False
                if line.code.startswith(_CLOSERS):
                    line.blank_before = False
            prev = line
        for i, line in enumerate(lines):
            if line.top != "def":
                continue
            j = i
            while j > 0 and lines[j - 1].comment and lines[j - 1].indent == 0 \
                    and not lines[j].blank_before:
                j -= 1
            if j > 0:
                lines[j].blank_before = True


def _align_comments(lines: list[_Line]) -> None:
    """Trailing comments of neighbouring lines start in one column, as gofmt does: a run is
    lines of one indent with no blank line or comment line between them."""
    run: list[_Line] = []

    def close() -> None:
        commented = [ln for ln in run if ln.comments and ln.parts]
        col = max((ln.indent + len(ln.code) + 2 for ln in commented), default=0)
        for ln in commented:
            ln.comment_col = col
        run.clear()

    for line in lines:
        if run and (line.comment or line.blank_before or line.indent != run[-1].indent):
            close()
        if not line.comment:
            run.append(line)
    close()


def _prec(e: s.Expr) -> int:
    if isinstance(e, s.CondExpr):
        return _COND
    if isinstance(e, s.BoolOp):
        return _OR if e.op == "or" else _AND
    if isinstance(e, s.UnaryOp):
        return _NOT if e.op == "not" else _UNARY
    if isinstance(e, s.Compare):
        return _CMP
    if isinstance(e, s.BinOp):
        return _POW if e.op == "**" else _BINOP_PREC[e.op]
    return _ATOM
