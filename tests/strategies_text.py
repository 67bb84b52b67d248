"""Hypothesis strategies for `.arch` program text built from every construct of the grammar.

`programs()` draws whole files: zero to two parametric blocks (parameters with defaults) and
a network that uses layers with varied arguments, labels, groups, branches merged by `add`
and `concat`, named values merged by `add(x, y)`, lists, repetition, conditionals (items and
expressions), block calls (plain and `inline`), `in` and `x` (the current tensor), `init`
statements, loops, `let` constants, computed labels, and
expressions over lists and tuples (indexing, slicing, the value functions). The layout is
deliberately untidy (random separators, indentation, blank lines, comments alone and after
code, non-ASCII text) so that the formatter has something to do. Programs are syntactically
valid by construction; they may still fail to check (a kernel larger than its input, a
misspelt parameter): the property is that they then fail only with diagnostics.

`signature(result)` is what must not change when a file is reformatted: every IR node's name,
op, resolved arguments and shape, every edge with its input position, and the diagnostics.
"""

from __future__ import annotations

from hypothesis import strategies as st

LAYERS = [
    "relu", "tanh", "sigmoid", "gelu", "relu6", "identity", "batchnorm", "flatten",
    "relu()", "dropout(0.5)", "dropout(p=0.25)", "leaky_relu(0.1)", "lrn(3, alpha=1e-4)",
    "softmax(0)", "maxpool(2x2, stride=2)", "maxpool(3, stride=1, pad=1, ceil=true)",
    "avgpool(2x2)", "avgpool(global=true)", "adaptive_avgpool(1)", "adaptive_avgpool(2x2)",
]
COMMENT_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
                       max_size=12)
NAMES = ["a", "b", "c", "x", "y", "conv1", "fc", "stem", "head", "_x2"]


@st.composite
def comment(draw) -> str:
    return "#" + draw(COMMENT_TEXT)


@st.composite
def sep(draw) -> str:
    """What goes between two items: a newline, `;`, blanks, a comment, or a blank line."""
    choice = draw(st.integers(0, 6))
    indent = " " * draw(st.integers(0, 6))
    if choice == 0:
        return "; "
    if choice == 1:
        return " ;"
    if choice == 2:
        return "\n" + indent
    if choice == 3:
        return "\n\n" + indent
    if choice == 4:
        return "  " + draw(comment()) + "\n" + indent
    if choice == 5:
        return "\n" + indent + draw(comment()) + "\n" + indent
    return " "


# ---------------------------------------------------------------------------- expressions

@st.composite
def int_expr(draw, names: tuple[str, ...] = (), depth: int = 0) -> str:
    """An integer-valued expression (a few may fail: `x // 0`, a negative size)."""
    leaves = [st.integers(1, 64).map(str)]
    if names:
        leaves.append(st.sampled_from(names))
    leaves.append(st.sampled_from(["in.channels", "x.channels"]))  # the block's input, the current
    if depth >= 2:
        return draw(st.one_of(*leaves))
    kind = draw(st.integers(0, 9))
    sub = int_expr(names, depth + 1)
    if kind == 0:
        return f"{draw(sub)} {draw(st.sampled_from(['+', '*', '//', '%', '-']))} {draw(sub)}"
    if kind == 1:
        return f"({draw(sub)})"
    if kind == 2:
        return f"{draw(st.sampled_from(['min', 'max']))}({draw(sub)}, {draw(sub)})"
    if kind == 3:
        text = f"if {draw(cond_expr(names, depth + 1))} then {draw(sub)} else {draw(sub)}"
        return text if depth == 0 else f"({text})"  # an operand `if` needs parentheses
    if kind == 4:
        return f"{draw(st.integers(1, 3))} ** {draw(st.integers(0, 3))}"
    if kind == 5:
        return f"-(-{draw(sub)})"
    if kind == 6:  # values: lists, tuples, indexing, slicing and the functions of builtins.py
        return draw(st.sampled_from([
            f"[{draw(sub)}, 2, 3][1]", f"len([{draw(sub)}, 4])", f"sum(({draw(sub)}, 2))",
            f"[(1, {draw(sub)}), (3, 4)][0][-1]", f"max([{draw(sub)}, 5][1:])",
            f"len(range({draw(st.integers(0, 5))}))", f"min(([7] + [{draw(sub)}])[:2])",
            f"enumerate([4, {draw(sub)}])[1][1]", f"zip([1], [{draw(sub)}])[0][1]",
            f"sum([x * 2 for x in [{draw(sub)}, 3] if x > 1])",
            f"[a for (a, b) in [(1, {draw(sub)})]][0]"]))
    if kind == 7:
        fn = draw(st.sampled_from(["round", "floor", "ceil", "int", "abs"]))
        return f"{fn}({draw(sub)} / {draw(st.sampled_from(['3', '2.5', '4']))})"
    return draw(st.one_of(*leaves))


@st.composite
def cond_expr(draw, names: tuple[str, ...] = (), depth: int = 0) -> str:
    kind = draw(st.integers(0, 4 if depth < 2 else 1))
    if kind == 0:
        return draw(st.sampled_from(["true", "false"]))
    if kind == 1:
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
        return f"{draw(int_expr(names, 2))} {op} {draw(int_expr(names, 2))}"
    if kind == 2:
        return f"not {draw(cond_expr(names, depth + 1))}"
    if kind == 3:
        return f"({draw(cond_expr(names, depth + 1))})"
    op = draw(st.sampled_from(["and", "or"]))
    return f"{draw(cond_expr(names, depth + 1))} {op} {draw(cond_expr(names, depth + 1))}"


# ---------------------------------------------------------------------------- items

@st.composite
def layer(draw, names: tuple[str, ...]) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.sampled_from(LAYERS))
    if kind == 1:  # a conv with varied arguments
        filters = draw(int_expr(names))
        k = draw(st.sampled_from(["1x1", "3x3", "3", "(1, 3)", "2x2"]))
        extra = draw(st.lists(st.sampled_from(
            ["stride=2", "pad=1", "pad=same", "bias=false", "dilation=1", "groups=1",
             "s=1", "padding=(0, 1)"]), max_size=3, unique=True))
        if "pad=same" in extra:
            extra = [e for e in extra if not e.startswith(("stride", "s=", "padd"))]
        return "conv(" + ", ".join([filters, k, *extra]) + ")"
    if kind == 2:
        bias = draw(st.sampled_from(["true", "false"]))
        return f"linear({draw(int_expr(names))}, bias={bias})"
    scale = draw(st.sampled_from(["16", "16.0"]))
    return f"conv([[1, 2, 1], [2, 4, 2], [1, 2, 1]] / {scale}, pad=1)"


@st.composite
def item(draw, ctx: dict, depth: int = 0) -> str:
    """One item of a body; `ctx` holds the names in scope and the callable blocks."""
    names = tuple(ctx["params"])
    leaf_only = depth >= 3
    kind = draw(st.integers(0, 4 if leaf_only else 15))
    if kind <= 3:
        return draw(layer(names))
    if kind == 4:
        return f"{draw(st.sampled_from(NAMES))}: {draw(layer(names))}"
    if kind == 5:
        return "{" + draw(body_items(ctx, depth + 1)) + "}"
    if kind == 6:
        merge = draw(st.sampled_from(["add", "concat"]))
        branches = draw(st.lists(st.one_of(
            st.just("{}"), body_items(ctx, depth + 1).map(lambda b: "{" + b + "}")),
            min_size=1, max_size=3))
        return f"{merge} {{ " + draw(sep()).replace(";", "").join(branches) + " }"
    if kind == 7:
        count = draw(st.sampled_from(["0", "1", "2", "(1 + 1)", "3"]))
        inner = draw(st.one_of(layer(names), body_items(ctx, depth + 1).map(
            lambda b: "{" + b + "}")))
        return f"{inner} * {count}"
    if kind == 8:
        # `else` takes an item without a label: a layer, a group or another `if`
        other = draw(st.one_of(
            st.just(""), layer(names).map(lambda i: " else " + i),
            body_items(ctx, depth + 1).map(lambda b: " else {" + b + "}"),
            item(ctx, 3).filter(lambda i: i.startswith("if ")).map(lambda i: " else " + i)))
        return f"if {draw(cond_expr(names))} {{{draw(body_items(ctx, depth + 1))}}}{other}"
    if kind == 9:
        parts = draw(st.lists(item(ctx, depth + 1), min_size=0, max_size=3))
        return "[" + ", ".join(parts) + "]"
    if kind == 10 and ctx["blocks"]:
        name, params = draw(st.sampled_from(ctx["blocks"]))
        args = [draw(int_expr(names)) for _ in params[:1]]
        if len(params) > 1 and draw(st.booleans()):
            args.append(f"{params[1]}={draw(int_expr(names))}")
        # `inline b(...)`: the block's layers in this scope (never labelled: E0231)
        inline = "inline " if depth and draw(st.booleans()) else ""
        return f"{inline}{name}({', '.join(args)})"
    if kind == 11:  # named values, merged by a call
        v = draw(st.sampled_from(["u", "v"]))
        ctx["values"].add(v)
        return f"{v} = {draw(layer(names))}"
    if kind == 12 and ctx["values"]:
        vals = sorted(ctx["values"])
        merge = draw(st.sampled_from(["add", "concat"]))
        picked = draw(st.lists(st.sampled_from(vals), min_size=1, max_size=3))
        return f"{merge}({', '.join(picked)})"
    if kind == 13:
        return f"{draw(st.sampled_from(NAMES))}: {{{draw(body_items(ctx, depth + 1))}}}"
    if kind == 14:  # a loop, its variables in scope of its body
        var, what = draw(st.sampled_from([
            ("i", f"range({draw(st.integers(0, 3))})"), ("i", "[1, 2]"),
            ("i, (p, q)", "enumerate([(1, 2), (3, 4)])"), ("(i, p)", "zip([1, 2], (3, 4))"),
            ("i", "in.shape[:1]")]))
        inner = dict(ctx, params=(*names, "i", *(("p",) if "p" in var else ()),
                                  *(("q",) if "q" in var else ())))
        label = draw(st.sampled_from(["", "stage: "]))
        return f"{label}for {var} in {what} {{{draw(body_items(inner, depth + 1))}}}"
    # a computed label, unique per iteration when a loop's `i` is in scope
    part = "i" if "i" in names else draw(int_expr(names, 2))
    return f"n{{{part}}}{draw(st.sampled_from(['', '_x', '0']))}: {draw(layer(names))}"


@st.composite
def body_items(draw, ctx: dict, depth: int = 0) -> str:
    items = draw(st.lists(item(ctx, depth), min_size=0, max_size=4 if depth else 6))
    if draw(st.integers(0, 4)) == 0:  # a constant: a statement of a body, not an item
        target = draw(st.sampled_from(["k1", "(k2, k3)"]))
        value = draw(int_expr(tuple(ctx["params"])))
        items.insert(draw(st.integers(0, len(items))),
                     f"let {target} = " + (f"({value}, 2)" if "(" in target else value))
    out = draw(sep())
    for it in items:
        out += it + draw(sep())
    return out if not out.endswith(" ;") else out + " "


# ---------------------------------------------------------------------------- files

@st.composite
def block_def(draw, index: int, blocks: list) -> tuple[str, tuple[str, ...]]:
    name = f"blk{index}"
    params = ("w", "k")[: draw(st.integers(1, 2))]
    header = params[0]
    if len(params) > 1:
        header += f", {params[1]} = {draw(int_expr(params[:1]))}"
    ctx = {"params": params, "blocks": list(blocks), "values": set()}
    body = draw(body_items(ctx, 1))
    if draw(st.booleans()):
        body = f"\n    init conv.weight = kaiming_normal(mode=\"fan_out\"){draw(sep())}" + body
    return f"block {name}({header}) {{{body}}}", (name, params)


@st.composite
def programs(draw) -> str:
    """A whole `.arch` file (text)."""
    parts, blocks = [], []
    if draw(st.booleans()):
        parts.append(draw(comment()) + "\n")
    for i in range(draw(st.integers(0, 2))):
        text, sig = draw(block_def(i, blocks))
        blocks.append(sig)
        parts.append(text + draw(st.sampled_from(["\n", "\n\n", " ", "\n\n\n"])))
    ctx = {"params": ("c",), "blocks": blocks, "values": set()}
    shape = draw(st.sampled_from(["3x16x16", "1x8x8", "8x12x12", "16", "(3, 8, 8)"]))
    inp = f"input {shape}" if not shape.startswith("(") else f"input{shape}"
    body = draw(body_items(ctx))
    parts.append(f"network net(c = {draw(st.integers(1, 16))}) {{{draw(sep())}{inp}"
                 f"{draw(sep()).replace(';', '')}\n{body}}}")
    if draw(st.booleans()):
        parts.append("  " + draw(comment()))
    return "".join(parts) + draw(st.sampled_from(["", "\n"]))


def signature(result) -> tuple:
    """What reformatting must keep: the IR (names, ops, arguments, shapes, edges) and the
    diagnostics (codes and messages)."""
    # as a multiset: diagnostics are ordered by line, and formatting may split one line of
    # items (`add { { linear(c) # ... } }`) into several, reordering two of one source line
    diags = tuple(sorted((d.code, d.message) for d in result.diagnostics.items))
    ir = result.ir
    if ir is None:
        return None, diags
    nodes = tuple((d["name"], d["op"], repr(sorted(d["args"].items())), d["shape"])
                  for _, d in ir.nodes())
    edges = tuple(sorted((ir.node(a)["name"], ir.node(b)["name"], k)
                         for a, b, k in ir.graph.edges(keys=True)))
    return nodes, edges, diags
