"""The checked network object the API returns: the IR plus what people ask of it."""

from __future__ import annotations

from .ir import IR
from .passes.analysis import Totals


class Network:
    """A checked network.

    >>> import archdsl
    >>> net = archdsl.zoo("lenet5")
    >>> net.params, net.output_shape
    (61706, (10,))
    """

    def __init__(self, ir: IR, *, source: str | None, params_used: dict, diagnostics=()):
        self.ir = ir
        self.source = source
        self.params_used = dict(params_used)
        self.diagnostics = list(diagnostics)

    # ------------------------------------------------------------------ facts
    @property
    def name(self) -> str:
        return self.ir.name

    @property
    def graph(self):
        """The IR as a networkx MultiDiGraph (node attributes: op, args, name, shape, span...)."""
        return self.ir.graph

    @property
    def totals(self) -> Totals:
        return self.ir.attrs["totals"]

    @property
    def params(self) -> int:
        return self.totals.params

    @property
    def trainable_params(self) -> int:
        return self.totals.trainable_params

    @property
    def macs(self) -> int:
        return self.totals.macs

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.ir.node(self.ir.input)["shape"]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.ir.node(self.ir.output)["shape"]

    def layer(self, name: str) -> dict:
        """A node's attributes by its module path, e.g. `net.layer("conv1")["shape"]`."""
        return self.ir.node(self.ir.by_name(name))

    def layers(self) -> list[dict]:
        return [data for _, data in self.ir.layers()]

    # ------------------------------------------------------------------ views
    def summary(self, depth: int | None = None, fmt: str = "table", *,
                convention: str = "archdsl", unit: str = "macs", memory: bool = False,
                batch: int = 1, optimizer: str = "adam") -> str:
        """The per-layer table (`fmt` "table", "markdown" or "json"). `convention` and `unit`
        choose what the work column counts (`count`); `memory=True` adds the estimate of
        `memory(batch, optimizer)`."""
        from .passes.counting import count
        from .summary import render

        work = count(self.ir, convention, unit) if (convention, unit) != ("archdsl", "macs") \
            else None
        mem = self.memory(batch, optimizer) if memory else None
        return render(self.ir, depth=depth, fmt=fmt, work=work, memory=mem)

    def count(self, convention: str = "archdsl", unit: str = "macs") -> int:
        """The network's work as a convention counts it (docs/counting.md): "archdsl" (conv
        and linear MACs, torch's FlopCounterMode / 2), "torchinfo", "fvcore" or "ptflops";
        `unit` "macs" or "flops" (2 x MACs).

        >>> import archdsl
        >>> archdsl.zoo("lenet5").count("torchinfo")
        423038
        """
        from .passes.counting import count

        return count(self.ir, convention, unit).total

    def memory(self, batch: int = 1, optimizer: str = "adam"):
        """The memory estimate (dsl/passes/memory.py) for a batch and an optimizer ("sgd",
        "momentum", "adam", "adamw"): bytes of parameters, gradients, optimizer state and
        activations; `.training`, `.inference` and `.to_json()`.

        >>> import archdsl
        >>> archdsl.zoo("lenet5").memory(batch=1, optimizer="sgd").gradients
        246824
        """
        from .passes.memory import estimate

        return estimate(self.ir, batch, optimizer)

    def to_json(self) -> dict:
        from .summary import to_json

        return to_json(self.ir)

    def __repr__(self) -> str:
        shape = "x".join(map(str, self.input_shape))
        return (f"<Network {self.name}: input {shape}, {len(self.ir) - 1} layers, "
                f"{self.params:,} params, {self.macs:,} MACs>")

    # ------------------------------------------------------------------ backends (lazy)
    def to_torch(self, **kw):
        """An ordinary torch.nn.Module (torch is imported only now)."""
        from .backends.torch import to_torch

        return to_torch(self, **kw)

    def to_source(self, **kw) -> str:
        from .backends.torch import to_source

        return to_source(self, **kw)

    def to_onnx(self, path: str, **kw):
        from .backends.torch import to_onnx

        return to_onnx(self, path, **kw)

    def to_dot(self, **kw) -> str:
        from .backends.graphviz import to_dot

        return to_dot(self.ir, **kw)

    def draw(self, path: str, **kw) -> str:
        from .backends.graphviz import draw

        return draw(self.ir, path, **kw)

    def _repr_svg_(self):
        from .backends.graphviz import svg_or_none

        return svg_or_none(self.ir)
