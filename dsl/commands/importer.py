"""`archdsl import SPEC [-o FILE]`: an existing PyTorch model as an `.arch` file
(docs/import.md).

SPEC is `pkg.module:factory` or `pkg.module:Class(args)`, imported and run as Python (what
the person asks for by naming it). The model is traced, each call mapped to an archdsl kind,
its module paths kept, its blocks recovered (backends/importer). Exit 0: written. Exit 1:
the model has parts archdsl cannot express; each is listed with its model path and nothing
is written (with `--mark-unsupported`, children whose names cannot be labels are written
renamed and marked, and listed: exit 1 too). Exit 2: a SPEC that names nothing importable,
or a bad `--input`.
"""

from __future__ import annotations

import os
import sys

from ..escape import visible
from ..extras import require
from ..fileio import write_atomic
from . import SUMMARIES
from .common import EXIT_INPUT, EXIT_OK, UsageError


def add_parser(sub):
    p = sub.add_parser("import", help=SUMMARIES["import"],
                       description="Trace a PyTorch model (torch.fx) and write the .arch file "
                                   "that compiles back to it: the same state_dict keys, order "
                                   "and shapes, and the same outputs. Naming a Python module "
                                   "imports it, which runs its code.")
    p.add_argument("spec", metavar="SPEC",
                   help="the model: MODULE:FACTORY or MODULE:Class(ARGS), e.g. "
                        "torchvision.models:resnet50 or my_pkg.nets:Net(width=64) (the "
                        "arguments are Python literals), or a saved FILE.onnx")
    p.add_argument("-o", "--output", metavar="FILE.arch",
                   help="where to write the file (default: standard output)")
    p.add_argument("--input", dest="input_shape", metavar="CxHxW",
                   help="the shape of one input sample, batch left out (default 3x224x224; "
                        "for an ONNX file, its input's)")
    p.add_argument("--name", metavar="NAME",
                   help="the network's name (default: the factory's or the class's)")
    p.add_argument("--mark-unsupported", action="store_true",
                   help="write the file even where a child's name cannot be an archdsl label "
                        "(`block`, `block1-0`): renamed and marked `# UNSUPPORTED`, listed, "
                        "exit 1 (its state_dict keys differ there)")
    return p


def run(args) -> int:
    require("torch", "`archdsl import`")
    from ..api import parse_shape

    try:
        shape = parse_shape(args.input_shape) if args.input_shape else None
    except ValueError as exc:
        raise UsageError(f"--input: {exc}") from None
    if args.output not in (None, "-") and os.path.isdir(args.output):
        raise UsageError(f"import: cannot write {args.output}: it is a folder; give a file "
                         "name, e.g. net.arch")
    from ..backends.importer import Unexpressible, from_onnx, from_torch, spec

    onnx_file = args.spec.endswith(".onnx")
    try:
        if onnx_file:
            result = _onnx(args, shape, from_onnx)
        else:
            result = _python(args, shape or (3, 224, 224), from_torch, spec)
    except Unexpressible as exc:
        print(render_missing(args.spec, exc.missing), file=sys.stderr)
        return EXIT_INPUT
    if args.output in (None, "-"):
        sys.stdout.write(result.text)
    else:
        write_atomic(args.output, result.text, allow_arch=True)
        print(f"wrote {visible(args.output)}: {result.network.name} ({result.lines} lines, "
              f"{result.blocks} blocks, {result.network.params:,} parameters)",
              file=sys.stderr)
    if result.marked:
        print(render_missing(args.spec, result.marked, written=True), file=sys.stderr)
        return EXIT_INPUT
    return EXIT_OK


def _python(args, shape, from_torch, spec):
    try:
        model = spec.load(args.spec)
    except spec.SpecError as exc:
        raise UsageError(f"import: {exc}") from None
    source = getattr(sys.modules.get(spec.parse(args.spec)[0]), "__file__", None)
    if args.output not in (None, "-") and source and \
            os.path.realpath(args.output) == os.path.realpath(source):
        raise UsageError(f"import: refusing to write {args.output}: it is the model's source")
    name = args.name or spec.default_name(args.spec)
    return from_torch(model, shape, name=name, source=args.spec,
                      mark_unsupported=args.mark_unsupported)


def _onnx(args, shape, from_onnx):
    require("onnx", "`archdsl import FILE.onnx`")
    from ..backends.importer.onnx_import import OnnxError

    if not os.path.isfile(args.spec):
        raise UsageError(f"import: no such file: {args.spec}")
    if args.output not in (None, "-") and \
            os.path.realpath(args.output) == os.path.realpath(args.spec):
        raise UsageError(f"import: refusing to write {args.output}: it is the input file")
    try:
        return from_onnx(args.spec, shape, name=args.name, source=args.spec,
                         mark_unsupported=args.mark_unsupported)
    except OnnxError as exc:
        raise UsageError(f"import: {exc}") from None


def render_missing(spec: str, missing, written: bool = False) -> str:
    """The parts that have no archdsl counterpart, one diagnostic each, in forward order."""
    lines = []
    for m in missing:
        where = visible(m.path) if m.path else "(the model)"
        lines.append(f"{visible(spec)}: error: {where}: {visible(m.what)}: {visible(m.reason)}")
    n = len(missing)
    lines.append(f"{n} part{'s' if n != 1 else ''} of the model cannot be expressed in archdsl; "
                 + ("written renamed and marked `# UNSUPPORTED`" if written else
                    "nothing written"))
    return "\n".join(lines)
