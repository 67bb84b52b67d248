"""`ArchModule`: the fx `GraphModule` that `to_torch` returns, and the run-time error that points
back into the `.arch` file.

Two things differ from a plain `GraphModule`:

- It keeps the *whole* module tree in IR order. `GraphModule` copies only the submodules its
  graph calls, in call order; a branch that does not reach the output (GoogLeNet's auxiliary
  heads) must still be there, with its `state_dict` keys, where torchvision has them.
- A failure inside `forward` is re-raised as `ArchRuntimeError`, naming the layer, its `.arch`
  location, and the input shape it expected next to the one it got. The mapping costs nothing
  on the normal path: one `try` around the call (free in CPython 3.11+ until something raises);
  only when an exception arrives is the traceback walked to the generated forward's frame, whose
  line is the failing fx node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import fx, nn


@dataclass(frozen=True)
class LayerInfo:
    """What a run-time error says about a layer (plain data, so it pickles)."""

    name: str  # the IR name: `layer1.0.conv1`
    label: str  # `conv 64 1x1 /1 p0`
    location: str  # `architectures/resnet50.arch:9:5`
    expects: tuple[tuple[int, ...], ...]  # input shapes, batch left out


class ArchRuntimeError(RuntimeError):
    """A compiled network failed while running; the message names the `.arch` layer and line.

    The original exception is `__cause__`; `layer` and `location` carry the facts.
    """

    def __init__(self, message: str, layer: str, location: str):
        super().__init__(message)
        self.layer = layer
        self.location = location


def _fmt(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


# `name = ...`, or fx's augmented form `a += b;  name = a` (an accumulating residual add)
_ASSIGN = re.compile(r"\s*(?:\w+ \S+= [^;]+;\s+)?(\w+) = ")


class ArchModule(fx.GraphModule):
    """The compiled network: an `nn.Module` whose `forward` is straight-line fx code."""

    def __init__(self, root: nn.Module, graph: fx.Graph, class_name: str = "GraphModule",
                 layers: dict[str, LayerInfo] | None = None,
                 input_shape: tuple[int, ...] | None = None):
        super().__init__(root, graph, class_name)
        # Replace the containers GraphModule rebuilt for the called modules with the complete
        # tree, registered in IR order (dead branches included).
        self.__dict__["_modules"] = dict(root._modules)
        self._arch_layers = dict(layers if layers is not None
                                 else getattr(root, "_arch_layers", {}))
        # The input without the batch: `model(torch.randn(2, *model.input_shape))`.
        shape = input_shape if input_shape is not None else getattr(root, "input_shape", None)
        self.input_shape = tuple(shape) if shape is not None else None

    def __str__(self) -> str:
        """The module tree, as for any `nn.Module` (fx would append its generated code:
        `model.code` or `model.print_readable()` shows that)."""
        return nn.Module.__repr__(self)

    __repr__ = __str__

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

    # -------------------------------------------------------------------- error mapping
    def _locate(self, exc: BaseException) -> ArchRuntimeError | None:
        code = type(self).forward.__code__
        tb, frame, lineno = exc.__traceback__, None, None
        while tb is not None:
            if tb.tb_frame.f_code is code:
                frame, lineno = tb.tb_frame, tb.tb_lineno
            tb = tb.tb_next
        if frame is None:
            return None
        lines = self.code.split("\n")
        match = _ASSIGN.match(lines[lineno - 1]) if 0 < lineno <= len(lines) else None
        node = next((n for n in self.graph.nodes if match and n.name == match.group(1)), None)
        if node is None:
            return None
        info = self._arch_layers.get(node.target if node.op == "call_module" else node.name)
        if info is None:
            return None
        got = []
        for arg in node.all_input_nodes:
            value = frame.f_locals.get(arg.name)
            got.append(tuple(value.shape) if isinstance(value, torch.Tensor) else None)
        msg = f"layer `{info.name}` ({info.label}) at {info.location} failed"
        if got and None not in got and [g[1:] for g in got] != list(info.expects):
            want = ", ".join(_fmt(("N", *s)) for s in info.expects)
            have = ", ".join(_fmt(s) for s in got)
            msg += f": it expects input {want} but got {have}"
        msg += f"\n  caused by {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return ArchRuntimeError(msg, info.name, info.location)

    # -------------------------------------------------------------------- copies
    def _deepcopy_init(self):
        name = type(self).__name__

        def init(res, fake_mod, graph):
            ArchModule.__init__(res, fake_mod, graph, class_name=name)

        return init

    def __reduce__(self):
        fn, args = super().__reduce__()
        return (_rebuild, (fn, args, type(self).__name__))


def _rebuild(fn, args, class_name: str) -> ArchModule:
    """Unpickle: GraphModule retraces its code (keeping only called modules); put back the
    whole tree, the error table and the input shape, as an ArchModule again."""
    gm = fn(*args)
    body = args[0]
    root = nn.Module()
    root.__dict__["_modules"] = body["_modules"]
    return ArchModule(root, gm.graph, class_name, body.get("_arch_layers", {}),
                      body.get("input_shape"))
