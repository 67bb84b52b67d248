"""Expressions: integer arithmetic, comparisons, conditionals, shape attributes (`in.channels`),
indexing and slicing, and calls of the functions of dsl/builtins.py.

Evaluation never raises on a user's mistake: it records a diagnostic and yields POISON, which
every later operation passes along without a second message.
"""

from __future__ import annotations

import math
import operator

from . import builtins
from . import syntax as s
from .argspec import suggest
from .budget import Budget
from .diagnostics import Diagnostics
from .foreign import foreign_function
from .values import POISON, Dims, Tensor, describe_value, fmt_shape, type_name

_ARITH = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv,
    "%": operator.mod, "**": operator.pow,
}
_COMPARE = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}

# `in.channels` and friends: how each attribute reads a shape (C, [D,] [H,] W).
SHAPE_ATTRS = {
    "channels": lambda sh: sh[0],
    "features": lambda sh: sh[0] if len(sh) == 1 else None,
    "height": lambda sh: sh[-2] if len(sh) >= 3 else None,
    "width": lambda sh: sh[-1] if len(sh) >= 3 else None,
    "depth": lambda sh: sh[1] if len(sh) == 4 else None,
    "length": lambda sh: sh[1] if len(sh) == 2 else None,
    "rank": lambda sh: len(sh),
    "size": lambda sh: _prod(sh),
    "shape": lambda sh: Dims(sh),
}

MAX_INT = 2**62  # integers beyond this are almost certainly a mistake (and slow to work with)
LARGEST = "about 1.8e308"  # the largest float, as the messages about overflow name it


def _prod(xs):
    out = 1
    for x in xs:
        out *= x
    return out


class EvalError(Exception):
    def __init__(self, code, message, span, help=None, label=""):
        super().__init__(message)
        self.code, self.message, self.span, self.help, self.label = code, message, span, help, label


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Evaluator:
    """Evaluates expressions in an environment (a dict chain of names to values)."""

    def __init__(self, diags: Diagnostics, max_int: int = MAX_INT, budget: Budget | None = None,
                 max_list: int = 100_000):
        self.diags = diags
        self.max_int = max_int
        # what the functions of dsl/builtins.py may use: the limits, and the budget they charge
        # for each element of a list they make
        self.context = builtins.Context(max_int, max_list,
                                        budget.charge if budget is not None else _free)
        self._methods: dict[type, object] = {}  # expression class -> method (see `_eval`)
        # The work budget (dsl/budget.py): `_eval` counts the nodes it evaluates, and each
        # entry point charges them when it is done (one expression is bounded by its text).
        self.budget = budget
        self.nodes = 0

    def eval(self, expr: s.Expr, env) -> object:
        try:
            return self._eval(expr, env)
        except EvalError as exc:
            self.diags.error(exc.code, exc.message, exc.span, help=exc.help, label=exc.label)
            return POISON
        finally:
            self._charge()

    def _charge(self) -> None:
        if self.budget is not None and self.nodes:
            n, self.nodes = self.nodes, 0
            self.budget.charge("expression", n)

    # ------------------------------------------------------------------------------------
    def _eval(self, e: s.Expr, env):
        # The method named after the node's class (`_Literal`), found once per class: every
        # argument of every layer comes through here.
        self.nodes += 1
        method = self._methods.get(type(e))
        if method is None:
            method = self._methods[type(e)] = getattr(type(self), "_" + type(e).__name__)
        return method(self, e, env)

    def _Literal(self, e: s.Literal, env):
        v = e.value
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) > self.max_int:
            raise EvalError("E0507", f"integer {e.value} is too large (limit {self.max_int})",
                            e.span, help="sizes this large cannot be allocated")
        if isinstance(v, float) and not math.isfinite(v):
            # `1e999` reads as infinity: no layer argument means that, and torch would take it
            raise EvalError("E0507", f"number `{e.span.text()}` is too large", e.span,
                            label=f"beyond the largest number, {LARGEST}",
                            help="write a finite number")
        return e.value

    def _DimsLit(self, e: s.DimsLit, env):
        for d in e.dims:
            if d > self.max_int:
                raise EvalError("E0507", f"size {d} is too large", e.span)
        return Dims(e.dims)

    def _Name(self, e: s.Name, env):
        found, value = env.lookup(e.ident)
        if not found:
            labelled = env.label(e.ident) if hasattr(env, "label") else None
            if labelled is not None:
                raise EvalError("E0207", f"unknown name `{e.ident}`", e.span,
                                help=f"`{e.ident}` is a layer label; bind a value with "
                                     f"`{e.ident} = {labelled}` to use it later")
            if e.ident in ("x", "in"):  # a network's parameters and `input` line: no tensor yet
                raise EvalError("E0207", f"`{e.ident}` has no value here", e.span,
                                label="no tensor flows here yet",
                                help="`x` (the current tensor) and `in` (the input) are "
                                     "read inside a body; a network's parameters and its "
                                     "`input` line come before any tensor")
            hint = suggest(e.ident, env.names())
            raise EvalError("E0207", f"unknown name `{e.ident}`" +
                            (f" (did you mean `{hint}`?)" if hint else ""), e.span,
                            help=None if hint else "names come from the block's parameters, "
                            "values bound with `y = ...`, `in` (the block's input) and `x` "
                            "(the current tensor)")
        return value

    def _Attr(self, e: s.Attr, env):
        obj = self._eval(e.obj, env)
        if obj is POISON:
            return POISON
        if not isinstance(obj, Tensor):
            raise EvalError("E0215", f"{type_name(obj)} has no attribute `{e.attr}`", e.attr_span,
                            help="attributes such as `.channels` belong to tensors like `in` "
                                 "and `x`")
        if e.attr not in SHAPE_ATTRS:
            hint = suggest(e.attr, SHAPE_ATTRS)
            raise EvalError("E0215", f"a tensor has no attribute `{e.attr}`" +
                            (f" (did you mean `{hint}`?)" if hint else ""), e.attr_span,
                            help="tensor attributes: " + ", ".join(SHAPE_ATTRS))
        if obj.shape is None:
            return POISON
        value = SHAPE_ATTRS[e.attr](obj.shape)
        if value is None:
            raise EvalError("E0215", f"a {fmt_shape(obj.shape)} tensor has no `{e.attr}`",
                            e.attr_span, help="height/width need CxHxW, length CxL, depth "
                            "CxDxHxW, features a vector")
        return value

    def _BinOp(self, e: s.BinOp, env):
        left = self._eval(e.left, env)
        right = self._eval(e.right, env)
        if left is POISON or right is POISON:
            return POISON
        op = e.op
        # scale a literal kernel: [[1,1],[1,1]] / 4. A value bound once may be scaled in every
        # copy of a repetition, so its elements are charged, each row before it is worked on.
        charge = self.budget.charge if self.budget is not None else _free
        if isinstance(left, list) and _is_num(right) and op in ("*", "/"):
            return _map_list(left, lambda x: self._arith(op, x, right, e), e.left.span, charge)
        if isinstance(right, list) and _is_num(left) and op == "*":
            return _map_list(right, lambda x: self._arith(op, left, x, e), e.right.span, charge)
        if op == "+" and _joinable(left, right):  # `setting + [(6, 320, 1, 1)]`
            return builtins.concat(left, right, self.context)
        if not (_is_num(left) and _is_num(right)):
            bad = left if not _is_num(left) else right
            raise EvalError("E0214", f"`{op}` needs numbers, found {type_name(bad)} "
                            f"`{describe_value(bad)}`", e.span)
        return self._arith(op, left, right, e)

    def _arith(self, op, a, b, e):
        """`a op b` for two numbers, or an EvalError: never a Python exception (overflow,
        zero to a negative power, a complex root), never infinity or a complex number."""
        if op in ("/", "//", "%") and b == 0:
            raise EvalError("E0214", "division by zero", e.span, label="this divides by 0")
        try:
            out = self._raw_arith(op, a, b, e)
        except OverflowError:
            out = math.inf  # reported below, with the arithmetic
        except ZeroDivisionError:
            raise EvalError("E0214", f"{_expr(a, op, b)} divides by zero", e.span,
                            label="zero to a negative power",
                            help="a negative exponent divides by the base") from None
        if isinstance(out, complex):
            raise EvalError("E0214", "the result is not a real number", e.span,
                            label=f"{_expr(a, op, b)} is complex",
                            help="a fractional power of a negative number has no real value")
        if isinstance(out, float) and not math.isfinite(out):
            raise EvalError("E0507", "the result is too large", e.span,
                            label=f"{_expr(a, op, b)} is beyond the largest number, "
                                  f"{LARGEST}")
        if isinstance(out, int) and abs(out) > self.max_int:
            raise EvalError("E0507", f"integer result {_show(out)} is too large", e.span)
        return out

    def _raw_arith(self, op, a, b, e):
        if op == "/":
            # `/` stays an integer when it divides exactly (`width / 2`), else it is a number.
            if isinstance(a, int) and isinstance(b, int) and a % b == 0:
                return a // b
            return a / b
        if op == "**" and (abs(b) > 64 or (isinstance(b, int) and b < 0 and isinstance(a, int))):
            if abs(b) > 64:
                raise EvalError("E0507", f"exponent {_show(b)} is too large", e.span)
            return float(a) ** b
        return _ARITH[op](a, b)

    def _UnaryOp(self, e: s.UnaryOp, env):
        v = self._eval(e.operand, env)
        if v is POISON:
            return POISON
        if e.op == "not":
            if not isinstance(v, bool):
                raise EvalError("E0214", f"`not` needs true or false, found {type_name(v)}",
                                e.span)
            return not v
        if not _is_num(v):
            raise EvalError("E0214", f"`-` needs a number, found {type_name(v)}", e.span)
        return -v

    def _Compare(self, e: s.Compare, env):
        left = self._eval(e.left, env)
        right = self._eval(e.right, env)
        if left is POISON or right is POISON:
            return POISON
        if e.op in ("==", "!="):
            return _COMPARE[e.op](left, right)
        if not (_is_num(left) and _is_num(right)):
            raise EvalError("E0214", f"`{e.op}` compares numbers, found {type_name(left)} and "
                            f"{type_name(right)}", e.span)
        return _COMPARE[e.op](left, right)

    def _BoolOp(self, e: s.BoolOp, env):
        left = self._cond(e.left, env)
        if left is POISON:
            return POISON
        if e.op == "and" and not left:
            return False
        if e.op == "or" and left:
            return True
        return self._cond(e.right, env)

    def _cond(self, e, env):
        v = self._eval(e, env)
        if v is POISON:
            return POISON
        if not isinstance(v, bool):
            raise EvalError("E0214", f"expected a condition (true or false), found "
                            f"{type_name(v)} `{describe_value(v)}`", e.span,
                            help="compare it, as in `stride != 1`")
        return v

    def condition(self, e, env):
        try:
            return self._cond(e, env)
        except EvalError as exc:
            self.diags.error(exc.code, exc.message, exc.span, help=exc.help, label=exc.label)
            return POISON
        finally:
            self._charge()

    def _CondExpr(self, e: s.CondExpr, env):
        c = self._cond(e.cond, env)
        if c is POISON:
            return POISON
        return self._eval(e.then if c else e.other, env)

    def _FuncCall(self, e: s.FuncCall, env):
        fn = builtins.FUNCTIONS.get(e.func)
        if fn is None:
            raise self._unknown_function(e)
        if any(a.name for a in e.args):
            named = next(a for a in e.args if a.name)
            raise EvalError("E0214", f"`{e.func}` takes its arguments by position", named.span,
                            help=f"`{e.func}` has no keyword arguments: remove `{named.name}=`")
        vals = [self._eval(a.value, env) for a in e.args]
        if any(v is POISON for v in vals):
            return POISON
        return self._apply(fn, vals, e, [a.span for a in e.args])

    def _apply(self, fn, vals, e: s.Expr, spans: list):
        """`fn(vals, context)`, its problem placed at the argument it names (or `e`)."""
        try:
            return fn(vals, self.context)
        except builtins.Problem as p:
            at = spans[p.at] if p.at is not None and p.at < len(spans) else e.span
            raise EvalError(p.code, p.message, at, help=p.help, label=p.label) from None

    def _unknown_function(self, e: s.FuncCall) -> EvalError:
        from . import ops  # the registry, to tell a layer written as a value (`let x = conv(8)`)

        names = list(builtins.FUNCTIONS)
        other = foreign_function(e.func)
        if ops.lookup(e.func) is not None:
            return EvalError("E0207", f"`{e.func}` is a layer, not a function", e.func_span,
                             help=f"a layer makes a tensor: bind its output with "
                                  f"`x = {e.func}(...)` in a body; expressions compute values")
        hint = None if other else suggest(e.func, names)
        return EvalError("E0207", f"unknown function `{e.func}`" +
                         (f" (did you mean `{hint}`?)" if hint else ""), e.func_span,
                         help=(other.what + "; " if other else "") +
                         "expressions can call " + ", ".join(names))

    def _Index(self, e: s.Index, env):
        obj = self._eval(e.obj, env)
        i = self._eval(e.index, env)
        if obj is POISON or i is POISON:
            return POISON
        return self._apply(lambda vals, ctx: builtins.index(*vals, ctx), [obj, i], e,
                           [e.obj.span, e.index.span])

    def _Slice(self, e: s.Slice, env):
        obj = self._eval(e.obj, env)
        start = None if e.start is None else self._eval(e.start, env)
        stop = None if e.stop is None else self._eval(e.stop, env)
        if any(v is POISON for v in (obj, start, stop)):
            return POISON
        spans = [e.obj.span, (e.start or e).span, (e.stop or e).span]
        return self._apply(lambda vals, ctx: builtins.slice_of(*vals, ctx), [obj, start, stop],
                           e, spans)

    def _ListComp(self, e: s.ListComp, env):
        seq = self._eval(e.iterable, env)
        if seq is POISON:
            return POISON
        if not isinstance(seq, (list, tuple)):
            raise EvalError("E0240", f"`[... for ... in xs]` goes over a list, found "
                            f"{type_name(seq)} `{describe_value(seq)}`", e.iterable.span,
                            help="loop over a list, a tuple, a size or `range(n)`")
        self.context.charge("expression", len(seq))
        out = []
        for k, element in enumerate(seq):
            local = _Scope(env)
            pattern = e.targets[0] if len(e.targets) == 1 else s.PatTuple(
                e.targets[0].span.to(e.targets[-1].span), e.targets)
            self._destructure(pattern, element, local.vars, k, e.iterable.span)
            if e.cond is not None:
                keep = self._cond(e.cond, local)
                if keep is POISON:
                    return POISON
                if not keep:
                    continue
            v = self._eval(e.element, local)
            if v is POISON:
                return POISON
            out.append(v)
        return out

    def _destructure(self, p, v, names: dict, k: int, span) -> None:
        """Binds pattern `p` to element `k`, `v`, of a comprehension (E0241 if it does not fit;
        dsl/tables.py does the same for loops and `let`)."""
        if isinstance(p, s.PatName):
            names[p.name] = v
            return
        if not isinstance(v, (list, tuple)) or len(v) != len(p.items):
            raise EvalError("E0241", f"the pattern `{p.span.text()}` names {len(p.items)} "
                            f"values, but element {k}, `{describe_value(v)}`, has {len(v)}"
                            if isinstance(v, (list, tuple)) else
                            f"the pattern `{p.span.text()}` takes a tuple apart, found "
                            f"{type_name(v)} `{describe_value(v)}` (element {k})", p.span,
                            help="write as many names as the element has values")
        for q, x in zip(p.items, v, strict=True):
            self._destructure(q, x, names, k, span)

    def _TupleLit(self, e: s.TupleLit, env):
        vals = tuple(self._eval(x, env) for x in e.items)
        return POISON if any(v is POISON for v in vals) else vals

    def _ListLit(self, e: s.ListLit, env):
        vals = [self._eval(x, env) for x in e.items]
        return POISON if any(v is POISON for v in vals) else vals


class _Scope:
    """The names of one element of a comprehension, over the environment around it."""

    def __init__(self, parent):
        self.vars: dict[str, object] = {}
        self.parent = parent

    def lookup(self, name: str):
        if name in self.vars:
            return True, self.vars[name]
        return self.parent.lookup(name) if self.parent is not None else (False, None)

    def label(self, name: str):
        return getattr(self.parent, "label", lambda n: None)(name)

    def names(self) -> list[str]:
        return sorted(set(self.vars) | set(self.parent.names() if self.parent else []))


def _free(kind: str, n: int = 1) -> None:
    """`Budget.charge` when there is no budget."""


def _joinable(a, b) -> bool:
    """Two lists, or two tuples that are not sizes: `+` puts one after the other."""
    if isinstance(a, list) and isinstance(b, list):
        return True
    return (type(a) is tuple and type(b) is tuple)


def _show(v) -> str:
    """A number as the arithmetic notes show it. An integer with more digits than Python
    will print (its limit is 4,300) is described by its size instead."""
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 1000:
        return f"a {int(v.bit_length() * math.log10(2)) + 1:,}-digit integer"
    return describe_value(v)


def _expr(a, op: str, b) -> str:
    """`a op b` as a note shows it: `(-8) ** 0.5`, since `-8 ** 0.5` means -(8 ** 0.5)."""
    left = _show(a)
    if op == "**" and left.startswith("-"):
        left = f"({left})"
    return f"{left} {op} {_show(b)}"


def check_number(v, max_int: int) -> str | None:
    """Why a value given from outside the file (`--set`, `load(..., n=...)`) cannot be used as
    a number, or None: infinities, NaN and integers beyond the limit never enter evaluation."""
    if isinstance(v, (tuple, list)):
        return next((why for x in v if (why := check_number(x, max_int))), None)
    if isinstance(v, float) and not math.isfinite(v):
        return f"{v!r} is not a finite number"
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > max_int:
        return f"integer {_show(v)} is too large (limit {max_int})"
    if isinstance(v, complex):
        return "a complex number is not a value of the language"
    return None


def _map_list(v, fn, span, charge):
    if isinstance(v, list):
        charge("expression", len(v))
        return [_map_list(x, fn, span, charge) for x in v]
    if not _is_num(v):
        raise EvalError("E0214", f"a literal kernel holds numbers, found {type_name(v)}", span)
    return fn(v)
