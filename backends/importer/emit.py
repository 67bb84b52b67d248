"""The `.arch` text of an imported model: a header, the recovered blocks, the network;
formatted by archdsl's formatter (the same as `archdsl fmt`)."""

from __future__ import annotations

from archdsl.escape import visible

from .render import collapse, render


def header(source: str | None, input_shape: tuple) -> list[str]:
    from archdsl import __version__

    shape = "x".join(str(d) for d in input_shape)
    where = visible(" ".join(source.split())) if source else "a Python module"
    return [f"# From {where} by `archdsl import` (archdsl {__version__}), input {shape}.",
            "# Compiled, it has the original's state_dict keys, in order, and its outputs."]


def classifier(traced, items):
    """The final linear when the network ends with one outside any block: its width becomes
    the network's parameter `classes` (`archdsl summary --set classes=10`)."""
    from .blocks import walk

    op = traced.ops.get(traced.output)
    if op is None or op.kind != "linear":
        return None
    for c in walk(items):
        if c.block is not None and (op.scope == c.scope.path
                                    or op.scope.startswith(c.scope.path + ".")):
            return None
    return op


def network_text(traced, items, name: str) -> str:
    head = classifier(traced, items)
    lines, _ = render(traced, items, 0, traced.output, collect=False, comments=True,
                      classes_op=head.id if head is not None else None)
    shape = "x".join(str(d) for d in traced.input_shape)
    body = [f"input {shape}", *collapse(lines)]
    params = ""
    if head is not None:
        params = f"(classes = {dict((n, v) for n, v, _ in head.args)['features']})"
    return "\n".join([f"network {name}{params} {{", *("    " + x for x in body), "}"])


def file_text(traced, items, blocks, name: str, source: str | None) -> str:
    from archdsl.format import format_text

    head = header(source, traced.input_shape)
    if traced.output_key is not None:
        key = visible(repr(traced.output_key))
        head.append(f"# The model returns {{{key}: x}}; this network returns x.")
    parts = ["\n".join(head)]
    parts += [b.text() for b in blocks]
    parts.append(network_text(traced, items, name))
    return format_text("\n\n".join(parts) + "\n", f"{name}.arch")
