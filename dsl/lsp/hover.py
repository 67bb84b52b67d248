"""Hover: what the compiler knows about the thing under the cursor, as Markdown.

- a layer: its kind with K/F/S/P, output shape (and input), parameters, MACs, receptive field,
  and the size formula with this layer's numbers; a layer inside a block shows each instance;
- a block call: the block's signature, its leading comment, the shapes in and out at this
  call (each instance of a repetition);
- an argument: its declaration in the op registry (type, default, doc) and the value the
  layer resolved it to;
- a definition, a parameter, an `in.` attribute, an import, the `input` line.

Numbers come from the IR of the document's check, and for a file of blocks from the checks of
the open documents that import it.
"""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from .. import ops
from .. import syntax as s
from ..argspec import REQUIRED, type_label
from ..evaluate import SHAPE_ATTRS
from ..locate import leading_comment
from ..summary import _fmt_tuple
from ..values import fmt_shape
from .formulas import size_formula
from .nodes import Instance, block_inputs, call_instances, item_instances
from .target import Target, target_at
from .workspace import View, Workspace

MAX_ROWS = 8  # instances listed in a table before "... and N more"
ATTR_DOCS = {
    "channels": "the number of channels (the first dimension)",
    "features": "the length of a vector (a 1-D tensor)",
    "height": "the height of a CxHxW or CxDxHxW tensor",
    "width": "the width of a CxHxW or CxDxHxW tensor",
    "depth": "the depth of a CxDxHxW tensor",
    "length": "the length of a CxL tensor",
    "rank": "the number of dimensions (the batch left out)",
    "size": "the number of elements (the batch left out)",
    "shape": "the whole shape, as a size like 64x56x56",
}


def hover(ws: Workspace, uri: str, position: lsp.Position) -> lsp.Hover | None:
    view = ws.view(uri)
    if view is None:
        return None
    offset = view.to_analysis(ws.pos.offset(view.doc.text, position))
    if offset is None:
        return None
    t = target_at(view.analysis.module, offset)
    if t is None:
        return None
    text = _content(ws, view, t)
    if not text:
        return None
    span = _span_of(t)
    rng = None
    if span is not None and (mapped := view.doc_span(span)) is not None:
        rng = ws.pos.range(view.doc.text, *mapped)
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text),
                     range=rng)


def _span_of(t: Target):
    n = t.node
    if isinstance(n, s.Call):
        return n.ident_span
    if isinstance(n, (s.Merge, s.MergeCall)):
        return n.kind_span
    if isinstance(n, s.Definition):
        return n.name_span
    if isinstance(n, s.Bind):
        return n.name_span
    if isinstance(n, s.Attr):
        return n.attr_span
    if isinstance(n, s.Labeled):
        return n.label_span
    return getattr(n, "span", None)


def _content(ws: Workspace, view: View, t: Target) -> str:
    module = view.analysis.module
    if t.kind in ("layer", "merge"):
        return _layer(ws, view, t)
    if t.kind == "block":
        return _block_call(ws, view, t)
    if t.kind == "arg":
        return _argument(ws, view, t)
    if t.kind == "definition":
        return _definition(view, t.node)
    if t.kind == "param":
        return _param(t)
    if t.kind == "attr":
        return _attribute(ws, view, t)
    if t.kind == "value":
        return _value(t)
    if t.kind == "import":
        return _import(view, t.node)
    if t.kind == "input":
        return _input(view)
    if t.kind == "unknown":
        return ""
    if t.kind == "scope" and module is not None:
        out = [f"`{t.name}`: a named group (a scope of the module hierarchy)"]
        insts = call_instances(ws, view, t.node, groups=True)
        if insts:
            out.append(_instances_table(insts, layer=False))
        return "\n\n".join(out)
    if t.kind == "function":
        from ..builtins import DOCS

        doc = DOCS.get(t.name)
        return f"`{doc.split(':')[0]}`:{doc.split(':', 1)[1]}" if doc else ""
    return ""


# ---------------------------------------------------------------------------- layers
def _layer(ws: Workspace, view: View, t: Target) -> str:
    node = t.node
    kind = node.kind if isinstance(node, (s.Merge, s.MergeCall)) else node.ident
    spec = ops.lookup(kind)
    insts = item_instances(ws, view, node)
    out = []
    if insts:
        first = insts[0]
        label = ops.get(first.data["op"]).label(first.data["args"]) if first.known else kind
        out.append(f"**{_name(first)}** · `{label}`" if len(insts) == 1 else
                   f"`{label}` · {len(insts)} instances")
        if len(insts) == 1:
            out += _one_layer(first)
        else:
            out.append(_instances_table(insts, layer=True))
            formula = size_formula(first.data["op"], ops.get(first.data["op"]).family,
                                   first.data, first.in_shapes)
            if formula:
                out.append(f"{_name(first)}:\n```text\n" + "\n".join(formula) + "\n```")
    elif spec is not None:
        out.append(f"```arch\n{signature(spec)}\n```")
        out.append("_not checked here: no network of an open document reaches this line_"
                   if view.analysis.parsed else "_not checked: the file has syntax errors_")
    if spec is not None and spec.doc:
        out.append(spec.doc)
    return "\n\n".join(out)


def _name(inst: Instance) -> str:
    return inst.data["name"]


def _one_layer(inst: Instance) -> list[str]:
    d = inst.data
    if not inst.known:
        return ["output unknown: the check failed " + ("at this layer" if d.get("error") else
                                                       "before this layer")]
    ins = " + ".join(fmt_shape(x) for x in inst.in_shapes)
    lines = [f"output **{fmt_shape(d['shape'])}**" + (f" from {ins}" if ins else "")]
    facts = [f"params {d.get('params', 0):,}"]
    if d.get("buffers"):
        facts.append(f"buffers {d['buffers']:,}")
    facts.append(f"MACs {d.get('macs', 0):,}")
    if d.get("rf") is not None:
        facts.append(f"receptive field {_fmt_tuple(d['rf'])} (jump {_fmt_tuple(d['jump'])})")
    lines.append(" · ".join(facts))
    formula = size_formula(d["op"], ops.get(d["op"]).family, d, inst.in_shapes)
    if formula:
        lines.append("```text\n" + "\n".join(formula) + "\n```")
    return lines


def _instances_table(insts: list[Instance], layer: bool) -> str:
    rows = ["| instance | in | out | params | MACs |", "|---|---|---|---:|---:|"]
    for inst in insts[:MAX_ROWS]:
        rows.append(f"| `{inst.name}` | {' + '.join(fmt_shape(x) for x in inst.in_shapes)} | "
                    f"{fmt_shape(inst.out_shape)} | {inst.params:,} | {inst.macs:,} |")
    if len(insts) > MAX_ROWS:
        rows.append(f"| ... and {len(insts) - MAX_ROWS} more | | | | |")
    return "\n".join(rows)


def signature(spec: ops.OpSpec) -> str:
    """`conv(filters, kernel, stride=1, pad=0, ...)`: how a kind is called."""
    parts = []
    for a in spec.args:
        if a.positional and a.default in (REQUIRED, None):
            parts.append(a.name)
        else:
            parts.append(f"{a.name}={_show_default(a.default)}")
    return f"{spec.kind}({', '.join(parts)})" if parts else spec.kind


def arg_type(t) -> str:
    """The type of an argument as a person reads it: `int >= 1 or literal kernel`. `either`
    and `choice` build closures; their parts are read from the closure."""
    name = getattr(t, "__name__", "")
    cells = [c.cell_contents for c in (getattr(t, "__closure__", None) or ())]
    if name == "coerce":
        parts = [x for c in cells if isinstance(c, tuple) for x in c if callable(x)]
        if parts:
            return " or ".join(arg_type(x) for x in parts)
    if name == "choice":
        options = [x for c in cells if isinstance(c, tuple) for x in c if isinstance(x, str)]
        if options:
            return "one of " + ", ".join(f'"{o}"' for o in options)
    label = type_label(t)
    return "value" if label in ("coerce", "choice") else label


def _show_default(v) -> str:
    if v is REQUIRED:
        return "..."
    if v is None:
        return "not set"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        return "x".join(map(str, v)) if len(v) > 1 else str(v[0])
    if isinstance(v, str):
        return f'"{v}"'
    return repr(v)


# ---------------------------------------------------------------------------- blocks
def _block_call(ws: Workspace, view: View, t: Target) -> str:
    node = t.node
    module = view.analysis.module
    defn = module.namespace.get(node.ident) if module is not None else None
    if defn is None:
        return ""
    out = [_definition(view, defn, with_totals=False)]
    insts = call_instances(ws, view, node)
    if insts:
        out.append(_instances_table(insts, layer=False))
    return "\n\n".join(out)


def definition_signature(defn: s.Definition) -> str:
    params = []
    for p in defn.params:
        params.append(p.span.text().strip() if p.default is not None else p.name)
    return f"{defn.kind} {defn.name}" + (f"({', '.join(params)})" if params or
                                         defn.kind == "block" else "")


def _definition(view: View, defn: s.Definition, with_totals: bool = True) -> str:
    out = [f"```arch\n{definition_signature(defn)}\n```"]
    comment = leading_comment(defn)
    if comment:
        out.append(_fenced(comment))
    out.append(f"defined at {defn.name_span.source.path}:{defn.name_span.line}")
    a = view.analysis
    ir = a.ir
    if with_totals and ir is not None and a.result.definition is not None and \
            a.result.definition.name == defn.name and defn.kind == "network":
        totals = ir.attrs.get("totals")
        ins = ir.node(ir.input)["shape"] if ir.input is not None else None
        outs = ir.node(ir.output)["shape"] if ir.output is not None else None
        line = f"{fmt_shape(ins)} → {fmt_shape(outs)}"
        if totals is not None:
            line += f" · params {totals.params:,} · MACs {totals.macs:,}"
        out.append(line)
    return "\n\n".join(out)


def _param(t: Target) -> str:
    p = t.node
    owner = t.defn
    where = f" of {owner.kind} `{owner.name}`" if owner is not None else ""
    default = f", default `{p.default.span.text()}`" if p.default is not None else \
        ", no default"
    return f"parameter `{p.name}`{where}{default}"


def _value(t: Target) -> str:
    defn = t.defn
    if defn is None:
        return ""
    if t.name == "in":
        return "`in`: the input of this " + defn.kind + " (a tensor: `in.channels`, " \
               "`in.height`, ...)"
    if t.name == "x" and not any(p.name == "x" for p in defn.params):
        return "`x`: the current tensor, what flows into this item (`x.channels`, " \
               "`x.height`, ...), unless a value is bound as `x`"
    for p in defn.params:
        if p.name == t.name:
            return _param(Target("param", p, defn, name=p.name))
    return f"`{t.name}`: a value bound in {defn.kind} `{defn.name}` (`{t.name} = ...`)"


def _attribute(ws: Workspace, view: View, t: Target) -> str:
    """`in.channels`: what the attribute is, and its value in each instance of the block."""
    doc = ATTR_DOCS.get(t.name)
    if doc is None:
        return ""
    out = [f"`{t.name}`: {doc}"]
    obj, defn = t.node.obj, t.defn
    rule = SHAPE_ATTRS.get(t.name)
    if isinstance(obj, s.Name) and obj.ident == "in" and defn is not None and rule:
        values = []
        if defn.kind == "block":
            shapes = [sh for _, sh in block_inputs(ws, view, defn)]
        else:
            ir = view.analysis.ir
            shapes = [ir.node(ir.input)["shape"]] if ir is not None and ir.input is not None \
                else []
        for sh in shapes:
            if sh is None:
                continue
            v = rule(sh)
            shown = str(v) if v is not None else "none"
            if shown not in values:
                values.append(shown)
        if values:
            out.append(f"`in.{t.name}` is " + ", ".join(f"`{v}`" for v in values[:MAX_ROWS])
                       + (", ..." if len(values) > MAX_ROWS else "")
                       + (" in the instances checked" if defn.kind == "block" else ""))
    return "\n\n".join(out)


# ---------------------------------------------------------------------------- arguments
def argument_spec(module, call, index: int):
    """The declaration an argument binds to: an `ArgSpec` of a layer kind, a block's `Param`,
    or None. Positional arguments take the positional declarations in order."""
    if isinstance(call, s.Call):
        spec = ops.lookup(call.ident)
        if spec is not None:
            return _bind_one(list(spec.args), call.args, index, by_alias=True)
        defn = module.namespace.get(call.ident) if module is not None else None
        if defn is not None:
            return _bind_one(defn.params, call.args, index)
    if isinstance(call, s.MergeCall):
        spec = ops.lookup(call.kind)
        if spec is not None and call.args[index].name is not None:
            return _bind_one(list(spec.args), call.args, index, by_alias=True)
    return None


def _bind_one(decls: list, args: list[s.Arg], index: int, by_alias: bool = False):
    arg = args[index]
    if arg.name is not None:
        for d in decls:
            if d.name == arg.name or (by_alias and arg.name in getattr(d, "aliases", ())):
                return d
        return None
    positional = [d for d in decls if getattr(d, "positional", True)]
    taken = {a.name for a in args if a.name is not None}
    k = sum(1 for a in args[:index] if a.name is None)
    free = [d for d in positional if d.name not in taken]
    return free[k] if k < len(free) else None


def _argument(ws: Workspace, view: View, t: Target) -> str:
    module = view.analysis.module
    decl = argument_spec(module, t.call, t.arg_index)
    if decl is None:
        return ""
    if isinstance(decl, s.Param):
        owner = module.namespace.get(t.call.ident)
        default = f" = {decl.default.span.text()}" if decl.default is not None else ""
        return f"`{decl.name}{default}`: parameter of block `{owner.name}`"
    kind = t.call.ident if isinstance(t.call, s.Call) else t.call.kind
    head = f"`{decl.name}`: {arg_type(decl.type)}"
    if decl.default is not REQUIRED:
        head += f", default `{_show_default(decl.default)}`"
    else:
        head += ", required"
    out = [head]
    if decl.aliases:
        out.append("also written " + ", ".join(f"`{a}`" for a in decl.aliases))
    if decl.doc:
        out.append(decl.doc)
    insts = item_instances(ws, view, t.call)
    values = []
    for inst in insts:
        v = inst.data["args"].get(decl.name, _MISSING)
        if v is not _MISSING:
            shown = _show_value(v)
            if shown not in values:
                values.append(shown)
    if values:
        out.append(f"in this {kind}: " + ", ".join(f"`{v}`" for v in values[:MAX_ROWS]))
    return "\n\n".join(out)


_MISSING = object()


def _show_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        return "x".join(map(str, v))
    if isinstance(v, list):
        return "[...]"
    if v is None:
        return "none"
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)


# ---------------------------------------------------------------------------- the rest
def _import(view: View, imp: s.Import) -> str:
    a = view.analysis
    module = a.module
    names = []
    if module is not None:
        names = sorted(n for n, d in module.namespace.items()
                       if d.module is not module and d.module is not None)
    out = [f"import {_code(imp.path)}"]
    if names:
        out.append("defines " + ", ".join(f"`{n}`" for n in names))
    return "\n\n".join(out)


def _input(view: View) -> str:
    ir = view.analysis.ir
    if ir is None or ir.input is None:
        return "`input`: the shape of one sample (the batch left out)"
    return f"`input` **{fmt_shape(ir.node(ir.input)['shape'])}**: the shape of one sample " \
           "(the batch left out)"


def _fenced(text: str) -> str:
    """User text (a comment) shown verbatim: in a fence longer than any run of backticks in
    it, so nothing in a file can become a link, an image or markup in the hover."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _code(text: str) -> str:
    """User text as inline code, whatever backticks it holds."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    tick = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{tick}{pad}{text}{pad}{tick}"


__all__ = ["ATTR_DOCS", "SHAPE_ATTRS", "argument_spec", "definition_signature", "hover",
           "signature"]
