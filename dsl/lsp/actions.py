"""Code actions: the fixes the compiler's own diagnostics propose, as edits.

- "did you mean `stride`?" (unknown layer kinds, arguments, names, attributes, functions):
  replace the misspelt word, which the diagnostic's span covers, by the suggestion;
- "archdsl calls it `batchnorm`" (E0201 for another tool's name, `BatchNorm2d`): replace it;
- "add `flatten` before this layer" (E0306): insert `flatten` before the statement that holds
  the layer (its label included), on its own line or before it with `;` (`,` in a list);
- "write `conv1: conv(...)`" (W0002, a binding meant as a label): `conv1 = ` becomes the
  label `conv1: `, or, when the value is read, the layer is labelled too (`conv1 = conv1: ...`);
- a projection shortcut (E0305, when the help proposes `{ conv(W, 1x1, ...); batchnorm }`):
  the branch whose channels differ from the proposed width gets the projection: an empty
  branch `{}` becomes it, a branch `{ ... }` ends with its layers, a single item is wrapped.

Each fix is read from the diagnostic's data (message, help, labels) and checked against the
text under its span, so an action never edits anything but what the diagnostic is about.
"""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from .. import syntax as s
from ..diagnostics import Diagnostic
from ..locate import walk
from .workspace import View, Workspace

_DID_YOU_MEAN = re.compile(r"`([^`]+)`[^`]*?\(did you mean `([^`]+)`\?\)")
_CALLS_IT = re.compile(r"^`([^`]+)` is .* in other tools; archdsl calls it `(\w+)`$")
_PROJECTION = re.compile(r"`(\{ conv\((\d+), 1x1[^`]*\); batchnorm \})`")
_GIVES = re.compile(r"^gives (\d+)x")


def code_actions(ws: Workspace, uri: str, rng: lsp.Range,
                 context_diags: list[lsp.Diagnostic] | None = None) -> list[lsp.CodeAction]:
    view = ws.view(uri)
    if view is None or not view.current:
        return []  # fixes are made against the text the diagnostics were found in
    a = view.analysis
    text = view.doc.text
    lo, hi = ws.pos.offset(text, rng.start), ws.pos.offset(text, rng.end)
    conv = ws.converter(a)
    out: list[lsp.CodeAction] = []
    for d in a.diagnostics:
        if d.span is None or not a.owns(d.span):
            continue
        if d.span.end < lo or d.span.start > hi:
            continue
        shown = conv.diagnostic(d)
        for title, edits in _fixes(view, d):
            out.append(lsp.CodeAction(
                title=title, kind=lsp.CodeActionKind.QuickFix, diagnostics=[shown],
                is_preferred=len(out) == 0,
                edit=lsp.WorkspaceEdit(changes={uri: [
                    lsp.TextEdit(range=ws.pos.range(text, start, end), new_text=new)
                    for start, end, new in edits]})))
    return out


def _fixes(view: View, d: Diagnostic):
    text = view.doc.text
    m = _DID_YOU_MEAN.search(d.message)
    if m and text[d.span.start:d.span.end] == m.group(1):
        yield f"Replace `{m.group(1)}` with `{m.group(2)}`", [(d.span.start, d.span.end,
                                                                m.group(2))]
    for note in d.notes if d.code == "E0201" else ():  # another tool's name (dsl/foreign.py)
        c = _CALLS_IT.match(note)
        if c and c.group(2) not in ("add", "concat") and \
                text[d.span.start:d.span.end] == c.group(1):
            yield f"Replace `{c.group(1)}` with `{c.group(2)}`", [(d.span.start, d.span.end,
                                                                    c.group(2))]
    if d.code == "W0002":
        fix = _label_binding(text, d)
        if fix is not None:
            yield fix
    if d.code == "E0306" and d.help and "flatten" in d.help:
        fix = _insert_flatten(view, d)
        if fix is not None:
            yield "Add `flatten` before this layer", [fix]
    if d.code == "E0305" and d.help:
        p = _PROJECTION.search(d.help)
        if p is not None:
            fix = _projection(view, d, p.group(1), int(p.group(2)))
            if fix is not None:
                yield "Project the shortcut: " + p.group(1), [fix]


def _label_binding(text: str, d: Diagnostic):
    """W0002 at `conv1` of `conv1 = conv(...)`: the title and edits of its fix."""
    name = text[d.span.start:d.span.end]
    m = re.compile(r"\s*=\s*").match(text, d.span.end)
    if m is None or not name.isidentifier():
        return None
    if d.help and d.help.startswith(f"to name the layer `{name}`"):  # never read: a label
        return f"Make `{name}` a label", [(d.span.start, m.end(), f"{name}: ")]
    return f"Label the layer `{name}` too", [(m.end(), m.end(), f"{name}: ")]


def _insert_flatten(view: View, d: Diagnostic):
    """Before the statement that holds the failing layer: the innermost item of a group, list
    or merge around it (so a label or a binding goes with the layer, after the `flatten`)."""
    module = view.analysis.module
    if module is None:
        return None
    stmt, container = _statement(module, d.span.start, d.span.end)
    if stmt is None:
        return None
    text = view.doc.text
    start = stmt.span.start
    line_start = text.rfind("\n", 0, start) + 1
    if isinstance(container, s.ItemList):
        return start, start, "flatten, "
    if not text[line_start:start].strip():
        indent = text[line_start:start]
        return start, start, f"flatten\n{indent}"
    return start, start, "flatten; "


def _statement(module: s.Module, start: int, end: int):
    """(the body statement that contains [start, end), the group or list it is an item of)."""
    best = (None, None)
    for defn in module.definitions:
        for n in walk(defn.body):
            items = n.items if isinstance(n, (s.Group, s.ItemList)) else \
                n.branches if isinstance(n, s.Merge) else None
            if items is None:
                continue
            for it in items:
                inside = it.span.start <= start and end <= it.span.end
                if inside and (best[0] is None or it.span.end - it.span.start <
                               best[0].span.end - best[0].span.start):
                    best = (it, n)
    return best


def _projection(view: View, d: Diagnostic, snippet: str, width: int):
    """The edit that gives the branch with the wrong channel count the projection."""
    wrong = []
    for lab in d.labels:
        g = _GIVES.match(lab.message)
        if g is not None and int(g.group(1)) != width:
            wrong.append(lab.span)
    if len(wrong) != 1:
        return None
    span = wrong[0]
    text = view.doc.text
    branch = text[span.start:span.end]
    inner = snippet[1:-1].strip()  # `conv(...); batchnorm`
    if re.fullmatch(r"\{\s*\}", branch):
        return span.start, span.end, snippet
    if branch.startswith("{") and branch.endswith("}"):
        close = span.end - 1
        line_start = text.rfind("\n", 0, close) + 1
        if not text[line_start:close].strip():  # `}` alone on its line: a line before it
            prev = text.rfind("\n", 0, line_start - 1) + 1
            last = text[prev:line_start - 1]
            indent = last[:len(last) - len(last.lstrip())]
            return line_start, line_start, f"{indent}{inner}\n"
        j = close
        while j > span.start + 1 and text[j - 1] in " \t":
            j -= 1
        return j, close, f"; {inner} "
    return span.start, span.end, "{ " + branch + "; " + inner + " }"
