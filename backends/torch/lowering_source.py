"""The function kinds (merges, resizes, reshapes) as Python expression text, without torch.

`LOWERINGS` says what each kind becomes; for a `function` kind, this table says how the
generated forward writes it: `SOURCES[kind](args, ins)` gets the resolved arguments and the
names of the input variables and returns an expression (`torch.cat([a, b], 1)`), or, for an
`add` that may overwrite its first summand, an `InPlace` statement (`a += b`). The source
generator imports this module, never torch (`archdsl compile` writes text). The texts are the
torch calls of `lowering.py`'s fx functions, call for call, so `to_torch` (which runs the
generated source) computes what the earlier fx lowering computed; tests/torch/test_kinds.py
and test_structure.py hold every kind to torch itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from archdsl.escape import py_value

py = py_value


@dataclass(frozen=True)
class InPlace:
    """`target += other`, then (more summands) `target + rest...` as the value."""

    other: str
    rest: tuple[str, ...] = ()


def _dim(d: int) -> int:
    return d + 1 if d >= 0 else d


def _chain(symbol: str) -> Callable:
    def text(a: dict, ins: list[str]) -> str:
        return f" {symbol} ".join(ins)

    return text


def _fn_chain(name: str) -> Callable:
    def text(a: dict, ins: list[str]) -> str:
        out = ins[0]
        for other in ins[1:]:
            out = f"torch.{name}({out}, {other})"
        return out

    return text


def _add(a: dict, ins: list[str]):
    # torchvision's `out += identity`: the plan found the first summand free to overwrite
    # (a broadcasting add may grow it: never then)
    if a.get("inplace") and not a.get("broadcast") and len(ins) > 1:
        return InPlace(ins[1], tuple(ins[2:]))
    return " + ".join(ins)


def _cat(a: dict, ins: list[str]) -> str:
    return f"torch.cat([{', '.join(ins)}], {_dim(a.get('dim', 0))})"


def _upsample(a: dict, ins: list[str]) -> str:
    parts = [ins[0]]
    if a.get("like") is not None:
        parts.append(f"size={ins[a['like']]}.shape[2:]")
    elif a.get("size") is not None:
        parts.append(f"size={py(a['size'])}")
    else:
        parts.append(f"scale_factor={py(a['scale'])}")
    parts.append(f"mode={py(a['mode'])}")
    if a.get("align_corners") is not None:
        parts.append(f"align_corners={py(a['align_corners'])}")
    return f"nn.functional.interpolate({', '.join(parts)})"


def _piece(a: dict, ins: list[str]) -> str:
    return f"torch.narrow({ins[0]}, {_dim(a['dim'])}, {a['start']}, {a['length']})"


def _crop(a: dict, ins: list[str]) -> str:
    # centred per spatial dimension; sizes read from the tensors when the forward runs
    x = ins[0]
    ref = ins[a["like"]] if a.get("like") is not None else None
    out = x
    for i in range(a["rank"]):
        dim = i + 2
        want = f"{ref}.shape[{dim}]" if ref is not None else str(a["size"][i])
        out = f"torch.narrow({out}, {dim}, ({x}.shape[{dim}] - {want}) // 2, {want})"
    return out


def _reshape(a: dict, ins: list[str]) -> str:
    return f"torch.reshape({ins[0]}, {py((-1, *a['shape']))})"


# The reorders hand on a copy in the default layout, not torch's strided view: a channels-last
# view reaching a later conv sends it down oneDNN's channels-last CPU kernels, which crash or
# compute wrong numbers for some configurations, and an LRN cannot take a view at all.
# `clone(memory_format=...)`, not `contiguous()`: with sizes of 1 a view counts as contiguous.
_DEFAULT_LAYOUT = ".clone(memory_format=torch.contiguous_format)"


def _permute(a: dict, ins: list[str]) -> str:
    return (f"torch.permute({ins[0]}, {py((0, *(d + 1 for d in a['dims'])))})"
            + _DEFAULT_LAYOUT)


def _transpose(a: dict, ins: list[str]) -> str:
    return (f"torch.transpose({ins[0]}, {_dim(a['dim0'])}, {_dim(a['dim1'])})"
            + _DEFAULT_LAYOUT)


def _mean(a: dict, ins: list[str]) -> str:
    dims = tuple(d + 1 for d in a["dims"])
    return f"torch.mean({ins[0]}, {py(dims)}, {py(a['keepdim'])})"


def _pad(a: dict, ins: list[str]) -> str:
    extra = f", {py(a['value'])}" if a["mode"] == "constant" and a["value"] != 0 else ""
    return f"nn.functional.pad({ins[0]}, {py(tuple(a['pad']))}, {py(a['mode'])}{extra})"


SOURCES: dict[str, Callable] = {
    "concat": _cat,
    "add": _add,
    "mul": _chain("*"),
    "sub": _chain("-"),
    "div": _chain("/"),
    "max": _fn_chain("maximum"),
    "min": _fn_chain("minimum"),
    "upsample": _upsample,
    "chunk": _piece,
    "split": _piece,
    "crop": _crop,
    "reshape": _reshape,
    "permute": _permute,
    "transpose": _transpose,
    "mean": _mean,
    "pad": _pad,
}
