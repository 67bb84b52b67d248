"""One valid program through every back end, each compared with something independent.

`check(text)` returns an `Outcome`: the problems found (each `stage: what`), the exports ONNX
refused with a located error for a documented reason, and what was skipped. The stages:

- `front end`: the program parses and checks clean, `IR.verify()` holds, and its input and
  output shapes are the ones the generator computed;
- `ir`: `differential.compare` (IR shapes, parameters, buffers, MACs and values against torch,
  aliasing declarations against storage);
- `source`: `to_source()` is deterministic, and the class it defines, exec'd with only torch,
  has the same state_dict (keys, shapes, order) and, with the same weights, the same output;
- `in place`: the module against a copy with every in-place update off, in eval mode and in
  train mode (seeded dropout), outputs and the gradients of a random projection of the output
  with respect to the input and every parameter; the caller's input is never written;
- `optimize`: `optimize(model)` (batch norms folded, channels-last) against the eager module
  in eval mode, with non-trivial batch-norm statistics;
- `onnx`: `to_onnx()` (which checks its own file) and then onnxruntime, run here on another
  batch, against the module; an `ExportError` is a refusal when its reason is one of
  `REFUSALS`, else a problem;
- `draw`: `to_dot()` is deterministic and `dot -Tsvg` turns it into well-formed SVG (skipped,
  with the reason, when `dot` is missing).
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import torch

import archdsl

BATCH = 2
# float32 on both sides with different kernels: the tolerances of the checks they mirror
RTOL, ATOL = 1e-4, 1e-5  # same library, other code paths (source, in place)
# folding batch norms changes the rounding, and a later batch-statistics norm of 2 samples
# can magnify that by up to 1/sqrt(eps) (seed 0, program 3213: 1.3e-5): tests/optimize's 1e-4
OPT_RTOL, OPT_ATOL = 1e-4, 1e-4
ORT_RTOL, ORT_ATOL = 1e-3, 1e-4  # onnxruntime (backends/torch/onnx_verify.py says why)

# Reasons for which the export refuses a valid network, by design (E0601, located):
REFUSALS = {
    "adaptive pool": "input is not a multiple of its",
    "window in padding only": "where PyTorch gives -inf",
    "ceil-mode windows": "ONNX's ceil mode can express",
    "nearest-exact upsample": "no export of the nearest-exact mode",
    "tracked instancenorm": "InstanceNormalization always uses the sample's own statistics",
    "softplus threshold": "ONNX's Softplus has no threshold",
    "transposed-conv output padding": "takes an output padding only below the stride",
}


@dataclass
class Outcome:
    problems: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _close(got, want, rtol=RTOL, atol=ATOL) -> bool:
    got, want = got.detach(), want.detach()
    if tuple(got.shape) != tuple(want.shape):
        return False
    finite = want[torch.isfinite(want)]
    scale = max(1.0, float(finite.abs().max())) if finite.numel() else 1.0
    return bool(torch.isclose(got, want, rtol=rtol, atol=atol * scale, equal_nan=True).all())


def joined(y):
    """One tensor for the comparisons: the outputs of `return main, aux` (a tuple, or
    onnxruntime's list) flattened and put side by side; a single output as it is."""
    if isinstance(y, (tuple, list)):
        if len(y) == 1:
            return torch.as_tensor(y[0])
        return torch.cat([torch.as_tensor(t).flatten(1) for t in y], 1)
    return y


def _randomize_norms(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                if m.running_mean is not None:
                    m.running_mean.uniform_(-0.5, 0.5)
                    m.running_var.uniform_(0.5, 2.0)
                if m.weight is not None:
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.5, 0.5)
    return model


def check(text: str, expected=None, *, draw: bool = True) -> Outcome:
    """Every stage on the program `text`; `expected` is the generator's `Arch` (shapes)."""
    out = Outcome()
    stages = [("front end", _front_end), ("ir", _ir), ("source", _source),
              ("in place", _in_place), ("optimize", _optimize), ("onnx", _onnx)]
    if draw:
        stages.append(("draw", _draw))
    state = {"text": text, "expected": expected}
    for stage, fn in stages:
        try:
            fn(state, out, stage)
        except Exception as exc:  # any escape is a finding, reported with its stage
            out.problems.append(f"{stage}: {type(exc).__name__}: {str(exc)[:300]}")
        if stage == "front end" and out.problems:
            break  # nothing to lower
    return out


def _front_end(state, out: Outcome, stage: str) -> None:
    net = archdsl.parse(state["text"])
    errors = [d for d in net.diagnostics if d.severity == "error"]
    if errors:
        out.problems.append(f"{stage}: {errors[0].message}")
        return
    net.ir.verify()
    arch = state["expected"]
    if arch is not None and (net.input_shape, net.output_shape) != (arch.input_shape,
                                                                    arch.output_shape):
        out.problems.append(f"{stage}: shapes {net.input_shape} -> {net.output_shape}, the "
                            f"generator computed {arch.input_shape} -> {arch.output_shape}")
    torch.manual_seed(0)
    state.update(net=net, model=net.to_torch(),
                 x=torch.randn(BATCH, *net.input_shape,
                               generator=torch.Generator().manual_seed(1)))


def _ir(state, out: Outcome, stage: str) -> None:
    from .differential import compare

    out.problems += [f"{stage}: {p}" for p in compare(state["net"], state["model"])]


def _source(state, out: Outcome, stage: str) -> None:
    net, model = state["net"], state["model"]
    src = net.to_source()
    if net.to_source() != src:
        out.problems.append(f"{stage}: to_source() is not deterministic")
    namespace: dict = {"__name__": "archdsl_generated"}
    exec(compile(src, f"<{net.name}.py>", "exec"), namespace)
    other = namespace[type(model).__name__]().eval()
    ours, theirs = model.state_dict(), other.state_dict()
    if [(k, tuple(v.shape)) for k, v in theirs.items()] != \
            [(k, tuple(v.shape)) for k, v in ours.items()]:
        out.problems.append(f"{stage}: state_dict keys or shapes differ")
        return
    other.load_state_dict(ours)
    model.eval()
    with torch.no_grad():
        if not _close(joined(other(state["x"].clone())), joined(model(state["x"].clone()))):
            out.problems.append(f"{stage}: the generated class computes other numbers")


def _in_place(state, out: Outcome, stage: str) -> None:
    from tests.torch.helpers import out_of_place

    # In float64: in-place and out-of-place maths differ only by rounding (an in-place
    # activation's backward reads its result, not its input), and rounding noise that an
    # ill-conditioned network amplifies (a training batch norm of a constant channel divides
    # it by sqrt(eps)) then stays far below the error of a tensor overwritten while read.
    model = copy.deepcopy(state["model"]).double()
    ref = out_of_place(model)
    data = state["x"].double()
    for training in (False, True):
        model.train(training)
        ref.train(training)
        x, x_ref = data.clone().requires_grad_(), data.clone().requires_grad_()
        torch.manual_seed(2)
        got = joined(model(x))
        torch.manual_seed(2)
        want = joined(ref(x_ref))
        mode = "train" if training else "eval"
        if not torch.equal(x.detach(), data):
            out.problems.append(f"{stage}: the caller's input was overwritten ({mode})")
        if not _close(got, want):
            out.problems.append(f"{stage}: outputs differ from the out-of-place copy ({mode})")
            return
        if not training or not got.requires_grad:
            continue
        weights = torch.randn(got.shape, generator=torch.Generator().manual_seed(3))
        (got * weights).sum().backward()
        (want * weights).sum().backward()
        # (the reference is the flat fx graph, which holds only the layers it calls: a dead
        # branch's parameters get no gradient in either)
        theirs = dict(ref.named_parameters())
        pairs = [("input", x.grad, x_ref.grad)] + [
            (n, p.grad, theirs[n].grad) for n, p in model.named_parameters() if n in theirs]
        # A gradient that is 0 in exact arithmetic (a conv bias before a batch norm in
        # training) comes out of float32 as rounding noise, which two runs of the same maths
        # may round differently: the tolerance is scaled to the largest gradient of the run.
        scale = max((float(h.abs().max()) for _, _, h in pairs if h is not None and h.numel()),
                    default=0.0)
        for name, g, h in pairs:
            if (g is None) != (h is None) or (g is not None and not _close(g, h)
                                              and not _close(g, h, 0.0, 1e-3 * scale)):
                out.problems.append(f"{stage}: gradient of {name} differs (train)")
                return


def _optimize(state, out: Outcome, stage: str) -> None:
    from archdsl.backends.torch.optimize import optimize

    model = _randomize_norms(state["model"].eval())
    fast = optimize(model)
    with torch.no_grad():
        want = joined(model(state["x"].clone()))
        got = joined(fast(state["x"].clone()))
    if not _close(got, want, OPT_RTOL, OPT_ATOL):
        worst = float((got - want).abs().nan_to_num().max()) if got.shape == want.shape else -1
        out.problems.append(f"{stage}: optimize(model) computes other numbers (by {worst:.3g})")


def _onnx(state, out: Outcome, stage: str) -> None:
    try:
        import onnxruntime as ort
    except ImportError:
        out.skipped.append(f"{stage}: onnxruntime is not installed")
        return
    from archdsl.backends.torch.onnx_export import ExportError

    net, model = state["net"], state["model"].eval()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "net.onnx")
        try:
            net.to_onnx(path, model=model)
        except ExportError as exc:
            message = exc.diagnostics[0].message
            reason = next((k for k, v in REFUSALS.items() if v in message), None)
            if reason is None:
                out.problems.append(f"{stage}: export refused: {message[:300]}")
            else:
                out.refused.append(reason)
            return
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = torch.randn(BATCH + 1, *net.input_shape, generator=torch.Generator().manual_seed(4))
    got = joined([torch.from_numpy(g) for g in session.run(None, {"input": x.numpy()})])
    with torch.no_grad():
        want = joined(model(x))
    if not _close(got, want, ORT_RTOL, ORT_ATOL) and not _close(
            got, want, ORT_RTOL, ORT_ATOL + _float32_error(model, x, want)):
        out.problems.append(f"{stage}: onnxruntime computes other numbers than torch")


def _float32_error(model, x, want) -> float:
    """8 times the largest distance of torch's float32 output from a float64 run: neither
    side computes an ill-conditioned network (layer norms of near-constant rows) better."""
    with torch.no_grad():
        exact = joined(copy.deepcopy(model).double()(x.double()))
    diff = (want.double() - exact).abs()
    diff = diff[torch.isfinite(diff)]
    return 8.0 * float(diff.max()) if diff.numel() else 0.0


def _draw(state, out: Outcome, stage: str) -> None:
    net = state["net"]
    dot = net.to_dot()
    if net.to_dot() != dot:
        out.problems.append(f"{stage}: to_dot() is not deterministic")
    program = shutil.which("dot")
    if program is None:
        out.skipped.append(f"{stage}: svg skipped, Graphviz's `dot` is not installed")
        return
    run = subprocess.run([program, "-Tsvg"], input=dot.encode(), capture_output=True,
                         timeout=60)
    if run.returncode != 0:
        out.problems.append(f"{stage}: dot failed: {run.stderr.decode()[:300]}")
        return
    ET.fromstring(run.stdout)  # raises on malformed SVG
