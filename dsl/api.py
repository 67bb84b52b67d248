"""The Python API: `load`, `parse`, `zoo`. Each returns a checked `Network` or raises one
`ArchError` that carries every diagnostic of the run."""

from __future__ import annotations

import os

from . import zoo_index as _zoo
from .diagnostics import ArchError, Diagnostic
from .elaborate import Limits
from .loader import LoadOptions
from .network import Network
from .pipeline import Result, run


def parse_shape(value) -> tuple[int, ...]:
    """`"3x227x227"`, `(3, 227, 227)` or `[3, 227, 227]` as a shape tuple."""
    if isinstance(value, str):
        parts = value.lower().replace("×", "x").split("x")
        if not all(p.strip().isdigit() and int(p) > 0 for p in parts):
            raise ValueError(f"not a shape: {value!r} (write it like 3x224x224)")
        return tuple(int(p) for p in parts)
    shape = tuple(int(v) for v in value)
    if not shape or any(d < 1 for d in shape):
        raise ValueError(f"not a shape: {value!r}")
    return shape


def network_of(result: Result) -> Network:
    """The `Network` for a pipeline result that has an IR."""
    return Network(result.ir, source=result.definition.span.path if result.definition else None,
                   params_used=result.ir.attrs.get("params_used", {}),
                   diagnostics=result.diagnostics.items)


def _finish(result: Result) -> Network:
    if result.diagnostics.has_errors or result.ir is None:
        diags = result.diagnostics.items or [Diagnostic("E0212", "no network found", None)]
        raise ArchError(diags)
    return network_of(result)


def _options(kw):
    input_shape = kw.pop("input", None)
    network = kw.pop("network", None)
    limits = kw.pop("limits", None) or Limits()
    load = LoadOptions(search_path=tuple(kw.pop("search_path", ())),
                       sandbox=bool(kw.pop("sandbox", False)))
    return dict(input_shape=parse_shape(input_shape) if input_shape is not None else None,
                network=network, limits=limits, load=load, params=kw)


def load(path: str | os.PathLike, **params) -> Network:
    """Load and check a `.arch` file; keyword arguments override network parameters.

    Special keywords: `input="3x227x227"` overrides the input shape, `network="name"` picks
    one of several networks in the file, `sandbox=True` keeps imports inside the file's folder.

    >>> net = load(zoo_path("lenet5"), classes=10)
    >>> net.output_shape
    (10,)
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(path)
    return _finish(run(path=path, **_options(params)))


def parse(text: str, **params) -> Network:
    """Check `.arch` source given as a string (imports resolve from the current folder).

    >>> parse("network tiny { input 1x8x8  conv(4, 3x3)  flatten  linear(2) }").params
    586
    """
    name = params.pop("filename", "<string>")
    return _finish(run(text=text, display=name, **_options(params)))


def zoo(name: str, **params) -> Network:
    """A network of the zoo by name, e.g. `zoo("resnet50", classes=10)`."""
    path = _zoo.path_of(name)
    if path is None:
        from .argspec import suggest

        hint = suggest(name, _zoo.names())
        raise KeyError(f"no zoo network `{name}`" + (f" (did you mean `{hint}`?)" if hint else "")
                       + "; available: " + ", ".join(_zoo.names()))
    return _finish(run(path=path, display=_zoo.display_path(name), **_options(params)))


def zoo_path(name: str) -> str:
    path = _zoo.path_of(name)
    if path is None:
        raise KeyError(name)
    return path


def example_path(name: str) -> str:
    """The path of a shipped example (`examples/` of the source tree, `archdsl.examples` when
    installed), to give to `load` or to the CLI, e.g. `load(example_path("unet"), width=8)`.

    >>> example_path("unet").endswith("unet.arch")
    True
    """
    from importlib.resources import files

    path = files("archdsl.examples") / f"{name}.arch"
    if not path.is_file():
        known = sorted(p.name[:-5] for p in files("archdsl.examples").iterdir()
                       if p.name.endswith(".arch"))
        raise KeyError(f"no example `{name}`; available: " + ", ".join(known))
    return str(path)
