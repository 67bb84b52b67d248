"""Constructor expressions of the generated `__init__`s, and their printer (no torch).

A module is built by a `Call` (`nn.Conv2d(64, 256, 1, bias=False)`, `Bottleneck(64, 64)`,
`nn.Sequential(...)`) whose arguments are literals (`Lit`), other calls, or, inside a block
class, the class's constructor parameters (`Param`). A `Lit` keyword argument knows torch's
default, so the printer leaves it out when it has that value. Positional arguments carry
their *role* (`in_channels`, `kernel_size`): the name a class parameter standing for it gets.
"""

from __future__ import annotations

from dataclasses import dataclass

from archdsl.escape import py_value

from .lowering import is_default

_NONE = object()


@dataclass(frozen=True)
class Lit:
    value: object
    default: object = _NONE  # torch's default for a keyword argument

    def is_default(self) -> bool:
        return self.default is not _NONE and is_default(self.value, self.default)


@dataclass(frozen=True)
class Param:
    """A constructor parameter of the class being printed, times `factor`."""

    name: str
    factor: int = 1
    default: object = _NONE


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple = ()
    kwargs: tuple = ()  # (name, expr)
    roles: tuple = ()  # a name per positional argument

    def slots(self):
        """(literal, role) for every `Lit` inside, in order (the order `substitute` takes):
        the role is the keyword, or the positional argument's role, of the call holding it."""
        for i, a in enumerate(self.args):
            yield from _slots(a, self.roles[i] if i < len(self.roles) else "arg")
        for k, v in self.kwargs:
            yield from _slots(v, k)


def _slots(a, role: str):
    if isinstance(a, Lit):
        yield a, role
    elif isinstance(a, Call):
        yield from a.slots()


def skeleton(expr) -> str:
    """The expression with its literals left out: instances with equal skeletons differ
    only in numbers."""
    if isinstance(expr, Lit):
        return "?"
    if isinstance(expr, Call):
        inner = [skeleton(a) for a in expr.args] + [f"{k}={skeleton(v)}" for k, v in expr.kwargs]
        return f"{expr.func}({', '.join(inner)})"
    return repr(expr)


def substitute(expr, values: list):
    """`expr` with its literals, in `lits` order, replaced by `values` (consumed)."""
    if isinstance(expr, Lit):
        return values.pop(0)
    if isinstance(expr, Call):
        args = tuple(substitute(a, values) for a in expr.args)
        kwargs = tuple((k, substitute(v, values)) for k, v in expr.kwargs)
        return Call(expr.func, args, kwargs, expr.roles)
    return expr


def _param_text(p: Param) -> str:
    return p.name if p.factor == 1 else f"{p.name} * {p.factor}"


def _items(expr: Call) -> list[str]:
    if expr.func == "nn.Sequential":  # consecutive equal blocks (ResNet's stages) as one
        out = [piece for piece, _ in _sequential_pieces(expr)]
    else:
        out = [text(a) for a in expr.args]
    for k, v in expr.kwargs:
        if isinstance(v, Lit) and v.is_default():
            continue
        out.append(f"{k}={text(v)}")
    return out


def text(expr) -> str:
    """One-line text of an expression."""
    if isinstance(expr, Lit):
        return py_value(expr.value)
    if isinstance(expr, Param):
        return _param_text(expr)
    if isinstance(expr, Call):
        return f"{expr.func}({', '.join(_items(expr))})"
    return str(expr)


def lines(expr, indent: int, width: int = 100, force: bool = False) -> list[str]:
    """The expression over as many lines as it needs: one line when it fits in `width`
    after `indent` columns, else one argument per line, each printed the same way."""
    one = text(expr)
    if (indent + len(one) <= width and not force) or not isinstance(expr, Call):
        return [one]
    hug = None if force else _hug(expr, indent, width)
    if hug is not None:
        return hug
    items = _items(expr)
    if not force and expr.func != "nn.Sequential" and all(indent + 4 + len(i) + 2 <= width
                                                          for i in items):
        packed, cur = [], ""
        for item in items:
            piece = item + ", "
            if cur and indent + 4 + len(cur) + len(piece) - 1 > width:
                packed.append(cur.rstrip())
                cur = ""
            cur += piece
        packed.append(cur[:-2] + ")")
        if len(packed) <= 3:
            return [f"{expr.func}("] + ["    " + p for p in packed]
    out = [f"{expr.func}("]
    pad = " " * 4
    args = list(expr.args)
    if expr.func == "nn.Sequential":
        for piece, sub in _sequential_pieces(expr):
            if indent + 4 + len(piece) + 1 <= width or sub is None:
                out.append(pad + piece + ",")
            else:
                sub_lines = lines(sub, indent + 4, width)
                out += [pad + line for line in sub_lines[:-1]] + [pad + sub_lines[-1] + ","]
        out.append(")")
        return out
    for a in args:
        sub = lines(a, indent + 4, width)
        out += [pad + line for line in sub[:-1]] + [pad + sub[-1] + ","]
    for k, v in expr.kwargs:
        if isinstance(v, Lit) and v.is_default():
            continue
        sub = lines(v, indent + 4 + len(k) + 1, width)
        out += [pad + k + "=" + sub[0]] + [pad + line for line in sub[1:]]
        out[-1] += ","
    out.append(")")
    return out


def _sequential_pieces(expr: Call):
    """(text, expression or None) per printed piece of an nn.Sequential."""
    args = list(expr.args)
    texts = [text(a) for a in args]
    out = []
    i = 0
    while i < len(args):
        j = i
        while j + 1 < len(args) and texts[j + 1] == texts[i]:
            j += 1
        n = j - i + 1
        if n > 2:
            out.append((f"*({texts[i]} for _ in range({n}))", None))
        else:
            out += [(texts[i], args[i])] * n
        i = j + 1
    return out


def _hug(expr: Call, indent: int, width: int) -> list[str] | None:
    """`f(a, b, key=g(` ... `))`: the arguments but the last on the first line, the last (a
    call) opened there and printed below, when that first line fits."""
    items = _items(expr)
    if not items or expr.func == "nn.Sequential":
        return None
    shown = [(k, v) for k, v in expr.kwargs if not (isinstance(v, Lit) and v.is_default())]
    last = shown[-1][1] if shown else (expr.args[-1] if expr.args else None)
    if not isinstance(last, Call) or (not shown and len(items) != len(expr.args)):
        return None
    prefix = f"{expr.func}({', '.join(items[:-1])}{', ' if len(items) > 1 else ''}"
    prefix += f"{shown[-1][0]}=" if shown else ""
    sub = lines(last, indent, width)
    if len(sub) < 2:
        sub = lines(last, indent, width, force=True)
    if len(sub) < 2 or indent + len(prefix) + len(sub[0]) > width:
        return None
    return [prefix + sub[0], *sub[1:-1], sub[-1] + ")"]
