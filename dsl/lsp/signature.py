"""Signature help: inside a call's parentheses, the layer kind's or block's argument list, the
argument being typed highlighted (by position, or by its keyword), with its registry doc."""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from .. import ops
from ..argspec import REQUIRED
from .completion import context_at
from .hover import _show_default, arg_type, definition_signature
from .workspace import Workspace


def signature_help(ws: Workspace, uri: str, position: lsp.Position) -> lsp.SignatureHelp | None:
    view = ws.view(uri)
    if view is None:
        return None
    text = view.doc.text
    offset = ws.pos.offset(text, position)
    ctx = context_at(text, offset)
    if ctx.kind not in ("args", "value") or not ctx.callee:
        return None
    current = _current_keyword(text, offset)
    spec = ops.lookup(ctx.callee)
    if spec is not None and spec.args:
        params = [lsp.ParameterInformation(
            label=a.name if a.positional and a.default in (REQUIRED, None)
            else f"{a.name}={_show_default(a.default)}",
            documentation=f"{arg_type(a.type)}. {a.doc}" if a.doc else arg_type(a.type))
            for a in spec.args]
        names = [a.name for a in spec.args]
        aliases = {al: a.name for a in spec.args for al in a.aliases}
        positional = [i for i, a in enumerate(spec.args) if a.positional]
        label = f"{spec.kind}({', '.join(p.label for p in params)})"
        doc = spec.doc
    else:
        module = view.analysis.module
        defn = module.namespace.get(ctx.callee) if module is not None else None
        if defn is None or not defn.params:
            return None
        params = [lsp.ParameterInformation(label=p.span.text().strip()) for p in defn.params]
        names = [p.name for p in defn.params]
        aliases = {}
        positional = list(range(len(names)))
        label = definition_signature(defn).split(" ", 1)[1]
        doc = None
    active = None
    if current is not None:
        name = aliases.get(current, current)
        active = names.index(name) if name in names else None
    elif ctx.prefix and any(n.startswith(ctx.prefix) for n in names):  # a keyword being typed
        active = next(i for i, n in enumerate(names) if n.startswith(ctx.prefix))
    elif ctx.positional < len(positional):
        active = positional[ctx.positional]
    return lsp.SignatureHelp(
        signatures=[lsp.SignatureInformation(label=label, documentation=doc, parameters=params,
                                             active_parameter=active)],
        active_signature=0, active_parameter=active)


def _current_keyword(text: str, offset: int) -> str | None:
    """The keyword of the argument the cursor is in (`stride` in `stride=2|`), if any."""
    head = text[max(0, offset - 200):offset]
    cut = max(head.rfind(","), head.rfind("("))
    m = re.match(r"\s*([A-Za-z_]\w*)\s*=(?!=)", head[cut + 1:])
    return m.group(1) if m else None
