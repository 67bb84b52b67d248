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
    def warnings(self) -> list:
        """The warnings of the run that made this network (`Diagnostic`s, W0001...): a network
        is made whatever its warnings. `archdsl.diagnostics.render_all(net.warnings)` gives them
        as the command line prints them."""
        return [d for d in self.diagnostics if d.severity == "warning"]

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
        """The shape of the (first) output."""
        return self.ir.node(self.ir.output)["shape"]

    @property
    def outputs(self) -> dict[str, tuple[int, ...]]:
        """Each output's name and shape: `{"output": ...}`, or those of `return main, aux`
        (the compiled module returns them as a tuple, in this order)."""
        return {n: self.ir.node(nid)["shape"] for n, nid in self.ir.results()}

    def layer(self, name: str) -> dict:
        """A node's attributes by its module path, e.g. `net.layer("conv1")["shape"]`."""
        return self.ir.node(self.ir.by_name(name))

    def layers(self) -> list[dict]:
        return [data for _, data in self.ir.layers()]

    # ------------------------------------------------------------------ views
    def summary(self, depth: int | None = None, fmt: str = "table", *,
                convention: str = "archdsl", unit: str = "macs", memory: bool = False,
                batch: int = 1, optimizer: str = "adam"):
        """The per-layer table: shapes, parameters, MACs, receptive field, stride; totals.

        `depth` collapses each block or group at that depth (1 = top level) into one row.
        `convention` and `unit` choose what the work column counts (`count`); `memory=True`
        adds the estimate of `memory(batch, optimizer)`. Returns a `Summary`: a `str` (the
        table; its repr too) with `.rows`, `.to_json()`, `.to_markdown()`, shown as HTML in
        Jupyter. `fmt="json"` or `"markdown"` returns that text instead.

        >>> import archdsl
        >>> s = archdsl.zoo("resnet50").summary(depth=1)
        >>> [r["name"] for r in s.rows][:3]
        ['conv1', 'bn1', 'relu']
        """
        from .passes.counting import count
        from .summary import Summary, render

        work = count(self.ir, convention, unit) if (convention, unit) != ("archdsl", "macs") \
            else None
        mem = self.memory(batch, optimizer) if memory else None
        if fmt == "table":
            return Summary(self.ir, depth, self.diagnostics, work, mem)
        return render(self.ir, depth=depth, fmt=fmt, diagnostics=self.diagnostics, work=work,
                      memory=mem)

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

    def to_json(self, depth: int | None = None) -> dict:
        """The summary as data (as `archdsl summary --format json`)."""
        from .summary import to_json

        return to_json(self.ir, depth, self.diagnostics)

    def __repr__(self) -> str:
        shape = "x".join(map(str, self.input_shape))
        return (f"<Network {self.name}: input {shape}, {len(self.ir) - 1} layers, "
                f"{self.params:,} params, {self.macs:,} MACs>")

    def _repr_html_(self) -> str:
        """Jupyter: the summary table and the diagram, at a depth that fits (notebook.py)."""
        from .notebook import network_html

        return network_html(self)

    def show(self, depth: int | None = 2, *, rankdir: str = "TB", merge_chains: bool = False,
             focus: str | None = None):
        """The diagram for a notebook (a `Diagram`: Jupyter draws it; `.svg()`, `.dot`).
        `depth` collapses blocks at that depth (None: every layer)."""
        from .notebook import Diagram

        return Diagram(self.to_dot(depth=depth, rankdir=rankdir, merge_chains=merge_chains,
                                   focus=focus))

    # ------------------------------------------------------------------ backends (lazy)
    def to_torch(self, *, device=None, dtype=None, optimize: bool = False):
        """An ordinary `torch.nn.Module` (torch is imported only now; needs archdsl[torch]).

        Submodules sit at their `.arch` names, the file's `init` rules are applied after
        PyTorch's defaults; `device` and `dtype` move it; `optimize=True` folds batch norms
        into the convolutions before them and goes channels-last, for inference.
        """
        _require("torch", "Network.to_torch()")
        from .backends.torch import to_torch

        return to_torch(self, device=device, dtype=dtype, optimize=optimize)

    def to_source(self, *, optimize: bool = False) -> str:
        """Standalone PyTorch source (one file that imports only torch) defining the network
        as an `nn.Module` class; `optimize=True` also defines `optimize(model)`."""
        _require("torch", "Network.to_source()")
        from .backends.torch import to_source

        return to_source(self, optimize=optimize)

    def to_onnx(self, path: str, *, opset: int = 17, seed: int | None = None,
                verify: bool = True, model=None) -> str:
        """Export to ONNX at `path` (needs archdsl[onnx]); returns the path. `seed` makes
        the weights (and the file) reproducible; `model` exports an existing `to_torch()`
        module's weights; `verify` runs the file in onnxruntime against PyTorch first."""
        _require("onnx", "Network.to_onnx()")
        from .backends.torch import to_onnx

        return to_onnx(self, path, opset=opset, seed=seed, verify=verify, model=model)

    def to_dot(self, *, depth: int | None = None, rankdir: str = "TB", shapes: bool = True,
               params: bool = True, merge_chains: bool = False, title: bool = True,
               legend: bool = True, focus: str | None = None, diagnostics=()) -> str:
        """The diagram as Graphviz DOT text (no Graphviz needed). The options are those of
        `archdsl draw`: `depth` collapses blocks, `focus` draws one block's inside,
        `merge_chains` draws conv -> batchnorm -> activation as one node."""
        from .backends.graphviz import to_dot

        return to_dot(self.ir, depth=depth, rankdir=rankdir, shapes=shapes, params=params,
                      merge_chains=merge_chains, title=title, legend=legend, focus=focus,
                      diagnostics=diagnostics)

    def draw(self, path: str, *, format: str | None = None, depth: int | None = None,
             rankdir: str = "TB", shapes: bool = True, params: bool = True,
             merge_chains: bool = False, title: bool = True, legend: bool = True,
             focus: str | None = None) -> str:
        """Write the diagram to `path` (.svg .png .pdf need Graphviz's `dot`; .dot does
        not); the format comes from `format` or the extension. Returns `path`."""
        from .backends.graphviz import draw

        return draw(self.ir, path, format=format, depth=depth, rankdir=rankdir,
                    shapes=shapes, params=params, merge_chains=merge_chains, title=title,
                    legend=legend, focus=focus)

    def _repr_svg_(self):
        from .backends.graphviz import svg_or_none

        return svg_or_none(self.ir)


def _require(extra: str, what: str) -> None:
    from .extras import require

    require(extra, what)
