"""The compiled network's module class, and the run-time error that points back into the
`.arch` file.

`to_torch` runs the generated source (source.py) as a module of its own, registered in
`sys.modules` and `linecache` (tracebacks, `inspect` and TorchScript read its lines), and
builds the network's class from it. The instance's class is a subclass of that class and of
`ArchModule`, with the same name; `ArchModule` adds three things:

- A failure inside `forward` is re-raised as `ArchRuntimeError`, naming the layer, its `.arch`
  location, and the input shape it expected next to the one it got. The mapping costs nothing
  on the normal path: one `try` around the call (free in CPython 3.11+ until something raises).
  When an exception arrives, the traceback is walked to its deepest frame that is a layer: a
  leaf module's `forward` (its module path names the layer) or a line of a generated forward
  that computes a layer itself (a merge: the line table names it, relative to the block
  instance whose forward it is).
- Pickling and `deepcopy`: the generated classes live in a module made at run time, so the
  network pickles as "run this source, then restore this state": it unpickles in a fresh
  process too.
- `trace(model)`: the network as one flat `torch.fx` graph whose nodes name their `.arch`
  layers (`meta["arch_name"]`), for the passes of optimize/ and for tests that look at every
  layer's value.
"""

from __future__ import annotations

import hashlib
import linecache
import re
import sys
import types
from dataclasses import dataclass, field

import torch
from torch import fx, nn

from .codegen import LayerInfo

__all__ = ["ArchModule", "ArchRuntimeError", "LayerInfo", "load", "trace"]


class ArchRuntimeError(RuntimeError):
    """A compiled network failed while running; the message names the `.arch` layer and line.

    The original exception is `__cause__`; `layer` and `location` carry the facts.
    """

    def __init__(self, message: str, layer: str, location: str):
        super().__init__(message)
        self.layer = layer
        self.location = location


@dataclass
class Tables:
    """What the network class knows about its generated source."""

    source: str
    filename: str
    cls: str
    layers: dict[str, LayerInfo]  # IR name -> info
    paths: dict[str, str]  # module path -> IR name (leaf modules)
    lines: dict[tuple[str, int], tuple[str, tuple]]  # (class, line) -> (relative name, vars)
    fn_globals: dict = field(default_factory=dict)
    module_paths: dict[str, str] = field(default_factory=dict)  # IR name -> module path


def _fmt(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


class ArchModule(nn.Module):
    """Base of every compiled network's class (the generated class is the other base)."""

    _arch: Tables
    __jit_unused_properties__ = ("code", "source")  # text, not for TorchScript

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except ArchRuntimeError:
            raise
        except Exception as exc:
            located = self._locate(exc)
            if located is None:
                raise
            raise located from exc

    def _locate(self, exc: BaseException) -> ArchRuntimeError | None:
        t = type(self)._arch
        paths = None
        found = None  # (IR name, input values)
        tb = exc.__traceback__
        while tb is not None:
            frame, code = tb.tb_frame, tb.tb_frame.f_code
            owner = frame.f_locals.get("self")
            if isinstance(owner, nn.Module):
                if paths is None:
                    paths = {id(m): p for p, m in self.named_modules(remove_duplicate=False)}
                path = paths.get(id(owner))
                if path is not None and code.co_filename == t.filename:
                    entry = t.lines.get((type(owner).__name__, tb.tb_lineno))
                    if entry is not None:
                        rel, names = entry
                        found = (f"{path}.{rel}" if path else rel,
                                 [frame.f_locals.get(v) for v in names])
                elif path is not None and path in t.paths and code.co_argcount > 1:
                    found = (t.paths[path], [frame.f_locals.get(code.co_varnames[1])])
            tb = tb.tb_next
        if found is None or found[0] not in t.layers:
            return None
        info = t.layers[found[0]]
        got = [tuple(v.shape) if isinstance(v, torch.Tensor) else None for v in found[1]]
        msg = f"layer `{info.name}` ({info.label}) at {info.location} failed"
        if got and None not in got and [g[1:] for g in got] != list(info.expects):
            want = ", ".join(_fmt(("N", *s)) for s in info.expects)
            have = ", ".join(_fmt(s) for s in got)
            msg += f": it expects input {want} but got {have}"
        msg += f"\n  caused by {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return ArchRuntimeError(msg, info.name, info.location)

    @property
    def code(self) -> str:
        """The network class's generated `forward` (as fx's `GraphModule.code`); the whole
        file is `model.source`. (A layer labelled `code` or `source` at the top of the
        network is reached with `model.get_submodule("code")`.)"""
        import inspect

        return inspect.getsource(type(self).forward)

    @property
    def source(self) -> str:
        """The generated file this module was built from (`to_source()`'s text)."""
        return type(self)._arch.source

    def __reduce__(self):
        t = type(self)._arch
        return (_rebuild, (t,), self.__dict__)


def _rebuild(tables: Tables) -> ArchModule:
    cls = network_class(tables)
    return cls.__new__(cls)


_LOADED: dict[str, type] = {}


def load(source: str, name: str, fn_globals: dict | None = None) -> types.ModuleType:
    """Run `source` as a module (once per distinct text): its classes' code has the file name
    `<archdsl name ...>`, whose lines linecache serves."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:16]
    safe = re.sub(r"\W", "_", name)
    modname = f"archdsl_generated_{safe}_{digest}"
    if fn_globals:  # callables of custom kinds: a module of their own
        modname += f"_{id(fn_globals):x}"
    mod = sys.modules.get(modname)
    if mod is not None:
        return mod
    filename = f"<archdsl {name} {digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    mod = types.ModuleType(modname)
    mod.__file__ = filename
    mod.__dict__.update(fn_globals or {})
    sys.modules[modname] = mod
    try:
        exec(compile(source, filename, "exec"), mod.__dict__)
    except BaseException:
        del sys.modules[modname]
        raise
    return mod


def network_class(tables: Tables) -> type:
    key = tables.filename + repr(sorted(tables.fn_globals))
    cached = _LOADED.get(key)
    if (cached is not None and cached._arch.fn_globals is tables.fn_globals) or (
            cached is not None and not tables.fn_globals):
        return cached
    name = tables.filename.split(" ")[1] if " " in tables.filename else "network"
    mod = load(tables.source, name, tables.fn_globals)
    base = getattr(mod, tables.cls)
    cls = type(tables.cls, (ArchModule, base), {"__module__": mod.__name__,
                                                "__qualname__": tables.cls, "_arch": tables})
    if not tables.fn_globals:
        _LOADED[key] = cls
    return cls


# ----------------------------------------------------------------------------- tracing
class _Tracer(fx.Tracer):
    """Every layer of the network is a leaf (runtime.py's classes too), blocks are not."""

    def __init__(self, leaves):
        super().__init__()
        self.leaves = leaves

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return qualname in self.leaves or super().is_leaf_module(m, qualname)


_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


def trace(model: nn.Module) -> fx.GraphModule:
    """The compiled network as one flat fx graph; every node that computes a layer has
    `meta["arch_name"]` (its IR name). Leaf modules are called by their paths."""
    t = type(model)._arch if isinstance(model, ArchModule) else None
    tracer = _Tracer(t.paths if t is not None else {})
    tracer.record_stack_traces = t is not None
    graph = tracer.trace(model)
    gm = fx.GraphModule(tracer.root, graph, type(model).__name__)
    if t is None:
        return gm
    inputs = [n for n, info in t.layers.items() if info.op == "input"]
    for node in gm.graph.nodes:
        name = None
        if node.op == "placeholder" and len(inputs) == 1:
            name = inputs[0]
        elif node.op == "call_module":
            name = t.paths.get(node.target)
        elif node.op in ("call_function", "call_method"):
            stack = node.meta.get("nn_module_stack") or {}
            path, owner = "", type(model)
            if stack:
                path, owner = list(stack.values())[-1]
                owner = owner if isinstance(owner, type) else None
                path = "" if path in ("", "L['self']") else path
            lines = [m for m in _FRAME.finditer(node.stack_trace or "")
                     if m.group("file") == t.filename]
            if lines and owner is not None:
                entry = t.lines.get((owner.__name__, int(lines[-1].group("line"))))
                if entry is not None:
                    name = f"{path}.{entry[0]}" if path else entry[0]
        if name is not None and name in t.layers:
            node.meta["arch_name"] = name
            node.meta["arch_info"] = t.layers[name]
            node.meta["arch_op"] = t.layers[name].op
    return gm


def module_path(model: nn.Module, name: str) -> str:
    """The module path of IR layer `name` in a compiled network (a parameterless numbered
    layer inside a block class is named after its kind there: `layer1.0.0` is
    `layer1.0.relu`); other modules: `name` itself."""
    t = getattr(type(model), "_arch", None)
    if t is None:
        return name
    return t.module_paths.get(name, name)


def submodule(model: nn.Module, name: str) -> nn.Module:
    return model.get_submodule(module_path(model, name))
