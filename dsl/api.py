"""The Python API: `load`, `parse`, `zoo`. Each returns a checked `Network` or raises one
`ArchError` that carries every diagnostic of the run."""

from __future__ import annotations

import os
from collections.abc import Mapping

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


# load()'s own options, keyword-only; everything else given by keyword is a network parameter.
# A network parameter that has one of these names goes in the mapping: load(f, {"limits": 16}).
OPTIONS = ("input", "network", "limits", "search_path", "sandbox")


def _params(func: str, mapping, overrides: dict) -> dict:
    """The network parameters: the mapping, then the keywords (a name in both is an error)."""
    if mapping is None:
        return overrides
    try:
        params = dict(mapping)
    except (TypeError, ValueError):
        raise TypeError(f"{func}(): network parameters are a mapping such as "
                        f"{{'classes': 10}}, got {type(mapping).__name__}") from None
    twice = sorted(set(params) & set(overrides))
    if twice:
        raise TypeError(f"{func}(): parameter {', '.join(map(repr, twice))} given twice, in "
                        "the mapping and as a keyword")
    return {**params, **overrides}


def _option_error(func: str, name: str, value, wanted: str) -> TypeError:
    return TypeError(f"{func}(): `{name}` is an option of {func}() and wants {wanted}, got "
                     f"{value!r}; to set a network parameter named `{name}`, pass "
                     f"parameters as a mapping: {func}(..., {{{name!r}: {value!r}}})")


def _options(func: str, params: dict, *, input, network, limits, search_path,
             sandbox) -> dict:
    if limits is not None and not isinstance(limits, Limits):
        raise _option_error(func, "limits", limits, "an archdsl.Limits")
    if network is not None and not isinstance(network, str):
        raise _option_error(func, "network", network, "a network's name")
    if not isinstance(sandbox, bool):
        raise _option_error(func, "sandbox", sandbox, "True or False")
    if isinstance(search_path, (str, bytes, os.PathLike)) or not all(
            isinstance(p, (str, os.PathLike)) for p in search_path):
        raise _option_error(func, "search_path", search_path, "a list of folders")
    try:
        shape = parse_shape(input) if input is not None else None
    except (TypeError, ValueError) as exc:
        raise _option_error(func, "input", input, "a shape such as '3x224x224'") from exc
    return dict(input_shape=shape, network=network, limits=limits or Limits(),
                load=LoadOptions(search_path=tuple(os.fspath(p) for p in search_path),
                                 sandbox=sandbox), params=params)


def load(path: str | os.PathLike, params: Mapping[str, object] | None = None, /, *,
         input=None, network: str | None = None, limits: Limits | None = None,
         search_path=(), sandbox: bool = False, **overrides) -> Network:
    """Load and check a `.arch` file; a checked `Network`, or `ArchError` with every
    diagnostic (`str(exc)` shows them rendered; `exc.diagnostics` is the data).

    Network parameters: the `params` mapping and/or keywords (`classes=10`). The options are
    keyword-only: `input="3x227x227"` overrides the input shape, `network="name"` picks one
    of several networks in the file, `limits=archdsl.Limits(...)` sets the resource limits,
    `search_path=[...]` adds folders for imports, `sandbox=True` keeps imports inside the
    file's folder. A parameter named like an option goes in the mapping:
    `load(f, {"limits": 16})`.

    >>> net = load(zoo_path("lenet5"), classes=10)
    >>> net.output_shape
    (10,)
    >>> load(zoo_path("lenet5"), {"classes": 7}).output_shape
    (7,)
    """
    path = os.fspath(path)
    opts = _options("load", _params("load", params, overrides), input=input, network=network,
                    limits=limits, search_path=search_path, sandbox=sandbox)
    if not os.path.isfile(path):
        raise FileNotFoundError(path)
    return _finish(run(path=path, **opts))


def parse(text: str, params: Mapping[str, object] | None = None, /, *,
          filename: str = "<string>", input=None, network: str | None = None,
          limits: Limits | None = None, search_path=(), sandbox: bool = False,
          **overrides) -> Network:
    """Check `.arch` source given as a string (imports resolve from the current folder);
    `filename` is how diagnostics name it. Parameters and options as for `load`.

    >>> parse("network tiny { input 1x8x8  conv(4, 3x3)  flatten  linear(2) }").params
    586
    """
    opts = _options("parse", _params("parse", params, overrides), input=input,
                    network=network, limits=limits, search_path=search_path, sandbox=sandbox)
    return _finish(run(text=text, display=filename, **opts))


def zoo(name: str, params: Mapping[str, object] | None = None, /, *, input=None,
        network: str | None = None, limits: Limits | None = None, search_path=(),
        sandbox: bool = False, **overrides) -> Network:
    """A network of the zoo by name, e.g. `zoo("resnet50", classes=10)` (`archdsl zoo` lists
    them). Parameters and options as for `load`."""
    path = _zoo.path_of(name)
    if path is None:
        from .argspec import suggest

        hint = suggest(name, _zoo.names())
        raise KeyError(f"no zoo network `{name}`" + (f" (did you mean `{hint}`?)" if hint else "")
                       + "; available: " + ", ".join(_zoo.names()))
    opts = _options("zoo", _params("zoo", params, overrides), input=input, network=network,
                    limits=limits, search_path=search_path, sandbox=sandbox)
    return _finish(run(path=path, display=_zoo.display_path(name), **opts))


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
