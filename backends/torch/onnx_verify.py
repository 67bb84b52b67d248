"""The check every exported ONNX file passes before it is written.

1. `onnx.checker.check_model(full_check=True)`: the format, and strict shape inference over
   the whole graph (a declared shape that the operators do not produce fails here);
2. the declared output shape equals the network's (batch dynamic);
3. onnxruntime loads the file and runs it on a random batch of `BATCH` (not the export's
   batch of 1, so the dynamic batch axis is exercised), and its output equals the PyTorch
   module's in eval mode: |onnx - torch| <= RTOL * |torch| + ATOL * max(1, max |torch|),
   widened, where that fails, by PyTorch's own float32 error (8 times its largest distance
   from a float64 run of the same module): an ill-conditioned network's float32 numbers are
   no more exact than that on either side.

The tolerance: both sides compute in float32 with different kernels (accumulation order,
fused multiply-adds, oneDNN's and MLAS's convolution algorithms), so results differ in the last
bits, more after long reductions and many layers. torch.onnx's own verification uses a
relative 1e-3; the absolute part is scaled by the output's magnitude so that cancellation in a
sum of large terms is not taken for a bug. An export bug (a wrong padding, window, axis or
divisor) moves outputs by the order of the values themselves, far above it. Positions that are
NaN or infinite must be so on both sides.

Any failure is an E0601 at the layer it concerns: the node named in the checker's or
onnxruntime's message, or, for different numbers, the first layer (in IR order) whose output
differs once every layer's output is made a graph output; else the network's input. Nothing is
written then. Without `onnx` or `onnxruntime` installed the corresponding check is skipped and
reported by the CLI (`unavailable()`; `archdsl[onnx]` installs both).
"""

from __future__ import annotations

import re

import torch
from torch import fx, nn

from archdsl.diagnostics import Diagnostic

BATCH = 2
RTOL = 1e-3
ATOL = 1e-4

_NODE = re.compile(r"(?:node name: ?|Name:')(/[^\s',)]+)")


def unavailable() -> str:
    """What `verify` cannot do here ("" when onnx and onnxruntime are both installed)."""
    import importlib.util

    missing = [m for m in ("onnx", "onnxruntime") if importlib.util.find_spec(m) is None]
    if not missing:
        return ""
    return (" and ".join(missing) + (" is" if len(missing) == 1 else " are")
            + " not installed, so the file was not " + ("checked" if "onnx" in missing
                                                         else "run in onnxruntime"))


def verify(ir, model: nn.Module, data: bytes, seed: int = 0) -> list[Diagnostic]:
    """The problems of the ONNX bytes `data` exported from `model` (eval mode)."""
    try:
        import onnx
    except ImportError:
        return []
    proto = onnx.load_from_string(data)
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as exc:  # ValidationError, InferenceError: the checker's own types
        return [_at_node(ir, f"the ONNX checker refuses the file: {_first(exc)}", str(exc))]
    ends = [nid for _, nid in ir.results()]
    for i, nid in enumerate(ends):
        declared = _declared_output(proto, i)
        want_shape = tuple(ir.node(nid)["shape"])
        if declared is not None and declared != want_shape:
            return [_at(ir, nid, "the file declares its output as "
                        f"{_dims(declared)}, but the network gives {_dims(want_shape)}")]
    try:
        import onnxruntime as ort
    except ImportError:
        return []
    x = torch.randn(BATCH, *ir.node(ir.input)["shape"],
                    generator=torch.Generator().manual_seed(seed))
    try:
        gots = _session(ort, data).run(None, {"input": x.numpy()})
    except Exception as exc:  # onnxruntime's errors have no common public base class
        return [_ort_failure(ir, ort, data, x, exc)]
    with torch.no_grad():
        wants = model(x.clone())
    if len(ends) == 1:
        wants = (wants,)
    exact = None  # float64 outputs, made only when float32 ones disagree
    for i, (nid, got, want) in enumerate(zip(ends, gots, wants, strict=True)):  # each output
        got = torch.from_numpy(got)
        if tuple(got.shape) != tuple(want.shape):
            return [_at(ir, nid, f"onnxruntime gives a {_dims(got.shape[1:])} output, "
                        f"PyTorch {_dims(want.shape[1:])}")]
        ok, worst = _close(got, want)
        if not ok:
            exact = _float64_outputs(model, x) if exact is None else exact
            ok = exact is not None and _close(got, want, _rounding(want, exact[i]))[0]
        if not ok:
            return [_first_difference(ir, model, onnx, ort, proto, x, worst)]
    return []


def _float64_outputs(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, ...] | None:
    """The outputs of a float64 copy of `model` (None where a layer cannot run in float64)."""
    import copy

    try:
        with torch.no_grad():
            out = copy.deepcopy(model).double()(x.double())
    except Exception:  # a custom layer may be float32 only; then no allowance is made
        return None
    return out if isinstance(out, tuple) else (out,)


def _rounding(want: torch.Tensor, exact: torch.Tensor) -> float:
    """The allowance for PyTorch's own float32 rounding error in this output: 8 times the
    largest distance of its float32 result from the float64 one. A well-conditioned network
    has none to speak of; an ill-conditioned one (a layer norm of a near-constant row divides
    rounding noise by sqrt(eps); three in a row make it of the order of the values) has
    float32 results that neither PyTorch nor onnxruntime computes better than that."""
    diff = (want.double() - exact).abs()
    diff = diff[torch.isfinite(diff)]
    return 8.0 * float(diff.max()) if diff.numel() else 0.0


def _session(ort, data: bytes, optimize: bool = True):
    options = ort.SessionOptions()
    # fatal only: its warnings, and the errors archdsl reports itself (located), would reach
    # the terminal as a second, unlocated message
    options.log_severity_level = 4
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def _close(got: torch.Tensor, want: torch.Tensor, rounding: float = 0.0) -> tuple[bool, str]:
    """(within tolerance, the worst element described); `rounding` widens the absolute part
    by PyTorch's own float32 error (`_rounding`)."""
    finite = want[torch.isfinite(want)]
    scale = max(1.0, float(finite.abs().max())) if finite.numel() else 1.0
    atol = ATOL * scale + rounding
    close = torch.isclose(got, want, rtol=RTOL, atol=atol, equal_nan=True)
    if bool(close.all()):
        return True, ""
    diff = (got - want).abs().nan_to_num(nan=float("inf"), posinf=float("inf"))
    diff[close] = 0
    i = int(diff.flatten().argmax())
    g, w = float(got.flatten()[i]), float(want.flatten()[i])
    tol = RTOL * abs(w) + atol
    return False, (f"{g:.6g} where PyTorch gives {w:.6g}"
                   + (f" (tolerance {tol:.3g})" if abs(w) != float("inf") else ""))


def _first_difference(ir, model, onnx, ort, proto, x, worst: str) -> Diagnostic:
    """E0601 at the first layer whose ONNX output differs from PyTorch's."""
    why = f"onnxruntime computes other numbers than PyTorch: {worst}"
    try:
        outputs = _layer_outputs(proto, model)
        ours = _torch_outputs(model, x)
        wanted = [name for _, data in ir.nodes() if (name := data["name"]) in outputs
                  and name in ours]
        got = []
        if wanted:  # (asked for no output, onnxruntime answers with all of them)
            traced = _with_outputs(onnx, proto, [outputs[n] for n in wanted])
            session = _session(ort, traced.SerializeToString())
            got = session.run([outputs[n] for n in wanted], {"input": x.numpy()})
    except Exception:  # the search is a courtesy: the difference itself is established
        wanted, got, ours = [], [], {}
    for name, value in zip(wanted, got, strict=True):
        value, mine = torch.from_numpy(value), ours[name]
        nid = next(i for i, d in ir.nodes() if d["name"] == name)
        if tuple(value.shape) != tuple(mine.shape):
            return _at(ir, nid, f"onnxruntime gives this layer a {_dims(value.shape[1:])} "
                       f"output, PyTorch {_dims(mine.shape[1:])}")
        ok, here = _close(value, mine)
        if not ok:
            return _at(ir, nid, f"onnxruntime computes other numbers than PyTorch here: {here}")
    return _at(ir, ir.output, why)


def _layer_outputs(proto, model: nn.Module | None = None) -> dict[str, str]:
    """IR name -> the ONNX value its last node makes (torch.onnx names nodes after the module
    path: `/layer1/0/conv1/Conv` is made by `layer1.0.conv1`)."""
    names = getattr(type(model), "_arch", None)
    names = names.paths if names is not None else None  # module path -> IR name
    out = {}
    for node in proto.graph.node:
        path = node.name.strip("/").split("/")[:-1]
        if path and node.output:
            key = ".".join(path)
            if names is not None:
                if key not in names:
                    continue  # a block's own node (a merge): not one layer's output
                key = names[key]
            out[key] = node.output[0]
    return out


def _torch_outputs(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    outputs: dict[str, torch.Tensor] = {}

    class Recorder(fx.Interpreter):
        def run_node(self, n):
            result = super().run_node(n)
            name = n.meta.get("arch_name")
            if name is not None and isinstance(result, torch.Tensor):
                outputs[name] = result.clone()  # a later in-place layer may overwrite it
            return result

    from .module import trace

    with torch.no_grad():
        Recorder(model if isinstance(model, fx.GraphModule) else trace(model)).run(x.clone())
    return outputs


def _with_outputs(onnx, proto, names: list[str]):
    model = onnx.ModelProto()
    model.CopyFrom(proto)
    known = {v.name for v in model.graph.output}
    for name in names:
        if name not in known:
            model.graph.output.append(onnx.helper.make_tensor_value_info(
                name, onnx.TensorProto.FLOAT, None))
            known.add(name)
    return model


def _ort_failure(ir, ort, data: bytes, x, exc: BaseException) -> Diagnostic:
    """E0601 for a file onnxruntime refuses to load or run; the node is named by the
    unoptimised graph's error when the optimised one renamed it."""
    message = str(exc)
    if not _NODE.search(message):
        try:
            _session(ort, data, optimize=False).run(None, {"input": x.numpy()})
        except Exception as plain:
            message = str(plain) + "\n" + message
    return _at_node(ir, f"onnxruntime refuses the file: {_first(exc)}", message)


def _at_node(ir, why: str, message: str) -> Diagnostic:
    """At the layer whose ONNX node the message names, else at the network's input."""
    names = {d["name"]: nid for nid, d in ir.nodes()}
    for match in _NODE.finditer(message):
        path = ".".join(match.group(1).strip("/").split("/")[:-1])
        if path in names:
            return _at(ir, names[path], why)
    return _at(ir, ir.input, why, network=True)


def _at(ir, nid: int, why: str, network: bool = False) -> Diagnostic:
    from archdsl import ops

    data = ir.node(nid)
    spec = ops.lookup(data["op"])
    label = spec.label(data["args"]) if spec else data["op"]
    what = f"network `{ir.name}`" if network else f"layer `{data['name']}` ({label})"
    return Diagnostic(
        "E0601", f"cannot export {what} to ONNX: {why}", data["span"],
        notes=[f"every export is loaded by onnxruntime and run on a random batch of {BATCH}; "
               f"it must give PyTorch's output within |onnx - torch| <= {RTOL:g}·|torch| + "
               f"{ATOL:g}·max(1, max |torch|)"],
        help="nothing was written; change the layer's settings, or report it if the layer is "
             "an ordinary one (a bug in archdsl's export)")


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    text = re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", text)
    return (text.splitlines() or [type(exc).__name__])[0][:300]


def _declared_output(proto, i: int = 0) -> tuple[int, ...] | None:
    dims = proto.graph.output[i].type.tensor_type.shape.dim
    if not dims or any(not d.HasField("dim_value") for d in dims[1:]):
        return None
    return tuple(d.dim_value for d in dims[1:])


def _dims(shape) -> str:
    return "x".join(map(str, shape))
