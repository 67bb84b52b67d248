"""Elaboration of what a paper's table drives: constants (`let w = 4 * width`), loops
(`for i, (t, c, n, s) in enumerate(setting) { ... }`) and computed labels
(`denselayer{i + 1}: ...`). A mixin of `Elaborator` (dsl/elaborate.py), which calls these from
its `_item` and `_labeled`.

Constants and tensors are kept apart: `let` binds a value (number, size, string, list, tuple)
and refuses a tensor; `x = item` binds a tensor. A loop's body runs once per element, in
sequence, each time in a scope of its own for names (its variables, its `let`s and its
bindings belong to one iteration) but not for modules: like braces, a loop makes no module
name, so its layers are numbered on in the enclosing scope, as torch code that appends to an
`nn.Sequential` in a loop numbers them. A loop counts towards the limits like `item * N`: its
length is a repetition count (`--max-repeat`), and its expansion is projected after the first
iteration (layers, parameters, memory) and the second (work).
"""

from __future__ import annotations

import re
from dataclasses import replace

from . import syntax as s
from .diagnostics import Label
from .values import POISON, Tensor, describe_value, type_name

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Tables:
    """`let`, `for` and computed labels (mixed into `Elaborator`)."""

    # ---------------------------------------------------------------- let
    # let_stmt: LET patterns "=" expr
    def _let(self, it: s.LetStmt, env) -> None:
        value = self.ev.eval(it.value, env)
        if isinstance(value, Tensor):
            self.diags.error("E0245", "`let` names a constant, and this is a tensor",
                             it.value.span, label=f"{describe_value(value)}",
                             help=f"bind a tensor without `let`: `{_text(it.targets)} = ...`; "
                                  "read its sizes with `.channels`, `.shape`")
            value = POISON
        self._bind_patterns(it.targets, value, env, it.value.span, what="`let`")

    def _bind_patterns(self, targets: list[s.Pattern], value, env, value_span,
                       what: str, element: str = "") -> bool:
        """Binds each name of `targets` (one pattern, or several that take a tuple apart) in
        `env`; False after reporting why the value does not fit (its names are then unknown,
        POISON, so that nothing else is reported for them)."""
        pattern = targets[0] if len(targets) == 1 else s.PatTuple(
            targets[0].span.to(targets[-1].span), targets)
        ok = self._match(pattern, value, value_span, what, element)
        names = _names(pattern)
        seen: dict[str, s.PatName] = {}
        for p in names:
            if p.name in seen:
                self.diags.error("E0246", f"`{p.name}` is named twice in one pattern", p.span,
                                 labels=[Label(seen[p.name].span, "first here")],
                                 help="give each value its own name")
                ok = False
                continue
            seen[p.name] = p
            if p.name in env.vars and what == "`let`":
                self.diags.error("E0246", f"`{p.name}` is already defined in this body",
                                 p.span, help="a constant is defined once; give this one "
                                 "another name" + (" (`in` is the block's input)"
                                                   if p.name == "in" else ""))
                ok = False
                continue
            if p.name == "in":
                self.diags.error("E0246", "`in` is the block's input and cannot be redefined",
                                 p.span, help="give this value another name")
                ok = False
                continue
        if not ok:
            for p in names:
                env.vars.setdefault(p.name, POISON)
            return False
        self._assign(pattern, value, env)
        return True

    def _match(self, p: s.Pattern, v, value_span, what: str, element: str) -> bool:
        if v is POISON:
            return True
        if isinstance(p, s.PatName):
            if isinstance(v, Tensor):
                self.diags.error("E0245", f"{what} gives `{p.name}` a tensor; its values are "
                                 "numbers, sizes, strings, lists and tuples", p.span,
                                 help="bind a tensor with `name = item` in a body")
                return False
            return True
        if not isinstance(v, (list, tuple)):
            self.diags.error("E0241", f"the pattern `{p.span.text()}` takes a tuple apart, "
                             f"found {type_name(v)} `{describe_value(v)}`", p.span,
                             labels=[Label(value_span, f"{element} of this list" if element
                                           else "this value")],
                             help="name the whole value with one name instead")
            return False
        if len(v) != len(p.items):
            self.diags.error("E0241", f"the pattern `{p.span.text()}` names {len(p.items)} "
                             f"values, but {element or 'the value'}, `{describe_value(v)}`, "
                             f"has {len(v)}", p.span,
                             labels=[Label(value_span, f"{element} of this list" if element
                                           else "this value")],
                             help=f"write {len(v)} names, or fix the table")
            return False
        return all(self._match(q, x, value_span, what, element)
                   for q, x in zip(p.items, v, strict=True))

    def _assign(self, p: s.Pattern, v, env) -> None:
        if isinstance(p, s.PatName):
            env.vars[p.name] = v
        else:
            for q, x in zip(p.items, v if v is not POISON else [POISON] * len(p.items),
                            strict=True):
                self._assign(q, x, env)

    def _value_bind(self, it: s.Bind, env) -> bool:
        """True after reporting a binding `w = ...` of what is a value, not an item: a name
        of a constant (`w = width * 2`) or a call of a value function (`w = round(x)`)."""
        from . import ops
        from .builtins import FUNCTIONS

        inner = it.item.item if isinstance(it.item, s.Repeat) else it.item
        if not isinstance(inner, (s.Ref, s.Call)):
            return False
        found, value = env.lookup(inner.ident)
        if found:
            if isinstance(value, Tensor) or value is POISON:
                return False
            what = f"`{inner.ident}` is {type_name(value)}"
        elif (isinstance(inner, s.Call) and inner.ident in FUNCTIONS
              and ops.lookup(inner.ident) is None
              and inner.ident not in env.module.namespace):
            what = f"`{inner.ident}(...)` computes a value"
        else:
            return False
        self.diags.error("E0245", f"`{it.name} = ...` names a tensor, and {what}",
                         it.item.span, label="a value, not an item",
                         help=f"name a constant with `let`: `let {it.name} = "
                              f"{it.item.span.text()}`")
        env.vars[it.name] = POISON
        return True

    # ---------------------------------------------------------------- for
    # primary: FOR patterns IN expr body -> for_item
    def _for(self, it: s.For, cur, scope, env):
        seq = self.ev.eval(it.iterable, env)
        if seq is POISON:
            return self._poisoned(cur)
        if not isinstance(seq, (list, tuple)):
            self.diags.error("E0240", f"a loop goes over a list, found {type_name(seq)} "
                             f"`{describe_value(seq)}`", it.iterable.span,
                             help="loop over a list `[...]`, a tuple, a size, `range(n)` or "
                                  "`enumerate(xs)`" + ("; to repeat an item n times, "
                                  "`for i in range(n)` or `item * n`"
                                  if isinstance(seq, int) and not isinstance(seq, bool)
                                  else ""))
            return self._poisoned(cur)
        n = len(seq)
        if n > self.limits.max_repeat:
            self.diags.error("E0502", f"a loop of {n:,} iterations exceeds the limit of "
                             f"{self.limits.max_repeat:,}", it.iterable.span,
                             help="raise the limit with --max-repeat if you mean it")
            return self._poisoned(cur)
        first = len(self.diags.items)
        try:
            return self._iterate(it, seq, cur, scope, env)
        finally:
            if self._overrides:  # a table given with --set: its errors say so
                for d in self.diags.items[first:]:
                    if getattr(d, "span", None) is not None:
                        self._note_override_in(d, it.iterable.span.text())

    def _iterate(self, it: s.For, seq, cur, scope, env):
        from .elaborate import Env  # (the module that mixes this in)

        for k in self._projected(it, len(seq)):
            local = Env(env.module, env)
            if not self._bind_patterns(it.targets, seq[k], local, it.iterable.span,
                                       "a loop", element=f"element {k}"):
                return self._poisoned(cur)
            cur = self._sequence(it.body.items, cur, scope, local)
        return cur

    # ---------------------------------------------------------------- computed labels
    # item_stmt: label_template ":" item_stmt -> labeled_template
    def _computed_label(self, it: s.Labeled, env) -> s.Labeled | None:
        """`it` with its label computed (`denselayer{i + 1}` -> `denselayer3`), or None after
        reporting why it cannot be."""
        text = []
        for part in it.parts:
            if isinstance(part, str):
                text.append(part)
                continue
            v = self.ev.eval(part, env)
            if v is POISON:
                return None
            if isinstance(v, bool) or not isinstance(v, (int, str)):
                self.diags.error("E0244", f"a part of a label is an integer or a string, found "
                                 f"{type_name(v)} `{describe_value(v)}`", part.span,
                                 help="compute an integer, as in `denselayer{i + 1}`"
                                 + ("; `int(x)` rounds a number towards zero"
                                    if isinstance(v, float) else ""))
                return None
            text.append(str(v))
        name = "".join(text)
        if not _NAME.fullmatch(name):
            shown = describe_value(name)[1:-1]
            self.diags.error("E0244", f"the label `{it.label_span.text()}` computes `{shown}`, "
                             "which is not a name", it.label_span,
                             help="a label is letters, digits and `_`, not starting with a "
                                  "digit: a negative number or a string with other characters "
                                  "cannot be part of one")
            return None
        return replace(it, label=name, parts=None)

    def _note_computed(self, first: int, template: str, name: str) -> None:
        """The diagnostics about a computed label (from index `first`) say what it computed."""
        note = f"the label `{template}` is `{name}` here"
        for d in self.diags.items[first:]:
            if getattr(d, "code", None) in ("E0209", "E0223") and note not in d.notes:
                d.notes.append(note)


def _names(p: s.Pattern) -> list[s.PatName]:
    if isinstance(p, s.PatName):
        return [p]
    return [n for q in p.items for n in _names(q)]


def _text(targets: list[s.Pattern]) -> str:
    return ", ".join(t.span.text() for t in targets)
