"""Text -> syntax tree. Lark parses; `_Builder` builds the dataclasses of `syntax.py`;
raw parser failures become named diagnostics ("expected a layer or `}`")."""

from __future__ import annotations

import itertools
import re

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import syntax as s
from . import textscan
from .budget import COSTS, Budget, OutOfWork, count_tokens, out_of_work, spending, token_offset
from .diagnostics import Diagnostic, Diagnostics, Label
from .load_grammar import counts_tokens, lark_parser
from .source import SourceFile, Span

_CLOSERS = {"{": "}", "(": ")", "[": "]"}
# Deeper syntax trees are refused before anything recursive walks them (the tree builder,
# the evaluator and the formatter recurse once per level; Python's stack is ~1000 frames).
MAX_NESTING = 100
MAX_DIGITS = 100  # longest integer literal accepted (2**62 has 19 digits)
_OPENERS = {v: k for k, v in _CLOSERS.items()}


class _Builder:
    """Builds the syntax tree from Lark's tree. Each public method is named after the grammar
    rule (or alias) it handles and receives that rule's children, already built.

    Spans: a node covers its rule's text, from its first token to its last. A parenthesised
    expression (and `+x`) is its inner node, whose own span leaves the brackets out, but a
    node built around it covers them: `(a) + b` starts at `(`. `_outer` records those wider
    extents, by node identity, for `_cover`."""

    def __init__(self, source: SourceFile):
        self.src = source
        self._outer: dict[int, tuple[int, int]] = {}

    def build(self, tree: Tree):
        """The syntax tree of `tree`, children first. This is a Lark Transformer without its
        generality (per-node attribute lookups, wrappers), which cost a quarter of the parse.
        The walk recurses once per level, so it refuses to go deeper than MAX_NESTING."""
        handlers = {name: getattr(self, name) for name in _HANDLERS}

        def walk(node: Tree, depth: int):
            if node.data == "paren":  # atom: LPAR expr RPAR -> paren
                # `((x))` is x spanning the outer brackets; parentheses add no level, and a
                # pile of them is unwrapped in a loop, not by recursion.
                open_, inner, close = node.children
                while inner.data == "paren":
                    inner = inner.children[1]
                return self._wrap(walk(inner, depth), open_, close)
            if node.data == "opseq":  # each operator of the run nests once in the result
                depth += sum(type(c) is Token for c in node.children)
            if depth > MAX_NESTING:
                raise _TooDeep(_first_offset(node))
            return handlers[node.data]([walk(c, depth + 1) if type(c) is Tree else c
                                        for c in node.children])

        return walk(tree, 0)

    # helpers --------------------------------------------------------------
    def _span(self, node) -> Span:
        if isinstance(node, Token):
            return Span(self.src, node.start_pos, node.end_pos)
        if isinstance(node, (s.Expr, s.Item, s.Arg, s.Pattern)):
            return node.span
        raise TypeError(node)

    def _extent(self, node) -> tuple[int, int]:
        """Where `node` lies in the text, brackets around it included."""
        if isinstance(node, Token):
            return node.start_pos, node.end_pos
        outer = self._outer.get(id(node))
        if outer is not None:
            return outer
        return node.span.start, node.span.end

    def _cover(self, first, last) -> Span:
        """The span from the start of `first` to the end of `last` (tokens or nodes)."""
        return Span(self.src, self._extent(first)[0], self._extent(last)[1])

    def _wrap(self, inner, first, last):
        """`inner`, now known to sit inside `first ... last` (parentheses, a prefix `+`)."""
        self._outer[id(inner)] = (self._extent(first)[0], self._extent(last)[1])
        return inner

    # start: _toplevel*
    def start(self, children):
        imports = [c for c in children if isinstance(c, s.Import)]
        defs = [c for c in children if isinstance(c, s.Definition)]
        module = s.Module(self.src.path, imports, defs, Span(self.src, 0, len(self.src.text)))
        for d in defs:
            d.module = module
        return module

    # import_stmt: IMPORT STRING
    def import_stmt(self, children):
        keyword, tok = children
        return s.Import(tok.value[1:-1], self._cover(keyword, tok))

    # block_def: BLOCK NAME param_list? body
    def block_def(self, children):
        return self._definition("block", children)

    # network_def: NETWORK NAME param_list? body
    def network_def(self, children):
        return self._definition("network", children)

    def _definition(self, kind, children):
        keyword, name, *rest = children
        params = rest[0] if len(rest) == 2 else []
        body = rest[-1]
        return s.Definition(kind, name.value, self._span(name), params or [], body,
                            self._cover(keyword, body))

    # param_list: "(" [param ("," param)*] ","? ")"
    def param_list(self, children):
        return [c for c in children if c is not None]

    # param: NAME ["=" expr]
    def param(self, children):
        name, default = children
        return s.Param(name.value, default, self._cover(name, default or name))

    # body: LBRACE _stmt* RBRACE
    def body(self, children):
        return s.Group(self._cover(children[0], children[-1]),
                       [c for c in children[1:-1] if c is not None])

    # input_stmt: INPUT (DIMS | INT | "(" args RPAR)
    def input_stmt(self, children):
        keyword, arg, *_ = children
        span = self._cover(keyword, children[-1])
        if isinstance(arg, Token):
            return s.InputStmt(span, self._dims(arg), [])
        return s.InputStmt(span, None, arg)

    # init_stmt: INIT dotted "=" NAME ["(" args RPAR]
    def init_stmt(self, children):
        keyword, (target, target_span), func, args, close = children
        return s.InitStmt(self._cover(keyword, close or func), target, target_span, func.value,
                          self._span(func), args or [])

    # dotted: NAME ("." NAME)*
    def dotted(self, children):
        return [t.value for t in children], self._span(children[0]).to(self._span(children[-1]))

    # item_stmt: NAME ":" item_stmt -> labeled
    def labeled(self, children):
        label, item = children
        return s.Labeled(self._cover(label, item), label.value, self._span(label), item)

    # item_stmt: label_template ":" item_stmt -> labeled_template
    def labeled_template(self, children):
        (parts, span), item = children
        # `label` is the template without its expressions (`denselayer{}`), which formatting
        # does not change; messages quote the text as written (`label_span`)
        shape = "".join(p if isinstance(p, str) else "{}" for p in parts)
        return s.Labeled(Span(self.src, span.start, self._extent(item)[1]), shape, span,
                         item, parts)

    # label_template: LABEL_OPEN expr RBRACE _template_more*
    # _template_more: LABEL_OPEN expr RBRACE | NAME | INT
    def label_template(self, children):
        parts: list = []
        for c in children:
            if isinstance(c, Token):
                if c.type == "RBRACE":
                    continue
                text = c.value[:-1] if c.type == "LABEL_OPEN" else c.value
                if parts and isinstance(parts[-1], str):
                    parts[-1] += text
                elif text:
                    parts.append(text)
            else:
                parts.append(c)
        return parts, self._cover(children[0], children[-1])

    # let_stmt: LET patterns "=" expr
    def let_stmt(self, children):
        keyword, targets, value = children
        return s.LetStmt(self._cover(keyword, value), targets, value)

    # patterns: pattern ("," pattern)*
    def patterns(self, children):
        return list(children)

    # pattern: NAME -> pat_name
    def pat_name(self, children):
        (tok,) = children
        return s.PatName(self._span(tok), tok.value)

    # pattern: LPAR pattern ("," pattern)+ ","? RPAR -> pat_tuple
    def pat_tuple(self, children):
        return s.PatTuple(self._cover(children[0], children[-1]), list(children[1:-1]))

    # item_stmt: NAME "=" item_stmt -> bind
    def bind(self, children):
        name, item = children
        return s.Bind(self._cover(name, item), name.value, self._span(name), item)

    # return_stmt: RETURN NAME ("," NAME)* ","?
    def return_stmt(self, children):
        keyword, *names = children
        return s.ReturnStmt(self._cover(keyword, names[-1]), [n.value for n in names],
                            [self._span(n) for n in names])

    # item_stmt: LSQB [item_stmt ("," item_stmt)*] ","? RSQB "=" item_stmt -> unpack
    # (The names are read as items, like a list's, so that `[a, b]` stays one LALR state
    # until `=` decides; a name is an item that is a plain reference.)
    def unpack(self, children):
        lsqb, *targets, rsqb, item = children
        targets = [t for t in targets if t is not None]
        for t in targets:
            if not isinstance(t, s.Ref):
                raise _SyntaxProblem("E0101", "only names can take the values of `[...] =`",
                                     t.span, help="write `[a, b] = chunk(2)`")
        if not targets:
            raise _SyntaxProblem("E0101", "`[] =` names no value", self._cover(lsqb, rsqb),
                                 help="write `[a, b] = chunk(2)`")
        return s.Unpack(self._cover(lsqb, item), [t.ident for t in targets],
                        [t.span for t in targets], item)

    # item: primary MUL_OP postfix -> repeat
    def repeat(self, children):
        item, op, count = children
        if op.value != "*":
            raise _SyntaxProblem(
                "E0101", f"unexpected `{op.value}` after a layer", self._span(op),
                help="repeat an item with `*`, as in `bottleneck(64) * 3`")
        return s.Repeat(self._cover(item, count), item, count)

    # primary: NAME -> ref
    def ref(self, children):
        (tok,) = children
        return s.Ref(self._span(tok), tok.value)

    # primary: NAME "(" args RPAR -> call
    def call(self, children):
        name, args, close = children
        return s.Call(self._cover(name, close), name.value, self._span(name), args)

    # primary: INLINE NAME -> inline_ref
    def inline_ref(self, children):
        keyword, name = children
        return s.Inline(self._cover(keyword, name), self._span(keyword),
                        s.Ref(self._span(name), name.value))

    # primary: INLINE NAME "(" args RPAR -> inline_call
    def inline_call(self, children):
        keyword, name, args, close = children
        return s.Inline(self._cover(keyword, close), self._span(keyword),
                        s.Call(self._cover(name, close), name.value, self._span(name), args))

    # primary: body -> group
    def group(self, children):
        return children[0]

    # primary: LSQB [item_stmt ("," item_stmt)*] ","? RSQB -> item_list
    def item_list(self, children):
        return s.ItemList(self._cover(children[0], children[-1]),
                          [c for c in children[1:-1] if c is not None])

    # primary: _merge body -> merge
    def merge(self, children):
        kind, body = children
        return s.Merge(self._cover(kind, body), kind.value, self._span(kind), body.items)

    # primary: _merge "(" args RPAR -> merge_call
    def merge_call(self, children):
        kind, args, close = children
        return s.MergeCall(self._cover(kind, close), kind.value, self._span(kind), args)

    # primary: IF expr body ["else" item] -> if_item
    def if_item(self, children):
        keyword, cond, then, other = children
        return s.If(self._cover(keyword, other or then), cond, then, other)

    # primary: FOR patterns IN expr body -> for_item
    def for_item(self, children):
        keyword, targets, _in, iterable, body = children
        return s.For(self._cover(keyword, body), targets, iterable, body)

    # args: [arg ("," arg)*] ","?
    def args(self, children):
        out = []
        for c in children:
            if c is None:
                continue
            out.append(c if isinstance(c, s.Arg) else s.Arg(None, c, c.span))
        return out

    # arg: NAME "=" expr -> kwarg
    def kwarg(self, children):
        name, value = children
        return s.Arg(name.value, value, self._span(name).to(value.span), self._span(name))

    # ---------------------------------------------------------------- expressions
    # expr: IF expr "then" expr "else" expr -> cond_expr
    def cond_expr(self, children):
        keyword, cond, then, other = children
        return s.CondExpr(self._cover(keyword, other), cond, then, other)

    # opseq: _prefix* postfix (_binop _prefix* postfix)*
    def opseq(self, children):
        return _Precedence(self, children).parse()

    # postfix: postfix "." NAME -> attr
    def attr(self, children):
        obj, name = children
        return s.Attr(self._cover(obj, name), obj, name.value, self._span(name))

    # postfix: postfix INDEX expr RSQB -> index
    def index(self, children):
        obj, _open, index, close = children
        return s.Index(self._cover(obj, close), obj, index)

    # postfix: postfix INDEX [expr] COLON [expr] RSQB -> slice
    def slice(self, children):
        obj, _open, start, _colon, stop, close = children
        return s.Slice(self._cover(obj, close), obj, start, stop)

    def int_lit(self, children):
        (tok,) = children
        return s.Literal(self._span(tok), self._int(tok.value, self._span(tok)))

    def float_lit(self, children):
        (tok,) = children
        return s.Literal(self._span(tok), float(tok.value))

    def string_lit(self, children):
        (tok,) = children
        return s.Literal(self._span(tok), tok.value[1:-1])

    def dims_lit(self, children):
        (tok,) = children
        return self._dims(tok)

    def _dims(self, tok):
        span = self._span(tok)
        return s.DimsLit(span, tuple(self._int(p, span) for p in tok.value.split("x")))

    def _int(self, digits: str, span: Span) -> int:
        # Python refuses to convert very long digit strings (and would be slow to); any
        # value this long is far over every limit anyway.
        # Leading zeros count towards Python's limit too, so they go before converting.
        significant = digits.lstrip("0") or "0"
        if len(significant) > MAX_DIGITS:
            raise _SyntaxProblem("E0507", f"integer literal of {len(digits):,} digits is too "
                                 "large", span, help="sizes this large cannot be allocated")
        return int(significant)

    def true_lit(self, children):
        return s.Literal(self._span(children[0]), True)

    def false_lit(self, children):
        return s.Literal(self._span(children[0]), False)

    def name(self, children):
        (tok,) = children
        return s.Name(self._span(tok), tok.value)

    # atom: NAME "(" args RPAR -> func
    def func(self, children):
        name, args, close = children
        return s.FuncCall(self._cover(name, close), name.value, self._span(name), args)

    # atom: LPAR expr "," [expr ("," expr)*] ","? RPAR -> tuple_lit
    def tuple_lit(self, children):
        return s.TupleLit(self._cover(children[0], children[-1]),
                          [c for c in children[1:-1] if c is not None])

    # atom: LSQB expr FOR patterns IN expr [IF expr] RSQB -> list_comp
    def list_comp(self, children):
        open_, element, _for, targets, _in, iterable, _if, cond, close = children
        return s.ListComp(self._cover(open_, close), element, targets, iterable, cond)

    # atom: LSQB [expr ("," expr)*] ","? RSQB -> list_lit
    def list_lit(self, children):
        return s.ListLit(self._cover(children[0], children[-1]),
                         [c for c in children[1:-1] if c is not None])


class _Precedence:
    """Builds the tree of one operator run (`opseq`) by recursive descent over its flat list
    of operands and operator tokens, one method per precedence level, lowest first:

        or_expr    := and_expr (`or` and_expr)*
        and_expr   := not_expr (`and` not_expr)*
        not_expr   := `not` not_expr | comparison
        comparison := sum [COMP_OP sum]
        sum        := term (ADD_OP term)*
        term       := factor (MUL_OP factor)*
        factor     := (`-` | `+`) factor | power
        power      := operand [`**` factor]

    The recursion is bounded: `_Builder.build` counts each operator of a run as a level first."""

    def __init__(self, builder: _Builder, items: list):
        self.b = builder
        self.items = items
        self.i = 0

    def parse(self):
        node = self.or_expr()
        if self.i < len(self.items):
            tok = self.items[self.i]
            if tok.type == "COMP_OP":
                raise self._chained(node, tok)
            raise self._unexpected(tok)
        return node

    def _chained(self, node, tok) -> _SyntaxProblem:
        """`a < b < c`: Python would chain it; say how to write what was probably meant."""
        while not isinstance(node, s.Compare):  # the comparison just left of `tok`
            node = node.right if isinstance(node, (s.BoolOp, s.BinOp)) else node.operand
        self.i += 1
        third = self.sum()
        text = self.b.src.text

        def show(n):
            start, end = self.b._extent(n)
            return text[start:end]

        middle = show(node.right)
        return _SyntaxProblem(
            "E0101", f"comparisons cannot be chained, found `{tok.value}`", self.b._span(tok),
            label="unexpected here", help=f"compare twice and join with `and`: `{show(node.left)} "
            f"{node.op} {middle} and {middle} {tok.value} {show(third)}`")

    def _peek(self, *types):
        if self.i < len(self.items):
            tok = self.items[self.i]
            if isinstance(tok, Token) and tok.type in types:
                return tok
        return None

    def _take(self):
        self.i += 1
        return self.items[self.i - 1]

    def _unexpected(self, tok) -> _SyntaxProblem:
        return _SyntaxProblem("E0101", f"expected a value, found `{tok.value}`",
                              self.b._span(tok), label="unexpected here",
                              help=f"`{tok.value}` applies to a whole comparison; put it and its "
                                   "operand in parentheses if that is what you mean")

    def _left(self, operand, types, make):
        node = operand()
        while (tok := self._peek(*types)) is not None:
            self.i += 1
            right = operand()
            node = make(self.b._cover(node, right), tok, node, right)
        return node

    def or_expr(self):
        return self._left(self.and_expr, ("OR",),
                          lambda span, tok, a, b: s.BoolOp(span, "or", a, b))

    def and_expr(self):
        return self._left(self.not_expr, ("AND",),
                          lambda span, tok, a, b: s.BoolOp(span, "and", a, b))

    def not_expr(self):
        tok = self._peek("NOT")
        if tok is None:
            return self.comparison()
        self.i += 1
        operand = self.not_expr()
        return s.UnaryOp(self.b._cover(tok, operand), "not", operand)

    def comparison(self):
        left = self.sum()
        tok = self._peek("COMP_OP")
        if tok is None:
            return left
        self.i += 1
        right = self.sum()
        return s.Compare(self.b._cover(left, right), tok.value, left, right)

    def sum(self):
        return self._left(self.term, ("ADD_OP",),
                          lambda span, tok, a, b: s.BinOp(span, tok.value, a, b))

    def term(self):
        return self._left(self.factor, ("MUL_OP",),
                          lambda span, tok, a, b: s.BinOp(span, tok.value, a, b))

    def factor(self):
        tok = self._peek("MINUS", "PLUS")
        if tok is None:
            return self.power()
        self.i += 1
        operand = self.factor()
        if tok.type == "PLUS":  # `+x` is x itself
            return self.b._wrap(operand, tok, operand)
        return s.UnaryOp(self.b._cover(tok, operand), "-", operand)

    def power(self):
        base = self._operand()
        if self._peek("POW_OP") is None:
            return base
        self.i += 1
        exponent = self.factor()
        return s.BinOp(self.b._cover(base, exponent), "**", base, exponent)

    def _operand(self):
        item = self._take()
        if isinstance(item, Token):  # a `not` where only a tighter operand may stand
            raise self._unexpected(item)
        return item


_HANDLERS = tuple(name for name in vars(_Builder) if not name.startswith("_") and name != "build")


class _TooDeep(Exception):
    def __init__(self, offset: int):
        super().__init__(offset)
        self.offset = offset


class _SyntaxProblem(Exception):
    def __init__(self, code, message, span, help=None, label=""):
        super().__init__(message)
        self.diag = Diagnostic(code, message, span, label=label, help=help)


def parse_module(source: SourceFile, diags: Diagnostics,
                 budget: Budget | None = None) -> s.Module | None:
    """Parse one file. On failure, records diagnostics and returns None. With a `budget`,
    each token is charged to it (by the lexer) and running out is E0511 at that token."""
    try:
        with spending(budget):
            if budget is not None and not counts_tokens():  # another lark: estimate first
                n = count_tokens(source.text)
                if not budget.affords("token", n):
                    fit = budget.left // COSTS["token"]
                    raise budget.out("token", token_offset(source.text, fit + 1))
                budget.charge("token", n)
            tree = _parse_or_report(source, diags)
    except OutOfWork as exc:
        at = exc.offset or 0
        diags.add(out_of_work(budget, Span(source, at, min(at + 1, len(source.text))),
                              "parsing the file", [f"parsing costs {COSTS['token']} units a "
                              f"token: about {budget.limit // COSTS['token']:,} tokens fit"]),
                  force=True)
        return None
    if tree is None:
        return None
    try:
        return _Builder(source).build(tree)
    except _TooDeep as exc:
        diags.error("E0509", f"the file nests deeper than {MAX_NESTING} levels",
                    Span(source, exc.offset, min(exc.offset + 1, len(source.text))),
                    label="too deep here",
                    help="split long expressions and deep nesting into named values or blocks")
    except _SyntaxProblem as exc:
        diags.add(exc.diag)
    return None


def _first_offset(tree: Tree) -> int:
    """Where the first token under `tree` starts (0 if it has none)."""
    while True:
        for c in tree.children:
            if isinstance(c, Token):
                return c.start_pos
            if isinstance(c, Tree):
                tree = c
                break
        else:
            return 0


def _check_delimiters(source: SourceFile, diags: Diagnostics, start: int = 0,
                      end: int | None = None, chars: list[Diagnostic] | None = None) -> bool:
    """Reports unclosed and unmatched brackets with both ends; True if any. Characters a
    string or comment may not hold go to `chars` (E0107, each string and comment at most
    once, MAX_SYNTAX_ERRORS in all): they do not stop the parse."""
    stack: list[tuple[int, str]] = []
    braces: list[tuple[int, int]] = []  # `{` and the `}` that closed it, in closing order
    found = False
    text = source.text
    for ch, pos, stop in textscan.lexemes(text, start, end):
        if ch == "unterminated":
            diags.add(_unterminated_string(source, pos))
            return True
        if ch == "string" or ch == "comment":
            check = textscan.bad_in_string if ch == "string" else textscan.bad_in_comment
            if chars is not None and len(chars) < MAX_SYNTAX_ERRORS:
                bad = check(text, pos + 1, stop - (ch == "string"))
                if bad is not None:
                    chars.append(_bad_character(source, bad, ch))
            continue
        if ch in _CLOSERS:
            stack.append((pos, ch))
            continue
        if stack and stack[-1][1] == _OPENERS[ch]:
            opened = stack.pop()[0]
            if ch == "}":
                braces.append((opened, pos))
            continue
        found = True
        span = Span(source, pos, pos + 1)
        # A closer that matches nothing open is the stray one (`conv(16, 3x3))`); one that
        # matches an outer opener means the inner opener was never closed (`conv(16, 3x3 }`).
        if stack and any(open_ch == _OPENERS[ch] for _, open_ch in stack):
            open_pos, open_ch = stack[-1]
            open_span = Span(source, open_pos, open_pos + 1)
            diags.error("E0102", f"unclosed `{open_ch}` opened at line {open_span.line}",
                        open_span, label=f"this `{open_ch}` is never closed",
                        labels=[Label(span, f"`{ch}` found before `{_CLOSERS[open_ch]}`")],
                        help=f"add `{_CLOSERS[open_ch]}` before this `{ch}`")
        else:
            stray = _misindented(text, braces, -1) if ch == "}" else None
            if stray is not None:  # an earlier `}` closed what this one should have
                opened, closed = stray
                diags.error("E0104", "unmatched `}`", Span(source, closed, closed + 1),
                            label="this `}` is probably one too many",
                            labels=[Label(Span(source, opened, opened + 1),
                                          f"it closes this `{{` (line "
                                          f"{Span(source, opened, opened).line}), but is "
                                          "indented differently"),
                                    Label(span, "so this `}` has nothing left to close")],
                            help="remove the extra `}`, or add the `{` it should close")
            else:
                diags.error("E0104", f"unmatched `{ch}`", span, label="nothing to close here",
                            help=f"remove it, or add the `{_OPENERS[ch]}` it should close")
        return True
    if stack:
        pos, ch = stack[-1]
        span = Span(source, pos, pos + 1)
        inner = _misindented(text, [b for b in braces if b[0] > pos], 0) if ch == "{" else None
        if inner is not None:  # rustc's reading: the `{` whose `}` is not where it should be
            opened, closed = inner
            line = Span(source, closed, closed).line
            diags.error("E0102", f"unclosed `{{` opened at line "
                        f"{Span(source, opened, opened).line}",
                        Span(source, opened, opened + 1),
                        label="this `{` is probably never closed",
                        labels=[Label(Span(source, closed, closed + 1),
                                      "this `}` is indented like an outer `{`, and closes "
                                      "this one instead"),
                                Label(span, "so this `{` is left open at the end")],
                        help=f"add its `}}` where its body ends, before line {line}")
            return True
        diags.error("E0102", f"unclosed `{ch}` opened at line {span.line}", span,
                    label=f"this `{ch}` is never closed",
                    help=f"add `{_CLOSERS[ch]}` at the end of the {_what_opens(source, pos, ch)}")
        found = True
    return found


def _misindented(text: str, braces: list[tuple[int, int]], which: int
                 ) -> tuple[int, int] | None:
    """The first (`which` 0) or last (-1) pair `{`..`}` whose `}` begins a later line indented
    otherwise than the line of its `{`: where a brace is missing or one too many, the
    pairing shifts and the indentation shows it (as rustc reads it)."""
    found = [(o, c) for o, c in braces if _closer_misindented(text, o, c)]
    return found[which] if found else None


def _closer_misindented(text: str, opened: int, closed: int) -> bool:
    o_line = text.rfind("\n", 0, opened) + 1
    c_line = text.rfind("\n", 0, closed) + 1
    if o_line == c_line or text[c_line:closed].strip(" \t"):
        return False  # on one line, or the `}` follows something on its line

    def indent(start: int) -> int:
        end = start
        while end < len(text) and text[end] in " \t":
            end += 1
        return end - start

    return indent(o_line) != indent(c_line)


# Syntax error recovery. A definition starts at the beginning of a line with `block`,
# `network` or `import`; a mistake inside one definition cannot change how the next one
# parses, so when the file does not parse, each definition is checked on its own and the first
# error of each is reported. Only on the error path, and linear: each piece is read once.
_TOPLEVEL = re.compile(r"^(?:block|network|import)\b", re.M)
MAX_SYNTAX_ERRORS = 20


def _parse_or_report(source: SourceFile, diags: Diagnostics) -> Tree | None:
    """The Lark tree, or None after reporting each string or comment holding a character it
    may not (E0107) and every definition's first syntax error."""
    whole = Diagnostics()
    chars: list[Diagnostic] = []
    if not _check_delimiters(source, whole, chars=chars):
        try:
            tree = lark_parser().parse(source.text)
        except UnexpectedInput as exc:
            whole.add(_describe_parse_error(source, exc))
        else:
            if not chars:
                return tree
    for diag in chars:
        diags.add(diag)
    if whole.items:
        for diag in _piecewise_errors(source) or whole.items:
            diags.add(diag)
    return None


def _piecewise_errors(source: SourceFile) -> list[Diagnostic]:
    """First syntax error of each definition, in file order ([] if there is one piece, or
    if no piece fails alone: then the whole file's first error is the one to show)."""
    text = source.text
    starts = [*sorted({0, *(m.start() for m in _TOPLEVEL.finditer(text))}), len(text)]
    if len(starts) <= 2:
        return []
    found: list[Diagnostic] = []
    for a, b in itertools.pairwise(starts):
        if len(found) >= MAX_SYNTAX_ERRORS:
            break
        local = Diagnostics()
        if not _check_delimiters(source, local, a, b):
            try:
                lark_parser().parse(text[a:b])
            except UnexpectedInput as exc:
                diag = _shifted_error(source, exc, a, b)
                if diag is not None:
                    local.add(diag)
        found += local.items[:1]
    return found


def _shifted_error(source: SourceFile, exc: UnexpectedInput, a: int, b: int):
    """The diagnostic for an error found parsing text[a:b] alone, placed in the whole file.
    An early end of a piece that is not the file's end is left out: there, the next
    definition follows, and the piece's own brackets balance, so the first error says it."""
    if isinstance(exc, UnexpectedCharacters):
        exc.pos_in_stream += a
        return _describe_parse_error(source, exc)
    if isinstance(exc, UnexpectedEOF) or exc.token.type == "$END":
        return _describe_parse_error(source, exc) if b == len(source.text) else None
    tok = exc.token
    exc.token = Token(tok.type, tok.value, start_pos=tok.start_pos + a,
                      end_pos=tok.end_pos + a)
    return _describe_parse_error(source, exc)


def _unterminated_string(source: SourceFile, pos: int) -> Diagnostic:
    return Diagnostic("E0105", "unterminated string", Span(source, pos, pos + 1),
                      label="this string is not closed on its line",
                      help='close it with `"` on the same line; strings cannot span lines')


def _bad_character(source: SourceFile, pos: int, where: str) -> Diagnostic:
    what, effect = textscan.describe(source.text[pos])
    help_ = ("strings hold visible characters only, and have no escapes: remove it"
             if where == "string" else
             "remove it: archdsl and an editor would disagree about where this comment ends "
             "or what it says")
    return Diagnostic("E0107", f"{what} inside a {where}", Span(source, pos, pos + 1),
                      label=effect, help=help_)


def _what_opens(source: SourceFile, pos: int, ch: str) -> str:
    if ch == "(":
        return "argument list"
    if ch == "[":
        return "list"
    before = source.text[:pos].rstrip().split()
    if len(before) >= 1 and any(w in ("block", "network") for w in before[-3:]):
        return "definition"
    return "body"


# Human names for the terminals Lark reports as expected.
_TERMINAL_NAMES = {
    "NAME": "a name", "INT": "a number", "FLOAT": "a number", "DIMS": "a size like `3x3`",
    "STRING": "a string", "LBRACE": "`{`", "RBRACE": "`}`", "LPAR": "`(`", "RPAR": "`)`",
    "LSQB": "`[`", "RSQB": "`]`", "COMMA": "`,`", "COLON": "`:`", "EQUAL": "`=`",
    "SEMICOLON": "`;`", "MUL_OP": "an operator", "ADD_OP": "an operator",
    "COMP_OP": "a comparison", "DOT": "`.`", "$END": "the end of the file",
}
_ITEM_STARTS = {"NAME", "LBRACE", "LSQB", "CONCAT", "ADD", "IF"}
_EXPR_STARTS = {"INT", "FLOAT", "STRING", "DIMS", "TRUE", "FALSE", "LPAR", "MINUS", "PLUS", "NOT"}


def _expected_phrase(expected: set[str]) -> str:
    exp = set(expected)
    items = exp & _ITEM_STARTS
    if "RBRACE" in exp and items:
        return "expected a layer or `}`"
    if {"BLOCK", "NETWORK"} <= exp:
        return "expected `block`, `network` or `import`"
    if items == _ITEM_STARTS:
        return "expected a layer"
    if exp & _EXPR_STARTS and "NAME" in exp:
        return "expected a value"
    if exp == {"NAME"}:
        return "expected a name"
    if "RPAR" in exp and "COMMA" in exp:
        return "expected `,` or `)`"
    if "RSQB" in exp and "COMMA" in exp:
        return "expected `,` or `]`"
    if "RPAR" in exp:
        return "expected `)`"
    names = sorted({_TERMINAL_NAMES.get(t, f"`{t.lower()}`") for t in exp if t in _TERMINAL_NAMES})
    if not names or len(names) > 4:
        return "unexpected input here"
    return "expected " + " or ".join(names)


def _end_of_file(source: SourceFile, expected: set[str]) -> Diagnostic:
    """Points just after the last thing written, not at an empty last line."""
    end = len(source.text.rstrip())
    phrase = _expected_phrase(expected - {"$END"})
    return Diagnostic("E0103", f"unexpected end of file: {phrase}", Span(source, end, end),
                      label="the file ends here",
                      help="finish what this line starts, or remove it")


def _token_text(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    return f"`{tok.value}`"


def _describe_parse_error(source: SourceFile, exc: UnexpectedInput) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        ch = source.text[pos] if pos < len(source.text) else ""
        span = Span(source, pos, pos + 1)
        if ch == '"':
            return _unterminated_string(source, pos)
        shown = ch if ch.isprintable() else repr(ch)
        alike = LOOKALIKES.get(ch)
        return Diagnostic("E0101", f"unexpected character `{shown}`", span,
                          label="not part of the language" if alike is None
                          else f"{alike[1]}, not `{alike[0]}`",
                          help="layer lines look like `conv1: conv(64, 3x3, stride=1, pad=1)`"
                          if alike is None else f"write `{alike[0]}`: {alike[2]}")
    if isinstance(exc, UnexpectedEOF):
        return _end_of_file(source, set(exc.expected))
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    if tok.type == "COLON":
        keyword = _keyword_label(source, tok.start_pos)
        if keyword is not None:
            return keyword
    if tok.type == "$END":
        expected = set(exc.expected)
        if exc.interactive_parser is not None:
            expected = set(exc.interactive_parser.accepts())
        return _end_of_file(source, expected)
    span = Span(source, tok.start_pos, tok.end_pos)
    expected = set(exc.expected)
    if exc.interactive_parser is not None:
        expected = set(exc.interactive_parser.accepts())
    phrase = _expected_phrase(expected)
    help_text = _parse_help(tok, expected)
    if tok.value == ".":
        help_text = _dotted_help(source, tok.start_pos) or help_text
    bound = _BOUND_BEFORE.search(source.text[max(0, tok.start_pos - 64):tok.start_pos])
    if bound is not None and tok.type in _EXPR_STARTS | {"INT"}:  # `w = 4 * width`
        help_text = (f"`{bound.group(1)} = ...` names the tensor an item makes; a number is a "
                     f"constant: `let {bound.group(1)} = ...`")
    return Diagnostic("E0101", f"{phrase}, found {_token_text(tok)}", span,
                      label="unexpected here", help=help_text)


_BOUND_BEFORE = re.compile(r"(?:^|[\n;{])[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*\Z")
_WORD_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[ \t]*\Z")


def _keyword_label(source: SourceFile, colon: int) -> Diagnostic | None:
    """E0223 for a keyword written as a label at the start of an item (`add: relu`): the
    parser read the keyword as the start of its construct and stumbled on the `:`."""
    head = source.text[max(0, colon - 64):colon]
    m = _WORD_BEFORE.search(head)
    if m is None or m.group(1) not in s.KEYWORDS:
        return None
    start = colon - len(head) + m.start(1)
    before = source.text[:start].rstrip(" \t")
    if before and before[-1] not in "\n;{":
        return None
    word = m.group(1)
    return Diagnostic("E0223", f"`{word}` cannot be a label: it is an archdsl keyword",
                      Span(source, start, start + len(word)), label="a reserved name",
                      help=f"rename it, e.g. `{word}_`")


# Characters that look like one of the language's own, from word processors and papers:
# character -> (what to write, what it is, where it goes)
LOOKALIKES = {
    "\u00d7": ("x", "the multiplication sign U+00D7", "sizes use the letter x: `3x3`, `3x224x224`"),
    "\u2013": ("-", "an en dash", "the minus sign is the ASCII hyphen"),
    "\u2212": ("-", "the minus sign U+2212", "the minus sign is the ASCII hyphen"),
    "\u201c": ('"', "a curly quote", 'strings use straight quotes: `pad="same"`'),
    "\u201d": ('"', "a curly quote", 'strings use straight quotes: `pad="same"`'),
    "\uff0c": (",", "a full-width comma", "arguments are separated by the ASCII comma"),
}
_DOTTED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\Z")
_AFTER_DOT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)")


def _dotted_help(source: SourceFile, dot: int) -> str | None:
    """The help for a dotted name where a layer goes (`nn.Conv2d(3, 8, 3)`): archdsl's kinds
    have no module prefix, and the name after the dot is another tool's (dsl/foreign.py)."""
    before = _DOTTED.search(source.text[max(0, dot - 64):dot])
    after = _AFTER_DOT.match(source.text, dot + 1)
    if before is None or after is None:
        return None
    prefix, name = before.group(1), after.group(1)
    from . import ops  # the registry, for the names archdsl has now
    from .foreign import foreign_layer

    known = frozenset(ops.names())
    if name in known:
        return f"layer kinds have no module prefix: write `{name}(...)`, not `{prefix}.{name}`"
    other = foreign_layer(name, known)
    if other is None:
        return f"layer kinds have no module prefix (`{prefix}.`); `{name}` is not one of them"
    if not other.exists:
        return (f"`{prefix}.{name}` is {other.what}; archdsl has no `{other.kind}` layer kind "
                "(write it as a block, or register a kind from Python)")
    return (f"`{prefix}.{name}` is {other.what}; archdsl calls it `{other.kind}`: write "
            f"`{other.kind}(...)` with archdsl's arguments (docs/language.md)")


def _parse_help(tok: Token, expected: set[str]) -> str | None:
    if tok.type == "COLON" and expected == {"COMMA", "EQUAL", "RPAR"}:
        # a definition's parameter list: `block unit(width: int)` from Python's annotations
        return "parameters have no types: write `width` or `width = 64` (a default)"
    if tok.type == "COLON" and "RPAR" in expected:
        return "keyword arguments use `=`, as in `stride=2`"
    if tok.type == "EQUAL" and "RPAR" not in expected:
        return "name a layer with `name: layer`; bind a value with `name = layer`"
    if tok.type in ("INT", "DIMS", "FLOAT") and ("RBRACE" in expected):
        return "a layer starts with its kind, as in `conv(64, 3x3)`"
    if tok.type in ("INT", "DIMS", "FLOAT", "NAME") and "COMMA" in expected:
        return "separate arguments with `,`"
    if tok.type == "ADD_OP" and "RBRACE" in expected:
        return "a repetition count with arithmetic needs parentheses: `block(64) * (n - 1)`"
    if tok.type == "NAME" and expected & {"COMMA", "RPAR"}:
        return "separate arguments with `,`"
    return None


def parse_tree_for_tests(text: str) -> Tree:
    """The raw Lark tree (used by the formatter and tests)."""
    return lark_parser().parse(text)
