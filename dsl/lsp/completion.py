"""Completion. The context is read from the text before the cursor (brackets, the word being
typed, what precedes it), not from a parse, since a line being typed rarely parses; the names
on offer (blocks, parameters, bound values) come from the document's last check.

- in a body: layer kinds with their argument lists, `add`/`concat`, the blocks in scope with
  their parameters, bound values, `if`, `input`, `init`;
- in a call's argument list: the argument names not given yet (with type, default and doc),
  a block's parameters, and values;
- after `in.` (or any value and `.`): the tensor attributes;
- after `init target =`: the init functions;
- inside `import "`: the `.arch` files and folders next to the document and on the search path;
- at the top level: `network`, `block`, `import`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from lsprotocol import types as lsp

from .. import ops
from .. import syntax as s
from ..argspec import REQUIRED
from ..builtins import DOCS
from ..inits import INIT_FUNCTIONS, PARAM_NAMES
from ..locate import leading_comment, walk
from .files import importable
from .hover import ATTR_DOCS, _show_default, arg_type, definition_signature, signature
from .target import VALUE_CONSTANTS
from .workspace import View, Workspace

_K = lsp.CompletionItemKind
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_HEADER = re.compile(r"^(block|network)\s+([A-Za-z_][A-Za-z0-9_]*)", re.M)
MAX_SCAN = 200_000  # characters before the cursor read to find the context


@dataclass
class Context:
    kind: str  # top, item, value, args, attr, import, init, none
    prefix: str  # the word being typed
    callee: str = ""  # in an argument list: the layer or block called
    given: tuple[str, ...] = ()  # keyword arguments already written in that call
    positional: int = 0  # positional arguments written before the cursor
    import_prefix: str = ""  # inside `import "...`: the text typed so far


def context_at(text: str, offset: int) -> Context:
    """What is being typed at `offset`, from the text before it."""
    lo = max(0, offset - MAX_SCAN)
    before = text[lo:offset]
    stack: list[tuple[str, int]] = []  # open brackets: (char, offset in `before`)
    i, n = 0, len(before)
    while i < n:
        ch = before[i]
        if ch == "#":
            j = before.find("\n", i)
            if j < 0:
                return Context("none", "")
            i = j
            continue
        if ch == '"':
            j = before.find('"', i + 1)
            nl = before.find("\n", i + 1)
            if j < 0 and nl < 0:  # an open string at the cursor
                head = before[:i].rstrip()
                if head.endswith("import") and _word_before(head) == "import":
                    return Context("import", "", import_prefix=before[i + 1:])
                return Context("none", "")
            i = (j + 1) if j >= 0 and (nl < 0 or j < nl) else nl
            continue
        if ch in "({[":
            stack.append((ch, i))
        elif ch in ")}]" and stack:
            stack.pop()
        i += 1
    m = _WORD.search(before)
    prefix = m.group(0) if m else ""
    start = len(before) - len(prefix)
    if start > 0 and before[start - 1] == "." and not before[:start - 1].rstrip()[-1:].isdigit():
        return Context("attr", prefix)
    if prefix and prefix[0].isdigit():
        return Context("none", prefix)
    if not stack:
        return Context("top", prefix)
    opener, at = stack[-1]
    if opener == "(":
        head = before[:at].rstrip()
        callee = _word_before(head)
        if _word_before(head[:len(head) - len(callee)].rstrip()) in ("block", "network"):
            return Context("none", prefix)  # a parameter list being declared
        level = before[at + 1:start]
        current = _after_last_comma(level)
        flat = _flatten(level)
        given = tuple(re.findall(r"(?:^|,)\s*([A-Za-z_]\w*)\s*=(?!=)", flat))
        done = flat.split(",")[:-1]  # the arguments before the one being typed
        positional = sum(1 for a in done if a.strip() and not re.match(
            r"\s*[A-Za-z_]\w*\s*=(?!=)", a))
        if re.search(r"(?<![=!<>])=(?!=)", current):
            return Context("value", prefix, callee=callee, given=given, positional=positional)
        return Context("args", prefix, callee=callee, given=given, positional=positional)
    if opener == "[" and any(c == "(" for c, _ in stack):
        return Context("value", prefix)
    statement = re.split(r"[;{}\[\],\n]", before[at + 1:start])[-1]
    if re.match(r"\s*init\b", statement):
        return Context("init" if "=" in statement else "none", prefix)
    if re.match(r"\s*input\b", statement):
        return Context("none", prefix)
    if re.fullmatch(r"\s*(?:[A-Za-z_]\w*\s*(?::|=(?!=))\s*)*", statement):
        return Context("item", prefix)
    return Context("value", prefix)


def _word_before(text: str) -> str:
    m = _WORD.search(text)
    return m.group(0) if m else ""


def _flatten(level: str) -> str:
    """An argument list's text with nested brackets removed, so commas inside them (a tuple,
    a literal kernel) do not split arguments."""
    out, depth = [], 0
    for ch in level:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _after_last_comma(level: str) -> str:
    return _flatten(level).rsplit(",", 1)[-1]


# ---------------------------------------------------------------------------- items
def completion(ws: Workspace, uri: str, position: lsp.Position, snippets: bool = True
               ) -> lsp.CompletionList | None:
    view = ws.view(uri)
    if view is None:
        return None
    text = view.doc.text
    offset = ws.pos.offset(text, position)
    ctx = context_at(text, offset)
    module = view.analysis.module
    defn = _enclosing(module, text, offset)
    scope = _scope_in_text(text, offset)
    items: list[lsp.CompletionItem] = []
    if ctx.kind == "top":
        items = [_keyword(k, snippets, body) for k, body in (
            ("network", "network ${1:name} {\n\tinput ${2:3x224x224}\n\t$0\n}"),
            ("block", "block ${1:name}(${2:width}) {\n\t$0\n}"),
            ("import", 'import "${1}"'))]
    elif ctx.kind == "item":
        items = _layer_items(snippets) + _block_items(module, text, snippets) + \
            _value_items(defn, scope, items_only=True) + _item_keywords(scope, snippets)
    elif ctx.kind == "args":
        items = _argument_items(module, ctx) + _value_items(defn, scope)
    elif ctx.kind == "value":
        items = _value_items(defn, scope)
    elif ctx.kind == "attr":
        items = [lsp.CompletionItem(label=name, kind=_K.Property, detail="tensor attribute",
                                    documentation=doc) for name, doc in ATTR_DOCS.items()]
    elif ctx.kind == "init":
        items = [lsp.CompletionItem(label=f, kind=_K.Function, detail=_init_signature(f))
                 for f in INIT_FUNCTIONS]
    elif ctx.kind == "import":
        items = _import_items(ws, view, ctx)
    return lsp.CompletionList(is_incomplete=False, items=items)


def _enclosing(module: s.Module | None, text: str, offset: int) -> s.Definition | None:
    """The definition being typed in: the last `block NAME` / `network NAME` header before
    the cursor, looked up by name in the last check (offsets may have moved since)."""
    scope = _scope_in_text(text, offset)
    if module is None or scope is None:
        return None
    return next((d for d in module.definitions if d.name == scope.name), None)


@dataclass
class _Scope:
    """What the text before the cursor says about the definition being typed in, for when
    the last check has no such definition yet: its kind, name, parameters and bindings."""

    kind: str
    name: str
    params: list[str]
    binds: list[str]


_PARAMS = re.compile(r"\s*\(([^()]*)\)")
_BIND = re.compile(r"(?:^|[;{])\s*(?:[A-Za-z_]\w*\s*:\s*)?([A-Za-z_]\w*)\s*=(?!=)", re.M)


def _scope_in_text(text: str, offset: int) -> _Scope | None:
    found = None
    for m in _HEADER.finditer(text, max(0, offset - MAX_SCAN), offset):
        found = m
    if found is None:
        return None
    params = []
    p = _PARAMS.match(text, found.end())
    if p is not None:
        params = [x.split("=")[0].strip() for x in p.group(1).split(",")]
        params = [x for x in params if re.fullmatch(r"[A-Za-z_]\w*", x)]
    binds = [m.group(1) for m in _BIND.finditer(text, found.end(), offset)]
    return _Scope(found.group(1), found.group(2), params, binds)


def _keyword(word: str, snippets: bool, body: str) -> lsp.CompletionItem:
    if snippets:
        return lsp.CompletionItem(label=word, kind=_K.Keyword, insert_text=body,
                                  insert_text_format=lsp.InsertTextFormat.Snippet)
    return lsp.CompletionItem(label=word, kind=_K.Keyword)


def _call_snippet(name: str, required: list[str]) -> str:
    if not required:
        return name
    args = ", ".join(f"${{{i + 1}:{r}}}" for i, r in enumerate(required))
    return f"{name}({args})"


def _layer_items(snippets: bool) -> list[lsp.CompletionItem]:
    out = []
    for kind in ops.kinds():
        spec = ops.get(kind)
        if kind == "input" or spec.family == "merge":
            continue
        required = [a.name for a in spec.args
                    if a.positional and a.default in (REQUIRED, None)]
        item = lsp.CompletionItem(
            label=kind, kind=_K.Function, detail=signature(spec),
            documentation=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=_layer_doc(spec)),
            sort_text=f"1{kind}")
        if snippets and required:
            item.insert_text = _call_snippet(kind, required)
            item.insert_text_format = lsp.InsertTextFormat.Snippet
        out.append(item)
    return out


def _layer_doc(spec: ops.OpSpec) -> str:
    lines = [spec.doc, ""] if spec.doc else []
    for a in spec.args:
        default = "required" if a.default is REQUIRED else f"default `{_show_default(a.default)}`"
        lines.append(f"- `{a.name}`: {arg_type(a.type)}, {default}" + (f". {a.doc}" if a.doc
                                                                        else ""))
    return "\n".join(lines)


def _block_items(module: s.Module | None, text: str, snippets: bool
                 ) -> list[lsp.CompletionItem]:
    """The blocks in scope: the last check's (with imports), and those of this text whose
    definition does not parse yet (found by their `block NAME(...)` header)."""
    out = []
    named = dict(module.namespace) if module is not None else {}
    for name, d in sorted(named.items()):
        if d.kind != "block":
            continue
        required = [p.name for p in d.params if p.default is None]
        doc = leading_comment(d)
        out.append(_block_item(name, definition_signature(d), doc or None, required, snippets))
    for m in _HEADER.finditer(text):
        if m.group(1) != "block" or m.group(2) in named:
            continue
        named[m.group(2)] = None
        p = _PARAMS.match(text, m.end())
        params = [x.strip() for x in p.group(1).split(",")] if p else []
        required = [x for x in params if re.fullmatch(r"[A-Za-z_]\w*", x)]
        out.append(_block_item(m.group(2), f"block {m.group(2)}({', '.join(params)})", None,
                               required, snippets))
    return out


def _block_item(name, detail, doc, required, snippets) -> lsp.CompletionItem:
    item = lsp.CompletionItem(label=name, kind=_K.Class, detail=detail, documentation=doc,
                              sort_text=f"0{name}")
    if snippets and required:
        item.insert_text = _call_snippet(name, required)
        item.insert_text_format = lsp.InsertTextFormat.Snippet
    return item


def _item_keywords(scope: _Scope | None, snippets: bool) -> list[lsp.CompletionItem]:
    out = [
        _keyword("add", snippets, "add {\n\t{ $1 }\n\t{}\n}"),
        _keyword("concat", snippets, "concat {\n\t{ $1 }\n\t{ $2 }\n}"),
        _keyword("if", snippets, "if ${1:condition} {\n\t$0\n}"),
        _keyword("init", snippets, "init ${1:conv}.${2:weight} = ${3:kaiming_normal}()"),
        _keyword("inline", snippets, "inline ${1:block}($0)"),
    ]
    if scope is None or scope.kind == "network":
        out.append(_keyword("input", snippets, "input ${1:3x224x224}"))
    return out


def _value_names(defn: s.Definition | None, scope: _Scope | None) -> list[tuple[str, str]]:
    """(name, what it is) of the values in scope: parameters, then bound values."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(name: str, what: str) -> None:
        if name not in seen:
            seen.add(name)
            out.append((name, what))

    kind = defn.kind if defn else scope.kind if scope else "block"
    owner = defn.name if defn else scope.name if scope else ""
    for p in (defn.params if defn else []):
        add(p.name, f"parameter of {kind} {owner}")
    for name in (scope.params if scope else []):
        add(name, f"parameter of {kind} {owner}")
    for n in (walk(defn.body) if defn else []):
        if isinstance(n, s.Bind):
            add(n.name, "value bound here")
    for name in (scope.binds if scope else []):
        add(name, "value bound here")
    return out


def _value_items(defn: s.Definition | None, scope: _Scope | None, items_only: bool = False
                 ) -> list[lsp.CompletionItem]:
    out = [lsp.CompletionItem(label=n, kind=_K.Variable, detail=what, sort_text=f"0{n}")
           for n, what in _value_names(defn, scope)]
    if items_only:
        return [i for i in out if i.detail == "value bound here"]
    kind = defn.kind if defn else scope.kind if scope else "block"
    out.append(lsp.CompletionItem(label="in", kind=_K.Variable,
                                  detail=f"the input of this {kind}"))
    out.append(lsp.CompletionItem(label="x", kind=_K.Variable,
                                  detail="the current tensor: what flows into this item"))
    out += [lsp.CompletionItem(label=c, kind=_K.Constant, sort_text=f"2{c}")
            for c in VALUE_CONSTANTS]
    out += [lsp.CompletionItem(label=f, kind=_K.Function, detail=doc)
            for f, doc in DOCS.items()]
    return out


def _argument_items(module: s.Module | None, ctx: Context) -> list[lsp.CompletionItem]:
    spec = ops.lookup(ctx.callee)
    out = []
    if spec is not None:
        given = set(ctx.given)
        filled = {a.name for a in [a for a in spec.args if a.positional][:ctx.positional]}
        for a in spec.args:
            if a.name in given or a.name in filled or any(al in given for al in a.aliases):
                continue
            default = "required" if a.default is REQUIRED else \
                f"default {_show_default(a.default)}"
            out.append(lsp.CompletionItem(
                label=f"{a.name}=", kind=_K.Property, insert_text=f"{a.name}=",
                filter_text=a.name, detail=f"{arg_type(a.type)}, {default}",
                documentation=a.doc or None, sort_text=f"0{spec.args.index(a):02d}"))
        return out
    defn = module.namespace.get(ctx.callee) if module is not None else None
    if defn is not None:
        for k, p in enumerate(defn.params):
            if p.name in ctx.given or k < ctx.positional:
                continue
            default = f"default {p.default.span.text()}" if p.default is not None else "required"
            out.append(lsp.CompletionItem(label=f"{p.name}=", kind=_K.Property,
                                          insert_text=f"{p.name}=", filter_text=p.name,
                                          detail=f"parameter of block {defn.name}, {default}",
                                          sort_text=f"0{k:02d}"))
    elif ctx.callee in INIT_FUNCTIONS:
        for a in INIT_FUNCTIONS[ctx.callee]:
            out.append(lsp.CompletionItem(label=f"{a.name}=", kind=_K.Property,
                                          insert_text=f"{a.name}=", filter_text=a.name,
                                          detail=f"{arg_type(a.type)}, default "
                                                 f"{_show_default(a.default)}"))
    return out


def _init_signature(name: str) -> str:
    args = ", ".join(f"{a.name}={_show_default(a.default)}" for a in INIT_FUNCTIONS[name])
    return f"{name}({args}) for " + " / ".join(f".{p}" for p in PARAM_NAMES)


def _import_items(ws: Workspace, view: View, ctx: Context) -> list[lsp.CompletionItem]:
    a = view.analysis
    base = os.path.dirname(a.path) if a.path else os.getcwd()
    out = []
    own = os.path.basename(a.path) if a.path else None
    head = ctx.import_prefix.rpartition("/")[0]
    for rel, root in importable(base, ws.settings.search_path, ctx.import_prefix):
        if rel == own and not head:
            continue
        folder = rel.endswith("/")
        where = "next to this file" if root == base else f"in {root}"
        name = rel[len(head) + 1:] if head else rel
        out.append(lsp.CompletionItem(label=name, kind=_K.Folder if folder else _K.File,
                                      detail=where, insert_text=name))
    return out
