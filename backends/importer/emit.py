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


def network_text(traced, items, name: str) -> str:
    lines, _ = render(traced, items, 0, traced.output, collect=False, comments=True)
    shape = "x".join(str(d) for d in traced.input_shape)
    body = [f"input {shape}", *collapse(lines)]
    return "\n".join([f"network {name} {{", *("    " + x for x in body), "}"])


def file_text(traced, items, blocks, name: str, source: str | None) -> str:
    from archdsl.format import format_text

    parts = ["\n".join(header(source, traced.input_shape))]
    parts += [b.text() for b in blocks]
    parts.append(network_text(traced, items, name))
    return format_text("\n\n".join(parts) + "\n", f"{name}.arch")
