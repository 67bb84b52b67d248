"""IR -> fx: the plan (which module sits at which name) and the forward graph.

`plan(ir)` walks the IR in node order (a topological order) once and returns the fx graph of
the forward together with the submodules to register, as `ModuleCall`s. `to_torch` instantiates
them; `to_source` prints them. Only nodes the output depends on enter the graph, but every node
with a module is registered, so a dead branch keeps its `state_dict` keys.

Variable names in the generated forward are the IR names with dots made underscores; an
unlabelled layer (numbered like nn.Sequential) is called after its kind instead of its number:
`layer1.0.0` (a relu) reads `layer1_0_relu`. A name the generated code needs for itself (`self`,
the input `x`, the modules it imports) gets a trailing underscore: a layer labelled `self` is
`self_`, so the forward never rebinds `self` or shadows `torch`.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass

from torch import fx

from archdsl import ops

from .inplace import with_inplace, writers
from .lowering import ModuleCall, lowering_for
from .module import LayerInfo


@dataclass(frozen=True)
class Plan:
    graph: fx.Graph
    modules: tuple[tuple[str, ModuleCall, object], ...]  # (IR name, call, span), IR order
    layers: dict[str, LayerInfo]  # fx call_module target or function node name -> info


# Names the forward (and the standalone file around it) uses: fx renames clashes with globals
# and builtins itself, but not with `self`, the method's first parameter.
RESERVED = frozenset({"self", "x", "torch", "nn", "fx", "F", "operator", "place",
                      "literal_kernel", "optimize"})


def var_name(name: str, op: str) -> str:
    *scope, leaf = name.split(".")
    var = "_".join([*scope, op if leaf.isdigit() else leaf])
    return var + "_" if var in RESERVED else var


def class_name(network: str) -> str:
    """`resnet50` -> `Resnet50`, `my_net` -> `MyNet`."""
    parts = [p for p in network.replace("-", "_").split("_") if p]
    name = "".join(p[0].upper() + p[1:] for p in parts) or "Network"
    name = name if name[0].isalpha() else "Net" + name
    # `network none`: not `class None`; `network scale`: not the helper class `Scale` that
    # the standalone file defines (runtime.py)
    return name + "_" if keyword.iskeyword(name) or name in RUNTIME_CLASSES else name


# the layer classes of runtime.py, which a standalone file may define beside the network's
RUNTIME_CLASSES = frozenset({"Scale", "StochasticDepth", "ChannelLayerNorm", "ChannelShuffle"})


def _info(ir, nid: int, data: dict) -> LayerInfo:
    spec = ops.lookup(data["op"])
    label = spec.label(data["args"]) if spec else data["op"]
    return LayerInfo(data["name"], label, data["span"].location(),
                     tuple(tuple(s) for s in ir.input_shapes(nid)))


def plan(ir) -> Plan:
    graph = fx.Graph()
    live = ir.live()
    in_place = writers(ir, live)  # the layers that may overwrite their input (inplace.py)
    env: dict[int, fx.Node] = {}
    modules = []
    layers: dict[str, LayerInfo] = {}
    for nid, data in ir.nodes():
        name, op, span = data["name"], data["op"], data["span"]
        low = lowering_for(op, name, span.location())
        ins = [env[i] for i in ir.inputs(nid)] if nid in live else []
        meta = {"arch_name": name, "arch_span": span, "arch_op": op}
        if op == "input":
            env[nid] = graph.placeholder("x")
            env[nid].meta.update(meta)
            continue
        if low.passthrough:
            if nid in live:
                env[nid] = ins[0]
            continue
        if low.module is not None:
            args = data["args"]
            if low.inplace:
                args = with_inplace(args, nid in in_place)
            modules.append((name, low.module(args), span))
            if nid in live:
                node = graph.create_node("call_module", name, tuple(ins),
                                         name=var_name(name, op))
                node.meta.update(meta)
                env[nid] = node
                layers[name] = _info(ir, nid, data)
            continue
        if nid not in live:
            continue
        info = _info(ir, nid, data)
        fx_name = var_name(name, op)

        def call(target, args, kwargs=None, _meta=meta, _name=fx_name, _info=info):
            node = graph.create_node("call_function", target, args, kwargs, name=_name)
            node.meta.update(_meta)
            layers[node.name] = _info
            return node

        args = data["args"]
        if low.inplace:
            args = with_inplace(args, nid in in_place)
        env[nid] = low.function(args, ins, call)
    results = ir.results()
    # Several outputs (`return main, aux`) are a tuple in the order written, as torchvision's
    # GoogLeNet returns (logits, aux): fx, TorchScript and ONNX take it as it is.
    graph.output(env[ir.output] if len(results) == 1 else tuple(env[n] for _, n in results))
    return Plan(graph, tuple(modules), layers)
