"""The front end's pipeline, in order, in one place:

    read + parse (with imports)  ->  choose the network  ->  elaborate (names, shapes)
    ->  analyses (params, MACs, memory, receptive field)  ->  verify

Each step appends diagnostics; the caller decides whether to raise or to go on with a
partial IR (the summary and the diagram still show everything up to the first error).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from . import syntax as s
from .budget import Budget
from .diagnostics import Diagnostics
from .elaborate import Elaborator, Limits
from .gcpause import paused_gc
from .ir import IR
from .loader import Loader, LoadOptions
from .passes import analysis
from .source import Span


@dataclass
class Result:
    ir: IR | None
    diagnostics: Diagnostics
    module: s.Module | None
    definition: s.Definition | None
    budget: Budget | None = None  # the run's work budget: what was spent on what


def _file_start(module: s.Module) -> Span:
    """Where a diagnostic about the whole file points: its first definition, or its start."""
    if module.definitions:
        return module.definitions[0].name_span
    return Span(module.span.source, 0, 0)


def choose_network(module: s.Module, diags: Diagnostics, name: str | None,
                   stem: str | None) -> s.Definition | None:
    nets = [d for d in module.definitions if d.kind == "network"]
    if name is not None:
        for d in nets:
            if d.name == name:
                return d
        imported = module.namespace.get(name)
        if imported is not None and imported.kind == "network":
            return imported
        from .argspec import suggest

        hint = suggest(name, [d.name for d in nets])
        diags.error("E0212", f"no network named `{name}` in {module.path}" +
                    (f" (did you mean `{hint}`?)" if hint else ""), _file_start(module),
                    help="networks here: " + (", ".join(d.name for d in nets) or "none"))
        return None
    if len(nets) == 1:
        return nets[0]
    if not nets:
        return None
    for d in nets:
        if d.name == stem:
            return d
    diags.error("E0212", f"{module.path} defines several networks: "
                + ", ".join(d.name for d in nets), nets[1].name_span,
                help="choose one with --network NAME (or network=... in the API)")
    return None


@paused_gc()
def run(**kw) -> Result:
    """Run the front end (keywords as for `_run`); an internal error (a bug) leaves with
    `arch_location`, the `.arch` file or line being processed, for the CLI's one-line report."""
    try:
        result = _run(**kw)
        result.diagnostics.sort()  # in source order, whatever order the passes found them in
        return result
    except Exception as exc:
        if not hasattr(exc, "arch_location"):
            exc.arch_location = kw.get("display") or kw.get("path") or "<string>"
        raise


def _run(*, path: str | None = None, text: str | None = None, display: str | None = None,
         params: dict | None = None, input_shape=None, network: str | None = None,
         limits: Limits | None = None, load: LoadOptions | None = None,
         require_network: bool = True, base_dir: str | None = None) -> Result:
    limits = limits or Limits()
    budget = Budget(limits.max_work)  # one for the whole run: parsing and elaboration
    diags = Diagnostics()
    diags.budget = budget
    load = replace(load or LoadOptions(), max_import_depth=limits.max_import_depth,
                   max_file_size=limits.max_file_size)
    loader = Loader(diags, load, budget)
    if path is not None:
        module = loader.load_file(path, display)
        stem = os.path.splitext(os.path.basename(path))[0]
    else:
        module = loader.load_text(text or "", display or "<string>", base_dir)
        stem = None
    if module is None or (diags.has_errors and not module.definitions):
        return Result(None, diags, module, None, budget)
    defn = choose_network(module, diags, network, stem)
    if defn is None:
        if require_network and not diags.has_errors:
            diags.error("E0212", f"{module.path} defines no network", _file_start(module),
                        help="add `network name { input 3x224x224 ... }`, or use it as a "
                             "library with `import`")
        return Result(None, diags, module, None, budget)
    if diags.has_errors:
        return Result(None, diags, module, defn, budget)
    ir = Elaborator(diags, limits, budget).network(defn, params, input_shape)
    # What a command line must say to choose this network and input again (the regenerate
    # line of a compiled file): the network when the file has several, the input if given.
    several = sum(d.kind == "network" for d in module.definitions) > 1
    ir.attrs["chosen"] = {"network": defn.name if several or network is not None else None,
                          "input": tuple(input_shape) if input_shape is not None else None}
    analysis.run(ir)
    ir.verify(complete=not diags.has_errors)
    return Result(ir, diags, module, defn, budget)
