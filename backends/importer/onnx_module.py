"""An ONNX file as a PyTorch module tree, so that `archdsl import model.onnx` is the import of
a PyTorch model.

Each ONNX node becomes the `torch.nn` layer (or the torch function) that torch.onnx exports
as that node, holding the file's initializers as its weights; the layers sit at the module
paths torch.onnx wrote into the node names (`/layer1/layer1.0/conv1/Conv` is `layer1.0.conv1`)
or, for a file from elsewhere, at its initializers' names (`fc.weight`) or its node names. The
result is an `fx.GraphModule` whose forward runs the nodes in the file's order; the importer
traces it like any model, and the module's `state_dict` is what the imported `.arch` file's
compiled module loads.

What has no such layer is reported, not guessed: every node that cannot be converted is listed
with its name, its operator and why (`OnnxUnsupported`). A file exported by torch.onnx in eval
mode has its batch norms folded into the convolutions before it (the file holds no batch norm
there), so the imported network has biased convolutions in their place: the same numbers, not
the same layers as the model it came from.
"""

from __future__ import annotations

import contextlib
import operator
import re
from dataclasses import dataclass

import numpy as np
import torch
from torch import fx, nn
from torch.nn import functional as F


@dataclass(frozen=True)
class Problem:
    node: str  # the node's name in the file, or `#index op` for an unnamed one
    op: str
    why: str


class OnnxUnsupported(Exception):
    """Nodes of the file that have no archdsl layer: all of them, not only the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.node} ({p.op}): {p.why}" for p in problems))


class OnnxFileError(Exception):
    """The file is not a model this converter can read (not ONNX, no input, several inputs)."""


def _attrs(node) -> dict:
    """A node's attributes; a float the file holds in float32 as the shortest decimal that
    float32 reads back the same (ONNX's 1e-5 is 9.99999974738e-6 in a double)."""
    from onnx import helper

    out = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if isinstance(value, float):
            value = float(str(np.float32(value)))
        out[a.name] = value
    return out


def _scope(node_name: str) -> list[str]:
    """The module path torch.onnx wrote into a node name: `/layer1/layer1.0/conv1/Conv` ->
    ["layer1", "0", "conv1"]. A scope is written as the child's name, or, for the children
    of a sequence, prefixed with the path of the scope it is numbered in (`layer1.0`,
    `conv.0.0` inside `conv.0`)."""
    parts = [p for p in node_name.split("/") if p][:-1]
    path: list[str] = []
    for part in parts:
        for k in range(len(path)):
            stem = ".".join(path[k:])
            if part.startswith(stem + "."):
                path = path + part[len(stem) + 1:].split(".")
                break
        else:
            path = path + part.split(".")
    return path


def scope_of(node_name: str) -> str:
    """The module path of a node, dotted (`layer1.0.conv1`); empty outside any module."""
    return ".".join(_scope(node_name))


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")


def _clean(parts: list[str]) -> list[str]:
    """Path components archdsl can name (identifiers or indices); others rewritten."""
    out = []
    for part in parts:
        if _IDENT.fullmatch(part):
            out.append(part)
        else:
            cleaned = re.sub(r"[^A-Za-z0-9_]", "_", part).strip("_") or "layer"
            out.append(cleaned if not cleaned[0].isdigit() or cleaned.isdigit()
                       else "_" + cleaned)
    return out


def _pair(pads: list[int], rank: int) -> tuple[list[int], list[int]]:
    pads = list(pads) or [0] * (2 * rank)
    return pads[:rank], pads[rank:]


class _Converter:
    def __init__(self, proto, input_shape=None):
        import onnx
        from onnx import numpy_helper, shape_inference

        # without shape inference, ranks come from the initializers and attributes only
        with contextlib.suppress(Exception):
            proto = shape_inference.infer_shapes(proto)
        self.proto = proto
        self.input_shape = None if input_shape is None else tuple(int(d) for d in input_shape)
        self.numpy_helper = numpy_helper
        self.onnx = onnx
        self.inits = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
        self.ranks: dict[str, int] = {}
        self.static_dims: dict[str, tuple[int, ...]] = {}  # sizes besides the batch, known
        for vi in [*proto.graph.input, *proto.graph.value_info, *proto.graph.output]:
            t = vi.type.tensor_type
            if t.HasField("shape"):
                self.ranks[vi.name] = len(t.shape.dim)
                rest = list(t.shape.dim)[1:]
                if all(d.HasField("dim_value") for d in rest):
                    self.static_dims[vi.name] = tuple(int(d.dim_value) for d in rest)
        self.root = nn.Module()
        self.graph = fx.Graph()
        self.values: dict[str, object] = {}  # ONNX value -> fx node (or a constant array)
        self.problems: list[Problem] = []
        self.used_paths: set[str] = set()
        self.probed = False
        self.slices: dict[tuple, dict] = {}  # (tensor, axis) -> (start, stop) -> Slice node
        self.pending: dict[str, object] = {}  # a sliced piece whose chunk is not made yet
        self.consumers: dict[str, int] = {}
        for n in proto.graph.node:
            for i in n.input:
                self.consumers[i] = self.consumers.get(i, 0) + 1
        self.unbiased: dict[str, str] = {}  # a MatMul's output -> the path of its bias-free linear
        # the module scopes that hold others: a node named /layer1/layer1.0/Relu is a call
        # of torch.relu inside `layer1.0`, not a module `layer1.0` of its own
        self.containers: set[tuple[str, ...]] = {()}
        for n in proto.graph.node:
            parts = tuple(_clean(_scope(n.name)))
            for k in range(len(parts)):
                self.containers.add(parts[:k])
        self.node_scope: dict[fx.Node, tuple[str, ...]] = {}  # function nodes -> their scope

    # -- naming ------------------------------------------------------------------------------

    def place(self, node, module: nn.Module, index: int, weight: str | None = None) -> str:
        """Put `module` at the path the file names for `node`; returns the dotted path."""
        parts: list[str] = []
        stem = weight[: -len(".weight")] if weight and weight.endswith(".weight") else None
        if stem and (weight in self.inits or stem in self.inits) \
                and not stem.startswith("onnx::"):
            parts = stem.split(".")
        if not parts:
            parts = _clean(_scope(node.name))
            if tuple(parts) in self.containers:  # a function called in that scope
                parts = [*parts, node.op_type.lower()]
        parts = _clean(parts)
        path = ".".join(parts)
        n = 1
        while path in self.used_paths or self._taken(parts):
            parts = [*parts[:-1], f"{_clean([parts[-1]])[0]}_{n}"]
            path = ".".join(parts)
            n += 1
        self.used_paths.add(path)
        parent = self.root
        for part in parts[:-1]:
            child = parent._modules.get(part)
            if child is None:
                child = OnnxScope()
                parent.add_module(part, child)
            parent = child
        parent.add_module(parts[-1], module)
        return path

    def _taken(self, parts: list[str]) -> bool:
        parent = self.root
        for part in parts[:-1]:
            child = parent._modules.get(part)
            if child is None:
                return False
            if part in ("weight", "bias") or not isinstance(child, OnnxScope):
                return True  # a layer cannot hold other layers
            parent = child
        return parts[-1] in parent._modules

    # -- values ------------------------------------------------------------------------------

    def const(self, name: str):
        if name in self.inits:
            return self.inits[name]
        value = self.values.get(name)
        return value if isinstance(value, np.ndarray) else None

    def tensor(self, name: str):
        value = self.values.get(name)
        return value if isinstance(value, fx.Node) else None

    def rank(self, name: str, default: int | None = None) -> int | None:
        return self.ranks.get(name, default)

    # -- the conversion ----------------------------------------------------------------------

    def run(self) -> tuple[nn.Module, tuple[int, ...]]:
        g = self.proto.graph
        inputs = [i for i in g.input if i.name not in self.inits]
        if len(inputs) != 1:
            raise OnnxFileError(f"the model has {len(inputs)} inputs; archdsl networks have one")
        batch_dim = inputs[0].type.tensor_type.shape.dim[:1]
        self.fixed_batch = (int(batch_dim[0].dim_value)
                            if batch_dim and batch_dim[0].HasField("dim_value") else None)
        dims = list(inputs[0].type.tensor_type.shape.dim)[1:]
        if self.input_shape is not None:
            if len(self.input_shape) != len(dims):
                raise OnnxFileError(f"the input has {len(dims)} dimensions besides the batch, "
                                    f"not {len(self.input_shape)}")
            wrong = [(d.dim_value, n) for d, n in zip(dims, self.input_shape, strict=True)
                     if d.HasField("dim_value") and d.dim_value != n]
            if wrong:
                raise OnnxFileError(f"the file fixes the input's size at {wrong[0][0]} where "
                                    f"{wrong[0][1]} was given")
            shape = list(self.input_shape)
        else:
            shape = []
            for d in dims:
                if not d.HasField("dim_value"):
                    raise OnnxFileError(f"the input's size `{d.dim_param or '?'}` is not "
                                        "fixed in the file: give the input shape (--input)")
                shape.append(int(d.dim_value))
        self.shape, self.input_name = tuple(shape), inputs[0].name
        self.values[inputs[0].name] = self.graph.placeholder("x")
        skip, fused = _gelu_patterns(g, self.inits)
        for index, node in enumerate(g.node):
            where = node.name or f"#{index} {node.op_type}"
            if index in skip:
                continue
            if index in fused:  # the last node of an exported GELU: the layer itself
                x = self.tensor(fused[index])
                if x is not None:
                    self.call_module(node, index, nn.GELU(), x)
                    continue
            folded = self._fold(node)
            if folded is not None:
                if folded:
                    self.problems.append(Problem(where, node.op_type, folded))
                    self._stand_in(node, index)
                continue
            handler = getattr(self, "op_" + node.op_type, None)
            if node.domain not in ("", "ai.onnx") or handler is None:
                self.problems.append(Problem(where, node.op_type, "no archdsl layer computes it"))
                self._stand_in(node, index)
                continue
            before = len(self.graph.nodes)
            try:
                why = handler(node, index, _attrs(node))
            except _Unsupported as exc:
                why = str(exc)
            scope = tuple(_clean(_scope(node.name)))
            for made in list(self.graph.nodes)[before:]:
                if made.op in ("call_function", "call_method"):
                    self.node_scope[made] = scope if scope in self.containers else scope[:-1]
            if why:
                self.problems.append(Problem(where, node.op_type, why))
                self._stand_in(node, index)
        for out, node in self.pending.items():
            self.problems.append(Problem(node.name or out, "Slice", "a slice other than an "
                                         "equal piece of one axis (archdsl's chunk)"))
        if self.problems:
            raise OnnxUnsupported(self.problems)
        outs = [self.tensor(o.name) for o in g.output]
        if any(o is None for o in outs):
            raise OnnxUnsupported([Problem(o.name, "output", "is not computed from the input")
                                   for o, v in zip(g.output, outs, strict=True) if v is None])
        self.graph.output(outs[0] if len(outs) == 1 else tuple(outs))  # (the last users)
        try:
            return _nest(self.root, self.graph, self.node_scope, outs), tuple(shape)
        except _TooMany as exc:
            raise OnnxUnsupported([Problem(exc.path, "scope",
                                           f"takes {exc.count} tensors (a block takes one "
                                           "and gives one)")]) from None
        except _Interleaved as exc:
            raise OnnxUnsupported([Problem(str(exc) or "(the model)", "scope",
                                           "its nodes are interleaved with others in the "
                                           "file, so it cannot run as one module")]) from None

    # -- constants ---------------------------------------------------------------------------

    def _fold(self, node):
        """Shape arithmetic computed here, once (torch.onnx writes `F.pad`'s pads and
        `interpolate`'s sizes as nodes on the input's shape): a `Shape` of a tensor whose
        sizes besides the batch are known, and any node of constants only, evaluated by
        onnx's reference implementation. None when the node is not such; a string saying
        why when it is but cannot be folded. The batch size is the marker `BATCH`: it may
        be moved (sliced, gathered, concatenated) but not computed with."""
        if node.op_type == "Shape" and self.tensor(node.input[0]) is not None:
            dims = self.static_dims.get(node.input[0])
            if dims is None:
                self._probe()
                dims = self.static_dims.get(node.input[0])
            if dims is None:
                return "the shape of a tensor whose sizes depend on more than the batch"
            a = _attrs(node)
            shape = np.array([BATCH, *dims], dtype=np.int64)
            start, end = a.get("start", 0), a.get("end")
            self.values[node.output[0]] = shape[start:end]
            return ""
        inputs = [self.const(i) if i else None for i in node.input]
        if node.op_type == "Constant" or not node.input or any(
                i and v is None for i, v in zip(node.input, inputs, strict=True)):
            return None
        if any(v is not None and v.dtype.kind == "i" and (v <= BATCH // 2).any()
               for v in inputs) and node.op_type not in _MOVES:
            return "a computation on the batch size"
        try:
            outputs = _evaluate(self.proto, node, inputs)
        except Exception as exc:  # the file's own arithmetic failed: report it, located
            return f"its constants could not be computed ({type(exc).__name__})"
        for name, value in zip(node.output, outputs, strict=False):
            if name:
                self.values[name] = np.asarray(value)
        return ""

    def _probe(self) -> None:
        """The sizes of every tensor a `Shape` or a `Slice` reads, from onnxruntime running
        the file at two batch sizes (shape inference does not see through every node): the
        sizes that stay are the ones besides the batch."""
        if self.probed:
            return
        self.probed = True
        import onnx
        import onnxruntime as ort

        wanted = sorted({n.input[0] for n in self.proto.graph.node
                         if n.op_type in ("Shape", "Slice")}
                        - set(self.static_dims) - set(self.inits))
        if not wanted:
            return
        model = onnx.ModelProto()
        model.CopyFrom(self.proto)
        known = {o.name for o in model.graph.output}
        types = {vi.name: vi.type.tensor_type.elem_type for vi in self.proto.graph.value_info}
        for name in wanted:
            if name not in known:
                model.graph.output.append(onnx.helper.make_tensor_value_info(
                    name, types.get(name, onnx.TensorProto.FLOAT), None))
        try:
            options = ort.SessionOptions()
            options.log_severity_level = 4
            session = ort.InferenceSession(model.SerializeToString(), options,
                                           providers=["CPUExecutionProvider"])
            runs = []
            for batch in (2, 3):
                x = np.random.default_rng(batch).standard_normal(
                    (batch, *self.shape)).astype(np.float32)
                runs.append(dict(zip(wanted, session.run(wanted, {self.input_name: x}),
                                     strict=True)))
        except Exception:  # then those sizes stay unknown, and the nodes are reported
            return
        for name in wanted:
            a, b = runs[0][name].shape, runs[1][name].shape
            if len(a) == len(b) and a and (a[0], b[0]) == (2, 3) and a[1:] == b[1:]:
                self.static_dims[name] = tuple(int(d) for d in a[1:])

    def _stand_in(self, node, index: int) -> None:
        """Outputs for a node that could not be converted, so that the nodes after it are
        still looked at (and reported for what they are themselves): the graph is not used."""
        for i, name in enumerate(node.output):
            if name and name not in self.values:
                self.values[name] = self.graph.placeholder(f"_unconverted_{index}_{i}")

    def set(self, node, value) -> None:
        self.values[node.output[0]] = value

    def call_module(self, node, index: int, module: nn.Module, *args,
                    weight: str | None = None) -> None:
        path = self.place(node, module, index, weight)
        self.set(node, self.graph.call_module(path, tuple(args)))

    def x(self, node, i: int = 0) -> fx.Node:
        value = self.tensor(node.input[i])
        if value is None and node.input[i] in self.pending:
            raise _Unsupported("reads a piece of a tensor before the rest of it is sliced")
        if value is None:
            raise _Unsupported("its input is a constant, not a tensor computed from the input")
        return value

    # -- layers ------------------------------------------------------------------------------

    def op_Conv(self, node, index, a):
        w = self.const(node.input[1])
        if w is None:
            return "its weight is computed, not stored in the file"
        b = self.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        rank = w.ndim - 2
        if rank not in (1, 2, 3):
            return f"a {rank}-D convolution"
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            return "auto_pad other than NOTSET"
        begin, end = _pair(a.get("pads", []), rank)
        groups = int(a.get("group", 1))
        conv = getattr(nn, f"Conv{rank}d")(
            w.shape[1] * groups, w.shape[0], tuple(w.shape[2:]),
            stride=tuple(a.get("strides", [1] * rank)),
            padding=tuple(begin) if begin == end else 0,
            dilation=tuple(a.get("dilations", [1] * rank)), groups=groups, bias=b is not None)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(w.copy()))
            if b is not None:
                conv.bias.copy_(torch.from_numpy(b.copy()))
        x = self.x(node)
        if begin != end:
            pads = [p for axis in reversed(range(rank)) for p in (begin[axis], end[axis])]
            x = self.graph.call_function(F.pad, (x, tuple(pads)))
        self.call_module(node, index, conv, x, weight=node.input[1])

    def op_ConvTranspose(self, node, index, a):
        w = self.const(node.input[1])
        if w is None:
            return "its weight is computed, not stored in the file"
        if "output_shape" in a:
            return "an output_shape attribute (give output_padding instead)"
        b = self.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        rank = w.ndim - 2
        begin, end = _pair(a.get("pads", []), rank)
        if begin != end:
            return "asymmetric padding"
        groups = int(a.get("group", 1))
        conv = getattr(nn, f"ConvTranspose{rank}d")(
            w.shape[0], w.shape[1] * groups, tuple(w.shape[2:]),
            stride=tuple(a.get("strides", [1] * rank)), padding=tuple(begin),
            output_padding=tuple(a.get("output_padding", [0] * rank)),
            dilation=tuple(a.get("dilations", [1] * rank)), groups=groups, bias=b is not None)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(w.copy()))
            if b is not None:
                conv.bias.copy_(torch.from_numpy(b.copy()))
        self.call_module(node, index, conv, self.x(node), weight=node.input[1])

    def op_BatchNormalization(self, node, index, a):
        scale, bias, mean, var = (self.const(n) for n in node.input[1:5])
        if any(v is None for v in (scale, bias, mean, var)):
            return "its statistics are computed, not stored in the file"
        rank = self.rank(node.input[0])
        dims = {3: 1, 4: 2, 5: 3}.get(rank or 4)
        if dims is None:
            return f"a batch norm over a rank-{rank} tensor"
        if len(node.output) > 1 and any(node.output[1:]):
            return "a batch norm in training mode"
        momentum = float(str(np.float32(1.0 - a.get("momentum", 0.9))))  # ONNX: 1 - torch's
        bn = getattr(nn, f"BatchNorm{dims}d")(scale.shape[0], eps=float(a.get("epsilon", 1e-5)),
                                              momentum=momentum)
        with torch.no_grad():
            bn.weight.copy_(torch.from_numpy(scale.copy()))
            bn.bias.copy_(torch.from_numpy(bias.copy()))
            bn.running_mean.copy_(torch.from_numpy(mean.copy()))
            bn.running_var.copy_(torch.from_numpy(var.copy()))
        self.call_module(node, index, bn, self.x(node), weight=node.input[1])

    def op_InstanceNormalization(self, node, index, a):
        scale, bias = self.const(node.input[1]), self.const(node.input[2])
        if scale is None or bias is None:
            return "its scale is computed, not stored in the file"
        dims = {3: 1, 4: 2, 5: 3}.get(self.rank(node.input[0]) or 4)
        norm = getattr(nn, f"InstanceNorm{dims}d")(scale.shape[0], affine=True,
                                                   eps=float(a.get("epsilon", 1e-5)))
        with torch.no_grad():
            norm.weight.copy_(torch.from_numpy(scale.copy()))
            norm.bias.copy_(torch.from_numpy(bias.copy()))
        self.call_module(node, index, norm, self.x(node), weight=node.input[1])

    def op_LayerNormalization(self, node, index, a):
        scale = self.const(node.input[1])
        bias = self.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if scale is None:
            return "its scale is computed, not stored in the file"
        axis, rank = int(a.get("axis", -1)), self.rank(node.input[0])
        if rank is not None and axis < 0:
            axis += rank
        if rank is not None and rank - axis != scale.ndim:
            return "a layer norm whose axis does not match its scale"
        norm = nn.LayerNorm(tuple(scale.shape), eps=float(a.get("epsilon", 1e-5)),
                            bias=bias is not None)
        with torch.no_grad():
            norm.weight.copy_(torch.from_numpy(scale.copy()))
            if bias is not None:
                norm.bias.copy_(torch.from_numpy(bias.copy()))
        self.call_module(node, index, norm, self.x(node), weight=node.input[1])

    def op_Gemm(self, node, index, a):
        w = self.const(node.input[1])
        b = self.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if w is None:
            return "its weight is computed, not stored in the file"
        if a.get("transA", 0) or float(a.get("alpha", 1.0)) != 1.0 \
                or float(a.get("beta", 1.0)) != 1.0:
            return "a Gemm that is not a linear layer (transA, alpha or beta)"
        if not a.get("transB", 0):
            w = w.T
        if b is not None and b.shape != (w.shape[0],):
            return "a bias that is not one per output"
        self._linear(node, index, w, b, self.x(node))

    def op_MatMul(self, node, index, a):
        w = self.const(node.input[1])
        if w is None or w.ndim != 2:
            return "a product of two computed tensors (archdsl has no matmul of values)"
        self._linear(node, index, w.T, None, self.x(node))
        self.unbiased[node.output[0]] = self.values[node.output[0]].target

    def _bias(self, node) -> bool:
        """A linear layer's bias added after its MatMul (torch.onnx writes `MatMul` and `Add`
        for a linear over the last dimension of a tensor of rank 3 or more): the bias goes
        into the layer."""
        x, c = node.input[0], self.const(node.input[1])
        if c is None:
            x, c = node.input[1], self.const(node.input[0])
        path = self.unbiased.get(x)
        if path is None or c is None or self.consumers.get(x) != 1:
            return False
        old = self.root.get_submodule(path)
        if c.shape != (old.out_features,):
            return False
        new = nn.Linear(old.in_features, old.out_features)
        with torch.no_grad():
            new.weight.copy_(old.weight)
            new.bias.copy_(torch.from_numpy(np.array(c, copy=True)))
        parent, _, leaf = path.rpartition(".")
        (self.root.get_submodule(parent) if parent else self.root).add_module(leaf, new)
        del self.unbiased[x]
        self.set(node, self.values[x])
        return True

    def _linear(self, node, index, w, b, x):
        linear = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.array(w, dtype=w.dtype, copy=True)))
            if b is not None:
                linear.bias.copy_(torch.from_numpy(b.copy()))
        self.call_module(node, index, linear, x, weight=node.input[1])

    def op_PRelu(self, node, index, a):
        slope = self.const(node.input[1])
        if slope is None:
            return "its slope is computed, not stored in the file"
        flat = slope.reshape(-1)
        prelu = nn.PReLU(flat.shape[0])
        with torch.no_grad():
            prelu.weight.copy_(torch.from_numpy(flat.copy()))
        self.call_module(node, index, prelu, self.x(node), weight=node.input[1])

    # -- layers without weights --------------------------------------------------------------

    def _simple(self, node, index, module):
        self.call_module(node, index, module, self.x(node))

    def op_Relu(self, node, index, a):
        self._simple(node, index, nn.ReLU())

    def op_Sigmoid(self, node, index, a):
        self._simple(node, index, nn.Sigmoid())

    def op_Tanh(self, node, index, a):
        self._simple(node, index, nn.Tanh())

    def op_LeakyRelu(self, node, index, a):
        self._simple(node, index, nn.LeakyReLU(float(a.get("alpha", 0.01))))

    def op_Elu(self, node, index, a):
        self._simple(node, index, nn.ELU(float(a.get("alpha", 1.0))))

    def op_Celu(self, node, index, a):
        self._simple(node, index, nn.CELU(float(a.get("alpha", 1.0))))

    def op_Selu(self, node, index, a):
        if not (np.isclose(a.get("alpha", 1.6732632423543772), 1.6732632423543772)
                and np.isclose(a.get("gamma", 1.0507009873554805), 1.0507009873554805)):
            return "a SELU with other constants than torch's"
        self._simple(node, index, nn.SELU())

    def op_Softplus(self, node, index, a):
        self._simple(node, index, nn.Softplus())

    def op_Mish(self, node, index, a):
        self._simple(node, index, nn.Mish())

    def op_HardSwish(self, node, index, a):
        self._simple(node, index, nn.Hardswish())

    def op_HardSigmoid(self, node, index, a):
        if not (np.isclose(a.get("alpha", 0.2), 1 / 6) and np.isclose(a.get("beta", 0.5), 0.5)):
            return "a hard sigmoid with other constants than torch's (alpha 1/6, beta 0.5)"
        self._simple(node, index, nn.Hardsigmoid())

    def op_Gelu(self, node, index, a):
        approximate = a.get("approximate", b"none")
        approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
        self._simple(node, index, nn.GELU(approximate=approximate))

    def op_Clip(self, node, index, a):
        lo = a.get("min") if len(node.input) < 2 or not node.input[1] \
            else self.const(node.input[1])
        hi = a.get("max") if len(node.input) < 3 or not node.input[2] \
            else self.const(node.input[2])
        if lo is None or hi is None:
            return "a clip without both bounds (archdsl's hardtanh and relu6 have both)"
        lo, hi = float(np.asarray(lo)), float(np.asarray(hi))
        self._simple(node, index, nn.ReLU6() if (lo, hi) == (0.0, 6.0) else nn.Hardtanh(lo, hi))

    def _axis(self, node, a, default):
        axis = int(a.get("axis", default))
        rank = self.rank(node.input[0])
        return axis if axis >= 0 or rank is None else axis + rank

    def op_Softmax(self, node, index, a):
        self._simple(node, index, nn.Softmax(dim=self._axis(node, a, -1)))

    def op_LogSoftmax(self, node, index, a):
        self._simple(node, index, nn.LogSoftmax(dim=self._axis(node, a, -1)))

    def op_LRN(self, node, index, a):
        self._simple(node, index, nn.LocalResponseNorm(
            int(a["size"]), alpha=float(a.get("alpha", 1e-4)), beta=float(a.get("beta", 0.75)),
            k=float(a.get("bias", 1.0))))

    def _pool(self, node, index, a, kind):
        k = list(a["kernel_shape"])
        rank = len(k)
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            return "auto_pad other than NOTSET"
        begin, end = _pair(a.get("pads", []), rank)
        if begin != end:
            return "asymmetric padding"
        if len(node.output) > 1 and any(node.output[1:]):
            return "a max pool that also returns its indices"
        common = dict(kernel_size=tuple(k), stride=tuple(a.get("strides", [1] * rank)),
                      padding=tuple(begin), ceil_mode=bool(a.get("ceil_mode", 0)))
        if kind == "max":
            pool = getattr(nn, f"MaxPool{rank}d")(
                dilation=tuple(a.get("dilations", [1] * rank)), **common)
        else:
            if any(d != 1 for d in a.get("dilations", [1] * rank)):
                return "a dilated average pool"
            pool = getattr(nn, f"AvgPool{rank}d")(
                count_include_pad=bool(a.get("count_include_pad", 0)), **common)
        self._simple(node, index, pool)

    def op_MaxPool(self, node, index, a):
        return self._pool(node, index, a, "max")

    def op_AveragePool(self, node, index, a):
        return self._pool(node, index, a, "avg")

    def _global(self, node, index, kind):
        rank = (self.rank(node.input[0]) or 4) - 2
        self._simple(node, index, getattr(nn, f"Adaptive{kind}Pool{rank}d")(1))

    def op_GlobalAveragePool(self, node, index, a):
        self._global(node, index, "Avg")

    def op_GlobalMaxPool(self, node, index, a):
        self._global(node, index, "Max")

    def op_Flatten(self, node, index, a):
        if int(a.get("axis", 1)) != 1:
            return "a flatten that keeps other than the batch dimension"
        self._simple(node, index, nn.Flatten())

    def op_Identity(self, node, index, a):
        value = self.values.get(node.input[0], self.const(node.input[0]))
        self.set(node, value)

    op_Dropout = op_Identity  # an eval-mode file: a dropout passes its input through

    def op_Constant(self, node, index, a):
        if "value" not in a:
            return "a constant given otherwise than as a tensor"
        self.set(node, self.numpy_helper.to_array(a["value"]))

    def op_PixelShuffle(self, node, index, a):  # pragma: no cover - not an ONNX op
        return "no archdsl layer computes it"

    def op_DepthToSpace(self, node, index, a):
        if a.get("mode", b"DCR") not in (b"CRD", "CRD"):
            return "DepthToSpace in DCR mode (torch's pixel_shuffle is CRD)"
        self._simple(node, index, nn.PixelShuffle(int(a["blocksize"])))

    # -- tensor functions --------------------------------------------------------------------

    def _binary(self, node, fn):
        x, y = (self.tensor(n) for n in node.input[:2])
        if x is None or y is None:
            raise _Unsupported("one operand is a constant of the file (archdsl's element-wise "
                               "merges combine two computed tensors)")
        self.set(node, self.graph.call_function(fn, (x, y)))

    def op_Add(self, node, index, a):
        if not self._bias(node):
            self._binary(node, operator.add)

    def op_Sub(self, node, index, a):
        self._binary(node, operator.sub)

    def op_Mul(self, node, index, a):
        if not self._learned_scale(node, index):
            self._binary(node, operator.mul)

    def _learned_scale(self, node, index) -> bool:
        """A tensor times a weight of the file (ConvNeXt's layer scale, `x * gamma` with
        gamma C x 1 x 1): archdsl's `scale`, holding that weight."""
        for i, j in ((0, 1), (1, 0)):
            x, w = self.tensor(node.input[i]), node.input[j]
            c = self.const(w)  # (an initializer, or one torch.onnx shared through Identity)
            rank = self.rank(node.input[i])
            if x is None or c is None or c.dtype.kind != "f" or rank is None:
                continue
            shape = tuple(c.shape)
            while len(shape) >= rank and shape and shape[0] == 1:
                shape = shape[1:]  # a leading batch axis of 1
            if len(shape) >= rank or c.size < 2:
                return False
            from archdsl.backends.torch.runtime import Scale

            scale = Scale(shape)
            with torch.no_grad():
                scale.weight.copy_(torch.from_numpy(np.array(c, copy=True).reshape(shape)))
            # named after the file's weight: `features.1.0.layer_scale` is that layer's path
            self.call_module(node, index, scale, x,
                             weight=w if w.endswith(".weight") else w + ".weight")
            return True
        return False

    def op_Div(self, node, index, a):
        self._binary(node, operator.truediv)

    def op_Max(self, node, index, a):
        if len(node.input) != 2:
            return "a max of other than two tensors"
        self._binary(node, torch.maximum)

    def op_Min(self, node, index, a):
        if len(node.input) != 2:
            return "a min of other than two tensors"
        self._binary(node, torch.minimum)

    def op_Concat(self, node, index, a):
        parts = [self.tensor(n) for n in node.input]
        if any(p is None for p in parts):
            return "a concatenation with a constant of the file"
        if len(parts) == 1:  # `torch.cat([x])`: x itself
            self.set(node, parts[0])
            return None
        self.set(node, self.graph.call_function(torch.cat, (parts,),
                                                {"dim": self._axis(node, a, 1)}))

    def _slice_range(self, node, a):
        """(input, axis, start, stop) of a Slice of one axis, step 1, at constant bounds
        (clamped to the axis, whose size must be known); None otherwise."""
        if len(node.input) < 3:
            return None
        starts, ends = self.const(node.input[1]), self.const(node.input[2])
        axes = self.const(node.input[3]) if len(node.input) > 3 and node.input[3] else None
        steps = self.const(node.input[4]) if len(node.input) > 4 and node.input[4] else None
        if starts is None or ends is None or starts.size != 1 \
                or (steps is not None and int(steps.reshape(-1)[0]) != 1):
            return None
        rank = self.rank(node.input[0])
        axis = int(axes.reshape(-1)[0]) if axes is not None else 0
        if axis < 0 and rank is not None:
            axis += rank
        dims = self.static_dims.get(node.input[0])
        if dims is None:
            self._probe()
            dims = self.static_dims.get(node.input[0])
        if axis < 1 or dims is None or axis > len(dims):
            return None
        size = dims[axis - 1]
        start, stop = (int(v.reshape(-1)[0]) for v in (starts, ends))
        start, stop = (min(max(v + size if v < 0 else v, 0), size) for v in (start, stop))
        return node.input[0], axis, start, stop, size

    def op_Slice(self, node, index, a):
        """The equal pieces of one axis, each a Slice of the same tensor (what torch.onnx
        writes for `x.chunk(n, dim)`): archdsl's `chunk`, its pieces taken in order, made
        once the last piece is sliced (the bounds of the later pieces are computed between
        the slices)."""
        found = self._slice_range(node, a)
        if found is None:
            return "a slice other than an equal piece of one axis (archdsl's chunk)"
        name, axis, start, stop, size = found
        group = self.slices.setdefault((name, axis), {})
        group[(start, stop)] = node
        self.pending[node.output[0]] = node
        width = stop - start
        if not width or size % width:
            return None  # reported at the end if still a piece of nothing
        n = size // width
        wanted = [(k * width, (k + 1) * width) for k in range(n)]
        if not all(w in group for w in wanted):
            return None
        chunk = self.graph.call_method("chunk", (self.x(node), n), {"dim": axis})
        for k, w in enumerate(wanted):
            out = group[w].output[0]
            self.values[out] = self.graph.call_function(operator.getitem, (chunk, k))
            self.pending.pop(out, None)
        return None

    def op_Split(self, node, index, a):
        sizes = a.get("split")
        if sizes is None and len(node.input) > 1 and node.input[1]:
            sizes = self.const(node.input[1])
        count = len(node.output)
        if sizes is not None and len(set(int(v) for v in np.asarray(sizes).reshape(-1))) != 1:
            return "a split into pieces of other sizes (archdsl's chunk takes equal pieces)"
        axis = self._axis(node, a, 0)
        if axis < 1:
            return "a split of the batch"
        chunk = self.graph.call_method("chunk", (self.x(node), count), {"dim": axis})
        for k, out in enumerate(node.output):
            self.values[out] = self.graph.call_function(operator.getitem, (chunk, k))
        return None

    def op_Transpose(self, node, index, a):
        perm = a.get("perm")
        if perm is None or perm[0] != 0:
            return "a transpose that moves the batch dimension"
        self.set(node, self.graph.call_method("permute", (self.x(node), *perm)))

    def op_Reshape(self, node, index, a):
        shape = self.const(node.input[1])
        if shape is None:
            return "a shape computed at run time (archdsl's reshape has a fixed shape)"
        shape = [int(s) for s in shape]
        if shape and (shape[0] == BATCH or (shape[0] == self.fixed_batch and shape.count(-1))):
            # `x.view(x.size(0), ...)`; in a file exported at a fixed batch, that batch
            shape[0] = -1
            if shape.count(-1) > 1:
                dims = self.static_dims.get(node.input[0])
                if dims is None:
                    return "a reshape that infers a size of a tensor whose sizes are not known"
                known = int(np.prod([v for v in shape[1:] if v != -1]))
                shape = [-1] + [int(np.prod(dims)) // known if v == -1 else v
                                for v in shape[1:]]
        if any(v <= BATCH // 2 for v in shape):
            return "a shape computed from the batch size"
        if shape[0] not in (-1, 0) and shape.count(-1) == 0:
            return "a reshape that fixes the batch size"
        if shape[0] == 0 or shape.count(-1) == 0:
            shape[0] = -1
        elif shape[0] != -1:
            return "a reshape whose inferred size is not the batch"
        self.set(node, self.graph.call_method("reshape", (self.x(node), *shape)))

    def op_ReduceMean(self, node, index, a):
        axes = a.get("axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            axes = self.const(node.input[1])
        if axes is None:
            return "a mean over every dimension, the batch included"
        axes = [int(v) for v in np.asarray(axes).reshape(-1)]
        rank = self.rank(node.input[0])
        axes = [v + rank if v < 0 and rank is not None else v for v in axes]
        if 0 in axes:
            return "a mean over the batch"
        self.set(node, self.graph.call_method(
            "mean", (self.x(node), tuple(axes)), {"keepdim": bool(a.get("keepdims", 1))}))

    def op_Pad(self, node, index, a):
        pads = a.get("pads")
        if pads is None and len(node.input) > 1:
            pads = self.const(node.input[1])
        if pads is None:
            return "padding computed at run time"
        pads = [int(p) for p in np.asarray(pads).reshape(-1)]
        rank = len(pads) // 2
        begin, end = pads[:rank], pads[rank:]
        if begin[:2] != [0, 0] or end[:2] != [0, 0]:
            return "padding of the batch or channel dimension"
        mode = a.get("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        mode = {"edge": "replicate", "wrap": "circular"}.get(mode, mode)
        value = 0.0
        if len(node.input) > 2 and node.input[2]:
            c = self.const(node.input[2])
            if c is None:
                return "a padding value computed at run time"
            value = float(np.asarray(c).reshape(-1)[0])
        flat = tuple(p for axis in reversed(range(2, rank)) for p in (begin[axis], end[axis]))
        kwargs = {"mode": mode} | ({"value": value} if mode == "constant" else {})
        self.set(node, self.graph.call_function(F.pad, (self.x(node), flat), kwargs))

    def op_Resize(self, node, index, a):
        mode = a.get("mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        ctm = a.get("coordinate_transformation_mode", b"half_pixel")
        ctm = ctm.decode() if isinstance(ctm, bytes) else ctm
        scales = self.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        sizes = self.const(node.input[3]) if len(node.input) > 3 and node.input[3] else None
        rank = self.rank(node.input[0]) or 4
        if mode == "nearest":
            nearest = a.get("nearest_mode", b"round_prefer_floor")
            nearest = nearest.decode() if isinstance(nearest, bytes) else nearest
            if (ctm, nearest) != ("asymmetric", "floor"):
                return "a nearest resize other than torch's (asymmetric, floor)"
            how = {"mode": "nearest"}
        elif mode in ("linear", "cubic"):
            if ctm not in ("half_pixel", "pytorch_half_pixel", "align_corners"):
                return f"a {mode} resize with {ctm} coordinates"
            torch_mode = {"linear": {3: "linear", 4: "bilinear", 5: "trilinear"},
                          "cubic": {4: "bicubic"}}[mode].get(rank)
            if torch_mode is None:
                return f"a {mode} resize of a rank-{rank} tensor"
            how = {"mode": torch_mode, "align_corners": ctm == "align_corners"}
        else:
            return f"a {mode} resize"
        if sizes is not None and sizes.size:
            how["size"] = tuple(int(s) for s in sizes.reshape(-1)[2:])
        elif scales is not None and scales.size:
            factors = [float(s) for s in scales.reshape(-1)[2:]]
            how["scale_factor"] = tuple(factors)
        else:
            return "a resize whose sizes are computed at run time"
        self.set(node, self.graph.call_function(F.interpolate, (self.x(node),), how))


class _Unsupported(Exception):
    pass


BATCH = -(2 ** 40) + 7  # the batch size in folded shapes: a marker no real size equals
_MOVES = {"Gather", "Slice", "Concat", "Unsqueeze", "Squeeze", "Cast", "Identity",
          "Reshape", "Flatten"}  # what may carry the marker along without computing with it


def _evaluate(proto, node, inputs: list) -> list:
    """One node of constants through onnx's reference implementation."""
    import onnx
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    copy = onnx.NodeProto()
    copy.CopyFrom(node)
    del copy.input[:]
    del copy.output[:]
    names = [f"in{k}" if v is not None else "" for k, v in enumerate(inputs)]
    copy.input.extend(names)
    outs = [f"out{k}" for k in range(len(node.output))]
    copy.output.extend(outs)
    graph = helper.make_graph(
        [copy], "fold", [],
        [onnx.ValueInfoProto(name=o) for o in outs],
        [numpy_helper.from_array(np.asarray(v), n) for n, v in zip(names, inputs, strict=True)
         if v is not None])
    model = helper.make_model(graph, opset_imports=list(proto.opset_import))
    return ReferenceEvaluator(model).run(None, {})


class OnnxScope(nn.Module):
    """A scope of the file's module paths (`layer1.0`): its forward runs the part of the
    file's graph that torch.onnx recorded inside that module (an `fx.Graph` of its layers,
    functions and inner scopes), so calling it, tracing it or hooking it works as on the
    module it was exported from."""

    graph_: fx.Graph | None = None

    def forward(self, x):
        return fx.Interpreter(self, graph=self.graph_).run(x)


class _OnnxScope2(OnnxScope):
    def forward(self, x, x1):  # (torch.fx traces named arguments, not *args)
        return fx.Interpreter(self, graph=self.graph_).run(x, x1)


class _OnnxScope3(OnnxScope):
    def forward(self, x, x1, x2):
        return fx.Interpreter(self, graph=self.graph_).run(x, x1, x2)


_ARITY = {1: OnnxScope, 2: _OnnxScope2, 3: _OnnxScope3}


def _nest(root: nn.Module, flat: fx.Graph, node_scope: dict, outs: list) -> nn.Module:
    """The flat graph of the whole file cut at its module scopes: each scope's nodes become
    that scope's own graph, a call of it in its parent's. Scopes of children `0`, `1`, ...
    run in that order are `nn.Sequential`; the others get one class per structure (their
    children's names and classes, their graph's operations), `Block1`, `Block2`, ... in
    the order they first appear, so that scopes built alike share a class, as the model's
    own blocks did."""
    order = [n for n in flat.nodes if n.op not in ("placeholder", "output")]

    def scope(n: fx.Node) -> tuple[str, ...]:
        if n.op == "call_module":
            return tuple(n.target.split(".")[:-1])
        return node_scope.get(n, ())

    classes: dict[tuple, type] = {}

    def build(prefix: tuple[str, ...], nodes: list[fx.Node], inputs: list[fx.Node],
              outputs: list[fx.Node], holder: nn.Module) -> nn.Module:
        g = fx.Graph()
        env = {a: g.placeholder(f"x{i}" if i else "x") for i, a in enumerate(inputs)}
        children, unit_of = _units(prefix, nodes, scope)
        if _hoist_concats(prefix, children, node_scope):
            children, unit_of = _units(prefix, nodes, scope)
        units = list(dict.fromkeys(unit_of[n] for n in nodes))
        expanded: set[tuple[str, ...]] = set()
        for n in _scope_order(units, unit_of, children):
            if isinstance(n, fx.Node):
                copy = g.node_copy(n, lambda a: env[a])
                if n.op == "call_module":
                    copy.target = ".".join(n.target.split(".")[len(prefix):])
                env[n] = copy
                continue
            rel, inner = n, children[n]
            inside = set(inner)
            ins = list(dict.fromkeys(a for m in inner for a in m.all_input_nodes
                                     if a not in inside))
            used_outside = [m for m in inner if any(u not in inside for u in m.users)]
            if len(ins) > len(_ARITY):
                raise _TooMany(".".join((*prefix, *rel)), len(ins))
            parent = holder
            for part in rel[:-1]:  # a list of modules that is not called itself
                expanded.add(rel[:len(rel) - 1])
                parent = parent._modules.setdefault(part, OnnxScope())
            child_holder = parent._modules.get(rel[-1]) or OnnxScope()
            parent._modules[rel[-1]] = build((*prefix, *rel), inner, ins, used_outside,
                                             child_holder)
            call = g.call_module(".".join(rel), tuple(env[a] for a in ins))
            if len(used_outside) == 1:
                env[used_outside[0]] = call
            else:
                for k, m in enumerate(used_outside):
                    env[m] = g.call_function(operator.getitem, (call, k))
        for rel in sorted(expanded, key=len, reverse=True):
            _as_list(holder, rel)
        result = [env[o] for o in outputs]
        g.output(result[0] if len(result) == 1 else tuple(result))
        names = list(holder._modules)
        if names and all(n.isdigit() for n in names) and _chain(g, names):
            g, names = _fill(g, holder)
        sequential = names == [str(i) for i in range(len(names))] and _chain(g, names)
        if sequential:
            module: nn.Module = nn.Sequential()
        else:
            key = (tuple((name, type(m).__name__) for name, m in holder._modules.items()),
                   tuple((n.op, str(n.target)) for n in g.nodes))
            cls = classes.get(key) if prefix else None
            if cls is None:
                name = f"Block{len(classes) + 1}" if prefix else "OnnxModel"
                cls = type(name, (_ARITY[len(inputs)],), {"__doc__": OnnxScope.__doc__})
                if prefix:
                    classes[key] = cls
            module = cls()
            module.graph_ = g
        for name, m in holder._modules.items():
            module.add_module(name, m)
        return module

    return build((), order, [next(iter(flat.nodes))], outs, root).eval()


def _units(prefix: tuple, nodes: list, scope) -> tuple[dict, dict]:
    """The steps of a scope: each child scope that reads and gives one tensor (a call of
    it), and its own nodes. A child that gives several (a `ModuleList` whose modules the
    scope calls one by one, `layers.0`, `layers.1`) is not called itself: its children are
    the steps, down to its layers. (children: path below `prefix` -> nodes; unit_of: node ->
    its step, the node itself for the scope's own.)"""
    groups: dict[tuple[str, ...], list] = {}
    for n in nodes:
        rel = scope(n)[len(prefix):]
        if rel:
            groups.setdefault(rel[:1], []).append(n)
    children: dict[tuple[str, ...], list] = {}
    work = list(groups.items())
    while work:
        rel, members = work.pop(0)
        inside = set(members)
        outs = [m for m in members if any(u not in inside for u in m.users)]
        if len(outs) == 1:
            children[rel] = members
            continue
        deeper: dict[tuple[str, ...], list] = {}
        for n in members:
            r = scope(n)[len(prefix):]
            if len(r) > len(rel):
                deeper.setdefault(r[:len(rel) + 1], []).append(n)
        work.extend(deeper.items())
    unit_of: dict = {}
    for rel, members in children.items():
        for n in members:
            unit_of[n] = rel
    for n in nodes:
        unit_of.setdefault(n, n)  # the scope's own, and the layers of a list of them
    return children, unit_of


def _as_list(holder: nn.Module, rel: tuple[str, ...]) -> None:
    """A scope that is never called, only holds the modules its parent calls: an
    `nn.ModuleList` (children `0`, `1`, ...) or an `nn.ModuleDict`, as torch models have."""
    parent = holder
    for part in rel[:-1]:
        parent = parent._modules[part]
    old = parent._modules[rel[-1]]
    names = list(old._modules)
    new = nn.ModuleList() if names == [str(i) for i in range(len(names))] else nn.ModuleDict()
    for name, m in old._modules.items():
        new.add_module(name, m)
    parent._modules[rel[-1]] = new


def _hoist_concats(prefix: tuple, children: dict, node_scope: dict) -> bool:
    """A child scope that reads several tensors only to concatenate them first (DenseNet's
    layers take the list of the features so far): the concatenation is made the parent's,
    so the child takes one tensor, as a block does. Whether any was moved."""
    moved = False
    for members in children.values():
        inside = set(members)
        ins = {a for m in members for a in m.all_input_nodes if a not in inside}
        if len(ins) < 2:
            continue
        for cat in (m for m in members if m.op == "call_function" and m.target is torch.cat):
            if ins <= set(cat.all_input_nodes) and all(
                    u is cat or u not in inside for a in ins for u in a.users):
                node_scope[cat] = prefix
                moved = True
                break
    return moved


def _scope_order(units: list, unit_of: dict, children: dict) -> list:
    """The units of a scope (its own nodes, its child scopes) in an order that runs each
    after what it reads: the file's order where it allows (torch.onnx may interleave the
    nodes of sibling branches), each child scope as one step."""
    index = {u: k for k, u in enumerate(units)}
    deps: dict[object, set] = {u: set() for u in units}
    for u in units:
        for n in (children[u] if isinstance(u, tuple) else [u]):
            for a in n.all_input_nodes:
                v = unit_of.get(a)
                if v is not None and v is not u and v != u:
                    deps[u].add(v)
    import heapq

    waiting = {u: len(d) for u, d in deps.items()}
    users: dict[object, list] = {u: [] for u in units}
    for u, d in deps.items():
        for v in d:
            users[v].append(u)
    ready = [(index[u], k) for k, u in enumerate(units) if not waiting[u]]
    heapq.heapify(ready)
    out = []
    while ready:
        _, k = heapq.heappop(ready)
        u = units[k]
        out.append(u)
        for w in users[u]:
            waiting[w] -= 1
            if not waiting[w]:
                heapq.heappush(ready, (index[w], index[w]))
    if len(out) != len(units):  # two scopes that read each other: not calls of modules
        raise _Interleaved("")
    return out


def _gelu_patterns(graph, inits: dict) -> tuple[set[int], dict[int, str]]:
    """GELU as torch.onnx writes it below opset 20, `x * (erf(x / sqrt 2) + 1) * 0.5`: the
    indices of its nodes but the last (skipped), and the last's index -> the name of `x`."""
    consts = dict(inits)
    producer: dict[str, int] = {}
    users: dict[str, list[int]] = {}
    for k, n in enumerate(graph.node):
        if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
            from onnx import numpy_helper

            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
        for o in n.output:
            producer[o] = k
        for i in n.input:
            users.setdefault(i, []).append(k)

    def scalar(name, value):
        c = consts.get(name)
        return c is not None and c.size == 1 and np.isclose(float(c.reshape(-1)[0]), value)

    def other(node, name):
        return node.input[1] if node.input[0] == name else node.input[0]

    def only_user(name, op):
        us = users.get(name, [])
        return us[0] if len(us) == 1 and graph.node[us[0]].op_type == op else None

    skip: set[int] = set()
    fused: dict[int, str] = {}
    for k, erf in enumerate(graph.node):
        if erf.op_type != "Erf" or erf.input[0] not in producer:
            continue
        d = producer[erf.input[0]]
        div = graph.node[d]
        if div.op_type == "Div" and scalar(div.input[1], 2 ** 0.5):
            x = div.input[0]
        elif div.op_type == "Mul" and (scalar(div.input[1], 2 ** -0.5)
                                       or scalar(div.input[0], 2 ** -0.5)):
            x = div.input[0] if scalar(div.input[1], 2 ** -0.5) else div.input[1]
        else:
            continue
        a = only_user(erf.output[0], "Add")
        if a is None or not scalar(other(graph.node[a], erf.output[0]), 1.0):
            continue
        m = only_user(graph.node[a].output[0], "Mul")
        if m is None or other(graph.node[m], graph.node[a].output[0]) != x:
            continue
        h = only_user(graph.node[m].output[0], "Mul")
        if h is None or not scalar(other(graph.node[h], graph.node[m].output[0]), 0.5):
            continue
        if len(users.get(div.output[0], [])) != 1:
            continue
        skip |= {d, k, a, m}
        fused[h] = x
    return skip, fused


def _fill(g: fx.Graph, holder: nn.Module) -> tuple[fx.Graph, list[str]]:
    """A sequence whose numbering has holes (the layers an export folds or drops: a batch
    norm folded into the convolution before it, a dropout) with an `nn.Identity` in each,
    so that the sequence keeps the numbers of the file's names (`features.3` is still
    `features.3`)."""
    present = {int(n): m for n, m in holder._modules.items()}
    count = max(present) + 1
    if len(present) == count:
        return g, list(holder._modules)
    filled = fx.Graph()
    x = filled.placeholder("x")
    for k in range(count):
        holder._modules.pop(str(k), None)
        holder.add_module(str(k), present.get(k) or nn.Identity())
        x = filled.call_module(str(k), (x,))
    filled.output(x)
    return filled, list(holder._modules)


def _chain(g: fx.Graph, names: list[str]) -> bool:
    """Whether a scope's graph calls its children in order, each on the one before's
    output, and nothing else: what `nn.Sequential` computes."""
    calls = [n for n in g.nodes if n.op not in ("placeholder", "output")]
    if [n.op for n in calls] != ["call_module"] * len(names) \
            or [n.target for n in calls] != names:
        return False
    x = next(iter(g.nodes))
    for n in calls:
        if n.args != (x,) or n.kwargs:
            return False
        x = n
    return list(g.nodes)[-1].args[0] is x


class _TooMany(Exception):
    """A scope that reads more tensors than an archdsl block takes."""

    def __init__(self, path: str, count: int):
        self.path, self.count = path, count
        super().__init__(path)


class _Interleaved(Exception):
    """A scope's nodes are not one run of the file's order (its outputs are read before its
    last node): it cannot be called as one module."""


def onnx_to_module(source, input_shape=None) -> tuple[fx.GraphModule, tuple[int, ...]]:
    """(the module, the input shape without the batch) for an ONNX file path, bytes or
    `onnx.ModelProto`; `input_shape` fixes what the file leaves dynamic. Raises
    `OnnxUnsupported` (every node that has no layer) or `OnnxFileError`."""
    import onnx

    if isinstance(source, onnx.ModelProto):
        proto = source
    else:
        try:
            proto = (onnx.load_model_from_string(source) if isinstance(source, bytes)
                     else onnx.load(str(source)))
        except Exception as exc:
            raise OnnxFileError(f"not an ONNX model: {exc}") from None
    module, shape = _Converter(proto, input_shape).run()
    return module.eval(), shape
