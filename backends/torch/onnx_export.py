"""`to_onnx`: a checked network as an ONNX file (for Netron, onnxruntime), via `torch.onnx`.

It uses TorchScript-based exporter (`dynamo=False`): it works offline, needs nothing beyond
torch and onnx, and gives a compact graph with one initializer per weight. The batch dimension
is dynamic (`batch`); the input is called `input` and the output `output`. The file is written
atomically and never over a `.arch` file.
"""

from __future__ import annotations

import io
import os
import warnings

import torch

from archdsl.fileio import write_atomic

from .lower import to_torch

OPSET = 17


def to_onnx(net, path: str | os.PathLike, *, opset: int = OPSET, model=None) -> str:
    """Export to `path`; returns the path. `model` reuses an already lowered module (its
    weights are exported), otherwise a fresh `to_torch()` is exported.

    >>> import archdsl, tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "lenet5.onnx")
    >>> archdsl.zoo("lenet5").to_onnx(out) == out
    True
    """
    path = os.fspath(path)
    model = to_torch(net) if model is None else model
    ir = getattr(net, "ir", net)
    example = torch.zeros(1, *ir.node(ir.input)["shape"], dtype=next(
        (p.dtype for p in model.parameters()), torch.float32))
    buf = io.BytesIO()
    training = model.training
    model.eval()  # dropout off, batch norm on running statistics: the inference graph
    try:
        with warnings.catch_warnings():
            # The TorchScript exporter announces its deprecation on every call.
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (example,), buf, dynamo=False, opset_version=opset,
                              input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                              do_constant_folding=True)
    finally:
        model.train(training)
    write_atomic(path, buf.getvalue())
    return path
