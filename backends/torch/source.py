"""`to_source`: a checked network as one standalone Python file that needs only PyTorch.

The file reads like hand-written PyTorch: one class per block definition (codegen.py says how
instances share it and which numbers become constructor parameters), `nn.Sequential` for plain
sequences, and the network's class composing them, each with an `__init__` that builds its
children (`# file.arch:line` after each) and a `forward` in plain statements. The classes
register their children in the `.arch` file's order, so `state_dict` keys, shapes and order
are the IR's names (torchvision's, for the zoo). `to_torch` runs this same text (lower.py):
the file and the in-memory model are the same code.

The layer classes torch.nn lacks (`Scale`, `StochasticDepth`...) and `literal_kernel` are
copied from `runtime.py`, read as text (`ast`): writing the file imports no torch, so
`archdsl compile` is quick. The output is deterministic: the same network gives the same
bytes.

With `optimize=True` the classes are unchanged (trained state_dicts still load) and the file
also defines `optimize(model)`: it traces the module with `torch.fx` and runs the passes of
`optimize/fold_bn.py` and `optimize/channels_last.py` on it, their functions copied verbatim
(as text), so the file folds exactly the batch norms `to_torch(optimize=True)` folds.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from archdsl import __version__
from archdsl.escape import py_comment, py_docstring, py_str, py_value, shell_word

from . import inits
from .codegen import Generated, generate

HERE = Path(__file__).parent


def _fmt_shape(shape) -> str:
    return "(" + ", ".join(str(d) for d in ("N", *shape)) + ")"


def _wrap_tuple(items: list[str], indent: str, width: int = 100) -> str:
    """`("a", "b", ...)` over as many lines as it needs."""
    one = "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if len(indent) + len(one) + 20 <= width:
        return one
    lines, cur = [], ""
    for item in items:
        piece = item + ","
        if cur and len(indent) + 4 + len(cur) + 1 + len(piece) > width:
            lines.append(cur)
            cur = piece
        else:
            cur = f"{cur} {piece}" if cur else piece
    lines.append(cur)
    inner = "\n".join(indent + "    " + line for line in lines)
    return "(\n" + inner + "\n" + indent + ")"


def _init_lines(steps: list[inits.InitStep]) -> list[str]:
    """Consecutive steps that do the same thing to different layers share one loop."""
    out: list[str] = []
    i = 0
    while i < len(steps):
        j = i
        key = (steps[i].param, steps[i].func, steps[i].kwargs)
        while j + 1 < len(steps) and (steps[j + 1].param, steps[j + 1].func,
                                      steps[j + 1].kwargs) == key:
            j += 1
        group = steps[i:j + 1]
        if len(group) == 1:
            s = group[0]
            out.append(s.source(f"self.get_submodule({py_str(s.path)}).{s.param}"))
        else:
            # The body is indented by 8 later; wrap as if it were.
            paths = _wrap_tuple([py_str(s.path) for s in group], "", width=92)
            out.append(f"for path in {paths}:")
            out.append("    " + group[0].source(f"self.get_submodule(path).{group[0].param}"))
        i = j + 1
    return out


# `optimize(model)` of a file compiled with `optimize=True`. The passes it calls are copied
# from the modules `to_torch(optimize=True)` runs (their `run` renamed), not rewritten.
_OPTIMIZE = '''
def optimize(model: nn.Module) -> nn.Module:
    """`model` (weights loaded) made ready for inference: in eval mode, each batch norm whose
    input is a conv used by nothing else is folded into that conv, and the 2-D convs for which
    PyTorch's channels-last kernels are exact run channels-last. It computes what
    `model.eval()` computes, up to float rounding.

    The result is a `torch.fx.GraphModule` that shares tensors with `model`: use it in its
    place (`model = optimize(model)`). Keep, train or save the unoptimised module: its
    `state_dict` is the one the class loads.
    """
    model = fx.symbolic_trace(model.eval())
    return channels_last(fold_bn(model))
'''


@cache
def _defs(path: Path) -> dict[str, str]:
    """The top-level functions, classes and assignments of a module, as source text, read
    from its file (not imported: the generator never imports torch)."""
    text = path.read_text(encoding="utf-8")
    out = {}
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out[node.name] = ast.get_source_segment(text, node)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = ast.get_source_segment(text, node)
    return out


def _renamed_run(path: Path, name: str) -> str:
    """The source of `path`'s `run`, named `name`."""
    src = _defs(path)["run"]
    assert src.startswith("def run("), path
    return f"def {name}(" + src[len("def run("):]


def _optimize_helpers() -> list[str]:
    """The optimisation passes' functions and constants, as source, then `optimize`."""
    fold = _defs(HERE / "optimize" / "fold_bn.py")
    last = _defs(HERE / "optimize" / "channels_last.py")
    return [
        fold["_CONVS"] + "\n" + fold["_NORMS"],
        *(fold[f] for f in ("fold", "_foldable", "_replace")),
        _renamed_run(HERE / "optimize" / "fold_bn.py", "fold_bn"),
        *(last[f] for f in ("channels_last_safe", "channels_last_copy", "to_channels_last",
                            "to_contiguous")),
        _renamed_run(HERE / "optimize" / "channels_last.py", "channels_last"),
        _OPTIMIZE.lstrip("\n"),
    ]


def _out_text(out) -> str:
    """`(N, 10)`, or for several outputs (a list of (name, shape)) `(main (N, 10), aux (N, 10))`
    (names are identifiers: the grammar's NAME)."""
    if isinstance(out, list):
        return "(" + ", ".join(f"{n} {_fmt_shape(s)}" for n, s in out) + ")"
    return _fmt_shape(out)


def _header(network: str, source_path: str, params_used: dict, in_shape, out_shape,
              params: str, optimize: bool, chosen: dict | None = None) -> list[str]:
    """The comment lines at the top. The first two hold no text from the input: Python reads
    a `coding:` declaration there (PEP 263), and a path or a string saying `coding: utf-7`
    would make it decode the rest of the file otherwise than it looks."""
    settings = ", ".join(f"{k}={v!r}" for k, v in sorted(params_used.items())) or "(none)"
    words, left = [], []
    for k, v in sorted(params_used.items()):
        given = cli_value(v)
        if given is None:
            left.append(k)
        else:
            words.append(f"--set {shell_word(f'{k}={given}')}")
    command = ["archdsl", "compile", shell_word(source_path), *words]
    chosen = chosen or {}
    if chosen.get("network"):
        command += ["--network", shell_word(chosen["network"])]
    if chosen.get("input"):
        command += ["--input", "x".join(str(d) for d in chosen["input"])]
    lines = [
        f"Generated by archdsl {__version__}; needs only PyTorch.",
        "Regenerate it rather than edit it, with the command below.",
        f"Network `{network}` from {source_path}",
        f"Parameters: {settings}",
        f"Input {_fmt_shape(in_shape)} -> output {_out_text(out_shape)}"
        + (f"; {params}." if params else "."),
        "  " + " ".join(command) + (" --optimize" if optimize else ""),
    ]
    if left:
        lines.append("  (--set cannot give " + ", ".join(left) + "; the command uses the "
                     "file's value)")
    return ["# " + py_comment(line) for line in lines]


def cli_value(v) -> str | None:
    """The text `--set k=TEXT` reads back as `v` (commands/common.parse_value), or None."""
    from archdsl.commands.common import parse_value
    from archdsl.values import Dims

    if isinstance(v, bool):
        text = "true" if v else "false"
    elif isinstance(v, int):
        text = str(v)
    elif isinstance(v, float):
        text = repr(v)
    elif isinstance(v, Dims):
        text = str(v)
    elif isinstance(v, str):
        text = v if parse_value(v) == v and type(parse_value(v)) is str else f'"{v}"'
    else:
        return None
    back = parse_value(text)
    return text if back == v and type(back) is type(v) else None


@dataclass
class Rendered:
    """A generated file and what `to_torch` needs to know about it."""

    text: str
    gen: Generated
    # (class name, line number) -> (layer name relative to the instance, input variables):
    # the forward lines that compute a layer themselves (merges, resizes...)
    lines: dict[tuple[str, int], tuple[str, tuple]]


def render(net, optimize: bool = False, standalone: bool = True) -> Rendered:
    """The source text of `net`; `standalone=False` (to_torch) lets a custom function kind
    in, as a global the caller supplies (`gen.fn_globals`)."""
    ir = getattr(net, "ir", net)
    attrs = ir.attrs if hasattr(ir, "attrs") else ir.graph.graph
    source_path = getattr(net, "source", None) or attrs.get("source") or "<string>"
    params_used = getattr(net, "params_used", None) or attrs.get("params_used", {})
    in_shape = ir.node(ir.input)["shape"]
    results = ir.results()
    out_shape = ir.node(ir.output)["shape"] if len(results) == 1 else [
        (n, ir.node(nid)["shape"]) for n, nid in results]
    totals = attrs.get("totals")
    params = f"{totals.params:,} parameters" if totals is not None else ""

    def network_lines(cls: str):
        doc = [f"`{ir.name}`: input {_fmt_shape(in_shape)}, output {_out_text(out_shape)}."]
        if len(results) > 1:
            doc.append(f"`forward` returns the tuple {_out_text(out_shape)}.")
        head = ["    " + py_docstring(doc), "",
                f"    input_shape = {py_value(tuple(in_shape))}  # without the batch", ""]
        tail = []
        steps = inits.init_steps(ir)
        if steps:
            tail.append("# Initialisation stated in the .arch file (PyTorch's defaults "
                        "elsewhere).")
            tail += _init_lines(steps)
        return head, tail

    gen = generate(ir, network_lines, standalone)
    cls = gen.cls
    runtime = _defs(HERE / "runtime.py")
    helpers = []
    if gen.literal_kernel:
        helpers.append(runtime["literal_kernel"])
    helpers += [runtime[name] for name in gen.runtime]
    if optimize:
        helpers += _optimize_helpers()
    doc = [f"`{ir.name}` as a PyTorch module, compiled from {source_path} by archdsl."]
    if optimize:
        doc += ["", "For inference: build the module, load its weights, `model.eval()`, then",
                "`model = optimize(model)` (batch norms folded into convs, channels-last).", ""]
    out: list = [
        *_header(ir.name, source_path, params_used, in_shape, out_shape, params, optimize,
                 attrs.get("chosen")),
        py_docstring(doc),
        "",
        "import torch",
        "from torch import fx, nn" if optimize else "from torch import nn",
        "",
        "",
    ]
    for h in helpers:
        out += [h.rstrip("\n"), "", ""]
    for _, body in gen.classes:
        out += [*body, "", ""]
    out += [
        'if __name__ == "__main__":',
        *([f"    model = {cls}().eval()"] if not optimize else [
            f"    model = {cls}()",
            '    # model.load_state_dict(torch.load("weights.pt"))  # trained weights, if any',
            "    model.eval()",
            "    model = optimize(model)  # after loading: folds batch norms, channels-last",
        ]),
        "    with torch.inference_mode():",
        f"        y = model(torch.randn(1, *{cls}.input_shape))",
        f"    print({py_str(cls + ': input')}, (1, *{cls}.input_shape), \"-> output\", "
        + ("tuple(y.shape))" if len(results) == 1 else "[tuple(t.shape) for t in y])"),
        "",
    ]
    text_lines, table = [], {}
    for item in out:
        for piece in (item.split("\n") if isinstance(item, str) else [item]):
            if isinstance(piece, tuple):
                line, owner, rel, names = piece
                table[(owner, len(text_lines) + 1)] = (rel, names)
                piece = line
            text_lines.append(piece)
    return Rendered("\n".join(text_lines), gen, table)


def to_source(net, optimize: bool = False) -> str:
    """The network as standalone PyTorch source (a string; `archdsl compile` writes it).

    >>> import archdsl
    >>> src = archdsl.zoo("lenet5").to_source()
    >>> "class Lenet5(nn.Module):" in src
    True

    With `optimize=True` the file also defines `optimize(model)` (batch norms folded into
    convs, channels-last), for inference after the weights are loaded:

    >>> "def optimize(model" in archdsl.zoo("resnet18").to_source(optimize=True)
    True
    """
    return render(net, optimize=optimize).text
