"""`archdsl export FILE|ZOO -o OUT.onnx`: the network as ONNX (Netron, onnxruntime)."""

from __future__ import annotations

import sys

from ..extras import require
from . import SUMMARIES
from .common import EXIT_INPUT, EXIT_OK, UsageError, add_target, load_checked
from .compile import check_output


def add_parser(sub):
    p = sub.add_parser("export", help=SUMMARIES["export"],
                       description="Lower the network to PyTorch (fresh weights, PyTorch's "
                                   "initialisation and the file's `init` rules) and export it "
                                   "with torch.onnx; the batch dimension is dynamic.")
    add_target(p)
    p.add_argument("-o", "--output", metavar="OUT.onnx", required=True,
                   help="where to write the ONNX file")
    p.add_argument("--opset", type=int, default=17, metavar="N", help="ONNX opset (default 17)")
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="random seed for the weights (default 0): the same input and seed give "
                        "the same file, byte for byte")
    return p


def run(args) -> int:
    if args.output == "-":
        raise UsageError("export: ONNX is binary; give a file name with -o")
    require("onnx", "`archdsl export`")
    from ..backends.torch.onnx_export import OPSET, supported_opsets

    low, high = supported_opsets()
    if not low <= args.opset <= high:
        raise UsageError(f"--opset {args.opset} is not supported: opsets {low} to {high} can "
                         f"be exported here (default {OPSET})")
    check_output(args, "export")
    net = load_checked(args, args.target)
    if net is None:
        return EXIT_INPUT
    from ..backends.torch.onnx_export import ExportError, to_onnx
    from ..backends.torch.onnx_verify import unavailable

    try:
        to_onnx(net, args.output, opset=args.opset, seed=args.seed)
    except ExportError as exc:  # a layer ONNX cannot express: located, nothing written
        print(exc.render(), file=sys.stderr)
        return EXIT_INPUT
    unchecked = unavailable()
    print(f"wrote {args.output}: {net.name} ({net.params:,} parameters) as ONNX opset "
          f"{args.opset}" + (f" (not verified: {unchecked}; pip install onnx onnxruntime)"
                             if unchecked else ", checked with onnxruntime"), file=sys.stderr)
    return EXIT_OK
