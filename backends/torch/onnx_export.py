"""`to_onnx`: a checked network as an ONNX file (for Netron, onnxruntime), via `torch.onnx`.

It uses TorchScript-based exporter (`dynamo=False`): it works offline, needs nothing beyond
torch and onnx, and gives a compact graph with one initializer per weight. The batch dimension
is dynamic (`batch`); the input is called `input` and the output `output`. The file is written
atomically and never over a `.arch` file, and only once the export has succeeded.

ONNX has no adaptive pooling. An `adaptive_avgpool` (`adaptive_maxpool`) to 1 everywhere is a
`GlobalAveragePool` (`GlobalMaxPool`); one whose input is a multiple of its output is an
average (max) pool of window and stride input/output (the same windows, the same numbers),
and is exported as that `nn.AvgPoolNd` (`nn.MaxPoolNd`)
(torch.onnx would do the same, but only where it can still see the input size, which it loses
after some layers, `lrn` for one). Any other is refused before exporting: E0601 at the layer.
Whatever else the exporter refuses is also E0601, at the layer its message names when it can
be found; the exporter's own output (it prints its graph to stdout) is swallowed.

A nearest resize at fixed sizes whose rows onnxruntime's `Resize` would round differently
from PyTorch's kernel (14 -> 4 rows: row 6 where PyTorch reads row 7) is exported as gathers
of PyTorch's own rows (`onnx_nearest`).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import sys
import tempfile
import warnings

import torch
from torch import nn

from archdsl.diagnostics import ArchError, Diagnostic
from archdsl.fileio import write_atomic

from . import onnx_rewrites as rewrites
from . import onnx_verify as _verify
from .lower import to_torch
from .module import module_path, submodule
from .onnx_nearest import exact_nearest

OPSET = 17


def supported_opsets() -> tuple[int, int]:
    """The opsets this torch's exporter writes, capped by what the installed onnx package
    knows (each file is then run in onnxruntime, which refuses an operator it cannot run)."""
    from torch.onnx import _constants

    low = getattr(_constants, "ONNX_MIN_OPSET", 7)
    high = getattr(_constants, "ONNX_MAX_OPSET", OPSET)
    try:
        import onnx

        high = min(high, onnx.defs.onnx_opset_version())
    except (ImportError, AttributeError):
        pass
    return low, high


class ExportError(ArchError):
    """The network cannot be written as ONNX; `diagnostics` says where and why (E0601)."""


def to_onnx(net, path: str | os.PathLike, *, opset: int = OPSET, model=None,
            seed: int | None = None, verify: bool = True) -> str:
    """Export to `path`; returns the path. `model` reuses an already lowered module (its
    weights are exported), otherwise a fresh `to_torch()` is exported, its weights drawn from
    `torch.manual_seed(seed)` when `seed` is given (the same file, byte for byte, each time;
    the global random state is left as it was). Raises `ExportError` (an `ArchError`) for a
    layer ONNX cannot express, and for a file that does not pass `onnx_verify.verify` (the
    ONNX checker, then onnxruntime against the module on a random batch); nothing is written
    then. `verify=False` skips that check; without onnx or onnxruntime installed the part that
    needs them is skipped (`onnx_verify.unavailable()` says which).

    >>> import archdsl, tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "lenet5.onnx")
    >>> archdsl.zoo("lenet5").to_onnx(out, seed=0) == out
    True
    """
    path = os.fspath(path)
    ir = getattr(net, "ir", net)
    swaps, problems = _adaptive_pools(ir)
    problems += _modes(ir)
    if problems:
        raise ExportError(problems)
    if model is None:
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            model = to_torch(net)
    example = torch.zeros(1, *ir.node(ir.input)["shape"], dtype=next(
        (p.dtype for p in model.parameters()), torch.float32))
    buf = io.BytesIO()
    training = model.training
    model.eval()  # dropout off, batch norm on running statistics: the inference graph
    try:
        # exact equivalents of layers that torch.onnx or onnxruntime get wrong (onnx_rewrites)
        swaps = swaps + rewrites.swaps(ir, model, dynamic=bool(_dynamic_sizes(ir)))
        fixes, problems = rewrites.ceil_pool_fixes(ir, model)
        if problems:
            raise ExportError([_cannot(ir, nid, why, help="write `count_include_pad=false`, "
                                       "or give the pool an input whose sizes divide evenly")
                               for nid, why in problems])
        with warnings.catch_warnings():
            # The TorchScript exporter announces its deprecation on every call (and torch
            # warns about even "same" kernels on every forward).
            warnings.simplefilter("ignore")
            with _swapped(model, swaps), _silenced(), \
                    exact_nearest(enabled=not _dynamic_sizes(ir)):
                _export(model, example, buf, opset, output_names(ir), _dynamic_sizes(ir))
            data = buf.getvalue()
            if fixes:
                try:
                    data = rewrites.patch_pools(data, fixes, [ir.node(nid)["shape"]
                                                             for _, nid in ir.results()], model)
                except (ImportError, LookupError) as exc:  # no onnx package; an odd graph
                    raise ExportError([_cannot(ir, _node_named(ir, name), "its ceil-mode "
                                               f"windows need the file rewritten: {exc}")
                                       for name in fixes]) from exc
            problems = _verify.verify(ir, model, data) if verify else []
    except RuntimeError as exc:  # torch.onnx's errors (OnnxExporterError) are RuntimeErrors
        raise ExportError([_diagnose(ir, model, exc, opset)]) from exc
    finally:
        model.train(training)
    if problems:
        raise ExportError(problems)
    write_atomic(path, data)
    return path


def output_names(ir) -> list[str]:
    """The ONNX outputs: `output`, or the names of `return main, aux` (never `input`)."""
    return [n if n != "input" else "input_" for n, _ in ir.results()]


def _dynamic_sizes(ir) -> dict[int, str]:
    """Input axes besides the batch that the file keeps dynamic: the spatial ones, when the
    network reads a size from a tensor at run time (`upsample(like=...)`, `crop(like=...)`),
    so that the ONNX file, like the module, takes other input sizes."""
    from archdsl import ops

    def reads_size(data) -> bool:
        return any(data["args"].get(a) is not None for a in ops.tensor_args(ops.get(data["op"])))

    if not any(reads_size(d) for _, d in ir.layers()):
        return {}
    rank = len(ir.node(ir.input)["shape"])
    return {i: f"size{i}" for i in range(2, rank + 1)}


def _export(model: nn.Module, example: torch.Tensor, out, opset: int,
            outputs: list[str] | None = None, sizes: dict[int, str] | None = None) -> None:
    outputs = outputs or ["output"]
    axes = {"input": {0: "batch", **(sizes or {})}, **{o: {0: "batch"} for o in outputs}}
    torch.onnx.export(model, (example,), out, dynamo=False, opset_version=opset,
                      input_names=["input"], output_names=outputs, dynamic_axes=axes,
                      do_constant_folding=True)


def _node_named(ir, name: str) -> int:
    return next(nid for nid, data in ir.nodes() if data["name"] == name)


# upsample modes the TorchScript exporter has no ONNX form for, at the opsets it writes
_NO_ONNX_MODE = {"nearest-exact": "torch.onnx has no export of the nearest-exact mode",
                 "area": "torch.onnx exports the area mode (an adaptive average pool) only for "
                         "a constant output that divides its input"}


def _modes(ir) -> list[Diagnostic]:
    return [_cannot(ir, nid, _NO_ONNX_MODE[data["args"]["mode"]],
                    help='use mode="nearest" (the same output for integer scales) or a '
                         "linear mode")
            for nid, data in ir.nodes()
            if data["op"] == "upsample" and data["args"].get("mode") in _NO_ONNX_MODE]


def _cannot(ir, nid: int, why: str, **kw) -> Diagnostic:
    from archdsl import ops

    data = ir.node(nid)
    spec = ops.lookup(data["op"])
    label = spec.label(data["args"]) if spec else data["op"]
    return Diagnostic("E0601", f"cannot export layer `{data['name']}` ({label}) to ONNX: {why}",
                      data["span"], **kw)


# adaptive pools and the fixed-window pools they equal when the output divides the input
_PLAIN_POOLS = {"adaptive_avgpool": "AvgPool", "adaptive_maxpool": "MaxPool"}


# kind -> (does ONNX lack these arguments?, why, help): refused before exporting, at the layer
_REFUSED = {
    "instancenorm": (lambda a: a["track"],
                     "ONNX's InstanceNormalization always uses the sample's own statistics, "
                     "while a tracked instance norm in eval mode uses its running ones",
                     "write `instancenorm` without `track=true` (PyTorch's default) to export it"),
    # PyTorch allows an output padding below the dilation too; onnxruntime's ConvTranspose
    # only below the stride (fuzz seed 2024, program 60)
    "conv_transpose": (lambda a: any(o >= st for o, st in zip(a["output_pad"], a["stride"],
                                                                 strict=True)),
                       "onnxruntime's ConvTranspose takes an output padding only below the "
                       "stride, and PyTorch's is as large as it (allowed by the dilation)",
                       "give an output padding below the stride, or pad after the layer"),
    # above beta*x > threshold torch returns x itself; ONNX's Softplus always computes
    # log(1 + exp(x)), which differs there by up to log(1 + exp(-threshold)) / beta
    "softplus": (lambda a: math.log1p(math.exp(-a["threshold"])) / abs(a["beta"] or 1) > 1e-6,
                 "ONNX's Softplus has no threshold (above it PyTorch returns x itself)",
                 "use the default threshold of 20, where the two agree"),
}


def _adaptive_pools(ir) -> tuple[list[tuple[str, nn.Module]], list[Diagnostic]]:
    """(modules to export in place of adaptive pools, diagnostics for those ONNX can't do)."""
    swaps, problems = [], []
    live = ir.live()
    for nid, data in ir.nodes():
        refused = _REFUSED.get(data["op"])
        if refused is not None and nid in live and refused[0](data["args"]):
            problems.append(_cannot(ir, nid, refused[1], help=refused[2]))
            continue
        plain = _PLAIN_POOLS.get(data["op"])
        if plain is None or nid not in live:
            continue
        size = tuple(data["args"]["size"])
        got = tuple(ir.input_shapes(nid)[0][1:])
        if all(s == 1 for s in size):
            continue  # GlobalAveragePool
        if all(g % s == 0 for g, s in zip(got, size, strict=True)):
            window = tuple(g // s for g, s in zip(got, size, strict=True))
            pool = getattr(nn, f"{plain}{len(size)}d")(window, stride=window)
            swaps.append((data["name"], pool))
            continue
        dims = "x".join(map(str, got))
        want = "x".join(map(str, size))
        problems.append(_cannot(
            ir, nid, f"its {dims} input is not a multiple of its {want} output",
            label="ONNX has no adaptive pooling",
            notes=["an adaptive pool exports as an average pool only when each output size "
                   "divides the input size: "
                   + ", ".join(f"{g} % {s} = {g % s}" for g, s in zip(got, size, strict=True))],
            help=f"use an input size that gives `{data['name']}` a multiple of {want} (it "
                 f"gets {dims}), or a plain `{plain.lower()}` with a fixed window"))
    return swaps, problems


@contextlib.contextmanager
def _swapped(model: nn.Module, swaps: list[tuple[str, nn.Module]]):
    """Put `swaps` at their paths in `model` for the export, then put the originals back."""
    saved = []
    try:
        for name, module in swaps:
            parent_name, _, leaf = module_path(model, name).rpartition(".")
            parent = model.get_submodule(parent_name)
            saved.append((parent, leaf, parent._modules[leaf]))
            parent._modules[leaf] = module
        yield
    finally:
        for parent, leaf, original in reversed(saved):
            parent._modules[leaf] = original


@contextlib.contextmanager
def _silenced():
    """Swallow what the exporter prints: Python's streams and file descriptors 1 and 2 (it
    dumps its TorchScript graph from C++ when it fails)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = []
    try:
        with tempfile.TemporaryFile() as sink:
            try:
                for fd in (1, 2):
                    saved.append((fd, os.dup(fd)))
                    os.dup2(sink.fileno(), fd)
            except OSError:
                pass  # no such descriptor (an embedding host): Python's streams still are
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()):
                yield
    finally:
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)


_OPERATOR = re.compile(r"operator '?(?:aten::)?(\w+)")


def _snake(name: str) -> str:
    """`AdaptiveAvgPool2d` -> `adaptive_avg_pool2d`, the name of the aten op it calls."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _diagnose(ir, model: nn.Module, exc: BaseException, opset: int) -> Diagnostic:
    """E0601 for an exporter failure: at the layer whose module calls the operator the message
    names (the first that fails alone when several do), else at the network's input."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    # Keep the reason; drop the exporter's plea for a pull request and its graph dump.
    first = re.split(r"\.? +Please |\s+\[Caused by ", first.removeprefix("Unsupported: "))[0]
    first = first.rstrip(".")
    match = _OPERATOR.search(first)
    live = ir.live()
    candidates = []
    for nid, data in ir.nodes():
        if nid in live and match and data["op"] != "input":
            module = _get(model, data["name"])
            if module is not None and _snake(type(module).__name__) == match.group(1):
                candidates.append(nid)
    if len(candidates) > 1:
        alone = [nid for nid in candidates if _fails_alone(ir, model, nid, opset)]
        candidates = alone or candidates
    help_ = ("replace the layer with one ONNX can express, or export with another --opset"
             if candidates else "export with another --opset, or leave the layer out")
    if candidates:
        return _cannot(ir, candidates[0], first, help=help_)
    return Diagnostic("E0601", f"cannot export network `{ir.name}` to ONNX: {first}",
                      ir.node(ir.input)["span"], help=help_)


def _get(model: nn.Module, name: str) -> nn.Module | None:
    try:
        return submodule(model, name)
    except AttributeError:
        return None


def _fails_alone(ir, model: nn.Module, nid: int, opset: int) -> bool:
    shapes = ir.input_shapes(nid)
    module = _get(model, ir.node(nid)["name"])
    if module is None or len(shapes) != 1:
        return False
    try:
        with _silenced(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _export(module, torch.zeros(1, *shapes[0]), io.BytesIO(), opset)
    except RuntimeError:
        return True
    return False
