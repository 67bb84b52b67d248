"""A saved ONNX file as a traced model (trace.py's `Traced`), for `archdsl import model.onnx`.

The graph is rebuilt as a torch.fx graph over torch modules placed at the paths the file's
names give: an initializer `layer1.0.conv1.weight` (what torch's exporter writes when
constant folding is off) puts its Conv at `layer1.0.conv1`; a node's name
`/layer1/layer1.0/relu/Relu` (torch's exporter's scopes) puts a Relu in the scope
`layer1.0`. From there the import is the one of a torch module: kinds, blocks, text. A file
whose batch norms were folded into its convs has no batch norms to give back, and one from
another exporter has other names: the module paths are then the names it has.
"""

from __future__ import annotations

import operator
import re

from .trace import Missing, Unexpressible, _Builder

_SIMPLE = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}


class OnnxError(Exception):
    """The file cannot be read as an ONNX model (a usage error)."""


def _attrs(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _scopes(name: str) -> list[str]:
    """`/layer1/layer1.0/conv1/Conv` -> ["layer1", "layer1.0", "layer1.0.conv1"]."""
    parts = [p for p in name.strip("/").split("/")[:-1] if p]
    out, full = [], ""
    for p in parts:
        full = p if not full or p.startswith(full + ".") else f"{full}.{p}"
        if not re.fullmatch(r"[\w.\-]+", full):
            return []
        out.append(full)
    return out


def _sym_pads(pads, n):
    if not pads:
        return (0,) * n
    if tuple(pads[:n]) != tuple(pads[n:]):
        raise ValueError("asymmetric padding")
    return tuple(pads[:n])


class Container:
    """Marks the modules made for a path's scopes (their class says nothing: blocks.py
    groups them by their children's names)."""


def _container():
    import torch.nn as nn

    class OnnxScope(nn.Module, Container):
        """A scope of an imported ONNX file."""

        def forward(self, x):  # never called: the graph calls the leaves
            raise NotImplementedError

    return OnnxScope


def _place(root, path: str, module, scope_cls):
    parts = path.split(".")
    owner = root
    for p in parts[:-1]:
        if not hasattr(owner, p) or p not in owner._modules:
            owner.add_module(p, scope_cls())
        owner = owner._modules[p]
    if parts[-1] in owner._modules:
        raise ValueError(f"two modules at {path}")
    owner.add_module(parts[-1], module)


def from_onnx(path, input_shape=None, name=None, *, source=None, mark_unsupported=False):
    from . import finish

    traced, root = load(str(path), input_shape)
    default = re.sub(r"\W", "_", str(path).rsplit("/", 1)[-1].removesuffix(".onnx")) or "net"
    return finish(traced, root, name or default, source or str(path), mark_unsupported)


def _fill_numbering(traced) -> None:
    """ONNX drops what does nothing in eval mode: dropout, identity. So `classifier.2` may follow
    `classifier.0`: an `identity` takes each number left out, so that archdsl's numbering
    gives the layer after it its name back."""
    from .kinds import MERGES
    from .trace import Op, Scope

    for scope in traced.root.scopes():
        count, out = 0, []
        for item in scope.items:
            if isinstance(item, Scope):
                if item.local.isdigit():
                    count = int(item.local) + 1
                out.append(item)
                continue
            if item.kind in MERGES or item.kind == "concat":
                out.append(item)
                continue
            if item.stateful and item.local.isdigit():
                while count < int(item.local):
                    vid = max(traced.ops) + 1
                    fill = Op(vid, "identity", [], [item.ins[0]], "", scope.path,
                              traced.shapes[item.ins[0]], traced.shapes[item.ins[0]])
                    traced.ops[vid] = fill
                    traced.shapes[vid] = fill.shape
                    item.ins = [vid, *item.ins[1:]]
                    out.append(fill)
                    count += 1
                count = int(item.local) + 1
            elif not item.stateful:
                count += 1
            out.append(item)
        scope.items = out


def load(path: str, input_shape=None):
    """(Traced, root module) of the ONNX file at `path`."""
    import numpy as np
    import onnx
    import torch
    import torch.fx as fx
    import torch.nn as nn
    import torch.nn.functional as F
    from onnx import numpy_helper
    from torch.fx.passes.shape_prop import ShapeProp

    try:
        model = onnx.load(path)
    except Exception as exc:
        raise OnnxError(f"{path} is not an ONNX model: {type(exc).__name__}: {exc}") from None
    g = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    for n in g.node:  # torch's exporter shares equal initializers through Identity nodes
        if n.op_type == "Identity" and n.input[0] in consts:
            consts[n.output[0]] = consts[n.input[0]]
        elif n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(_attrs(n)["value"])
    inputs = [i for i in g.input if i.name not in consts]
    if len(inputs) != 1 or len(g.output) != 1:
        raise Unexpressible([Missing("", "ONNX graph", f"takes {len(inputs)} inputs and gives "
                                     f"{len(g.output)} outputs (archdsl: one and one)")])
    dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim][1:]
    if input_shape is None:
        if not dims or not all(d > 0 for d in dims):
            raise OnnxError(f"{path}: the input's shape is not fixed; give --input")
        input_shape = tuple(dims)
    scope_cls = _container()
    root = scope_cls()
    graph = fx.Graph()
    env = {inputs[0].name: graph.placeholder("x")}
    missing: list[Missing] = []

    def tensor(name):
        return torch.from_numpy(np.array(consts[name], dtype=np.float32))

    def module_path(node, weight: str) -> str:
        if weight.endswith(".weight") and re.fullmatch(r"[\w.\-]+", weight):
            return weight[: -len(".weight")]
        chain = _scopes(node.name)
        return chain[-1] if chain else re.sub(r"\W", "_", node.name) or node.op_type.lower()

    def meta(fxnode, chain, leaf=None):
        stack = {p: (p, scope_cls) for p in chain}
        if leaf is not None:
            stack[leaf] = (leaf, nn.Module)
        fxnode.meta["nn_module_stack"] = stack

    inferred = onnx.shape_inference.infer_shapes(model).graph
    ranks = {v.name: len(v.type.tensor_type.shape.dim)
             for v in (*inferred.value_info, *inferred.output)}
    shape_like: set[str] = set()  # values computed from a tensor's shape (`x.size(0)`)
    for node in g.node:
        a = _attrs(node)
        op = node.op_type
        if op == "Shape" or (op in ("Gather", "Unsqueeze", "Concat", "Cast", "Slice", "Squeeze")
                             and node.input and all(i in shape_like or i in consts
                                                    for i in node.input)):
            shape_like.update(node.output)
            continue
        if op == "Reshape" and (node.input[1] in shape_like or node.input[1] in consts) \
                and ranks.get(node.output[0]) == 2 and node.input[0] in env:
            # `x.view(x.size(0), -1)`, `x.reshape(N, -1)`: archdsl's flatten
            out = graph.call_function(torch.flatten, (env[node.input[0]], 1))
            meta(out, _scopes(node.name))
            env[node.output[0]] = out
            continue
        if op in ("Identity", "Constant") and (node.output[0] in consts):
            continue
        chain = _scopes(node.name)
        try:
            if op in ("Identity", "Dropout"):
                env[node.output[0]] = env[node.input[0]]
                continue
            x = env.get(node.input[0]) if node.input else None
            if op in ("Conv", "BatchNormalization", "Gemm"):
                path = module_path(node, node.input[1])
                if op == "Conv":
                    w = tensor(node.input[1])
                    k = len(w.shape) - 2
                    groups = a.get("group", 1)
                    m = getattr(nn, f"Conv{k}d")(
                        w.shape[1] * groups, w.shape[0], tuple(w.shape[2:]),
                        stride=tuple(a.get("strides", (1,) * k)),
                        padding=_sym_pads(a.get("pads"), k),
                        dilation=tuple(a.get("dilations", (1,) * k)), groups=groups,
                        bias=len(node.input) > 2)
                    m.weight.data.copy_(w)
                    if len(node.input) > 2:
                        m.bias.data.copy_(tensor(node.input[2]))
                elif op == "BatchNormalization":
                    scale = tensor(node.input[1])
                    # ONNX's floats are float32: 7 digits (1e-5, not 9.99999974738e-6)
                    m = nn.BatchNorm2d(scale.shape[0],
                                       eps=float(f"{a.get('epsilon', 1e-5):.7g}"),
                                       momentum=float(f"{1 - a.get('momentum', 0.9):.7g}"))
                    m.weight.data.copy_(scale)
                    m.bias.data.copy_(tensor(node.input[2]))
                    m.running_mean.copy_(tensor(node.input[3]))
                    m.running_var.copy_(tensor(node.input[4]))
                else:
                    if a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 \
                            or a.get("transA", 0):
                        raise ValueError("a Gemm other than a linear layer")
                    w = tensor(node.input[1])
                    w = w if a.get("transB", 0) else w.t()
                    m = nn.Linear(w.shape[1], w.shape[0], bias=len(node.input) > 2)
                    m.weight.data.copy_(w)
                    if len(node.input) > 2:
                        m.bias.data.copy_(tensor(node.input[2]))
                _place(root, path, m, scope_cls)
                out = graph.call_module(path, (x,))
                parts = path.split(".")
                meta(out, [".".join(parts[:i]) for i in range(1, len(parts))], path)
            elif op in _SIMPLE:
                fn = {"relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[_SIMPLE[op]]
                out = graph.call_function(fn, (x,))
                meta(out, chain)
            elif op in ("MaxPool", "AveragePool"):
                k = tuple(a["kernel_shape"])
                n = len(k)
                kw = dict(stride=tuple(a.get("strides", k)), padding=_sym_pads(a.get("pads"), n),
                          ceil_mode=bool(a.get("ceil_mode", 0)))
                if op == "MaxPool":
                    fn = getattr(F, f"max_pool{n}d")
                    kw["dilation"] = tuple(a.get("dilations", (1,) * n))
                else:
                    fn = getattr(F, f"avg_pool{n}d")
                    kw["count_include_pad"] = bool(a.get("count_include_pad", 0))
                out = graph.call_function(fn, (x, k), kw)
                meta(out, chain)
            elif op == "GlobalAveragePool":
                out = graph.call_function(F.adaptive_avg_pool2d, (x, 1))
                meta(out, chain)
            elif op == "Flatten" and a.get("axis", 1) == 1:
                out = graph.call_function(torch.flatten, (x, 1))
                meta(out, chain)
            elif op in ("Add", "Mul", "Sub", "Div"):
                fn = {"Add": operator.add, "Mul": operator.mul, "Sub": operator.sub,
                      "Div": operator.truediv}[op]
                out = graph.call_function(fn, (x, env[node.input[1]]))
                meta(out, chain)
            elif op == "Concat":
                out = graph.call_function(torch.cat, ([env[i] for i in node.input],
                                                      a.get("axis", 1)))
                meta(out, chain)
            else:
                raise ValueError("archdsl has no layer kind for this ONNX operator")
        except KeyError:
            missing.append(Missing(chain[-1] if chain else "", f"ONNX {op} `{node.name}`",
                                   "reads a value computed by a part that is missing, or a "
                                   "constant where archdsl takes a tensor"))
            continue
        except ValueError as exc:
            missing.append(Missing(chain[-1] if chain else "", f"ONNX {op} `{node.name}`",
                                   str(exc)))
            continue
        env[node.output[0]] = out
    if missing:
        raise Unexpressible(missing)
    graph.output(env[g.output[0].name])
    containers = {p for p, m in root.named_modules() if isinstance(m, Container)}
    for fxnode in graph.nodes:  # a scope named after a layer without weights is no module
        stack = fxnode.meta.get("nn_module_stack")
        if stack is not None:
            leaf = fxnode.target if fxnode.op == "call_module" else None
            fxnode.meta["nn_module_stack"] = {p: v for p, v in stack.items()
                                              if p in containers or p == leaf}
    gm = fx.GraphModule(root, graph)
    with torch.no_grad():
        ShapeProp(gm).propagate(torch.randn(1, *input_shape))
    # the modules are read from `root`, whose scopes are Containers (the GraphModule made
    # plain modules for them)
    traced = _Builder(root, gm.graph, tuple(input_shape)).run()
    _fill_numbering(traced)
    return traced, root

