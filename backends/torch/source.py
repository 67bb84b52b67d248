"""`to_source`: a checked network as one standalone Python file that needs only PyTorch.

The file defines one `nn.Module` class named after the network. Its `__init__` registers the
same submodules, built by the same `ModuleCall`s, in the same order as `to_torch`, so the
`state_dict` keys, shapes and order are identical; its `forward` is the fx code of `to_torch`'s
module, printed once more; its class attribute `input_shape` is `to_torch`'s `input_shape`.
The helpers it needs (`place`, `literal_kernel`, the layer classes torch.nn lacks) are
copied from `runtime.py`. The output is
deterministic: the same network gives the same bytes.

With `optimize=True` the class is unchanged (trained state_dicts still load) and the file also
defines `optimize(model)`: it traces the module with `torch.fx` and runs the passes of
`optimize/fold_bn.py` and `optimize/channels_last.py` on it, their functions copied verbatim,
so the file folds exactly the batch norms `to_torch(optimize=True)` folds, the same way.
"""

from __future__ import annotations

import ast
import inspect
import keyword
import textwrap

from torch import nn

from archdsl import __version__
from archdsl.escape import py_comment, py_docstring, py_str, py_value, shell_word

from . import inits, runtime
from .build import class_name, plan
from .optimize import channels_last, fold_bn


def _fmt_shape(shape) -> str:
    return "(" + ", ".join(str(d) for d in ("N", *shape)) + ")"


def _attr_ok(name: str) -> bool:
    """Can this submodule be written `self.name = ...`?"""
    return name.isidentifier() and not keyword.iskeyword(name) and not hasattr(nn.Module, name)


def _register_line(name: str, call_src: str) -> str:
    if "." not in name:
        if _attr_ok(name):
            return f"self.{name} = {call_src}"
        return f"self.add_module({py_str(name)}, {call_src})"
    return f"place(self, {py_str(name)}, {call_src})"


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


def _renamed_run(module, name: str) -> str:
    """The source of `module.run`, named `name`."""
    src = inspect.getsource(module.run)
    assert src.startswith("def run("), module.__name__
    return f"def {name}(" + src[len("def run("):]


def _optimize_helpers() -> list[str]:
    """The optimisation passes' functions and constants, as source, then `optimize`."""

    def classes(name: str, kinds) -> str:
        return f"{name} = (" + ", ".join(f"nn.{k.__name__}" for k in kinds) + ")"

    return [
        classes("_CONVS", fold_bn._CONVS) + "\n" + classes("_NORMS", fold_bn._NORMS),
        *(inspect.getsource(f) for f in (fold_bn.fold, fold_bn._foldable, fold_bn._replace)),
        _renamed_run(fold_bn, "fold_bn"),
        *(inspect.getsource(f) for f in (channels_last.channels_last_safe,
                                         channels_last.channels_last_copy,
                                         channels_last.to_channels_last,
                                         channels_last.to_contiguous)),
        _renamed_run(channels_last, "channels_last"),
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


# Globals fx's forward may read: fx writes an infinite or NaN argument as the bare name `inf`
# or `nan` (its own GraphModule supplies them); the standalone file defines them only then.
_FX_CONSTANTS = {"inf": 'inf = float("inf")', "nan": 'nan = float("nan")'}


def _forward_constants(src: str) -> list[str]:
    """The definitions the forward needs besides `torch` and the builtins; any other name it
    reads without defining it is a lowering that the standalone file cannot run: refused."""
    import builtins

    fn = ast.parse(src).body[0]
    bound = {a.arg for a in fn.args.args} | {
        n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    free = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)} - bound - {"torch"} - set(dir(builtins))
    unknown = free - set(_FX_CONSTANTS)
    if unknown:
        raise ValueError(f"the forward reads {sorted(unknown)}, which the standalone file does "
                         "not define")
    return [_FX_CONSTANTS[name] for name in sorted(free)]


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
    ir = getattr(net, "ir", net)
    attrs = ir.attrs if hasattr(ir, "attrs") else ir.graph.graph
    source_path = getattr(net, "source", None) or attrs.get("source") or "<string>"
    params_used = getattr(net, "params_used", None) or attrs.get("params_used", {})
    p = plan(ir)
    cls = class_name(ir.name)
    in_shape = ir.node(ir.input)["shape"]
    results = ir.results()
    out_shape = ir.node(ir.output)["shape"] if len(results) == 1 else [
        (n, ir.node(nid)["shape"]) for n, nid in results]
    totals = attrs.get("totals")
    params = f"{totals.params:,} parameters" if totals is not None else ""

    init_body = []
    for name, call, span in p.modules:
        init_body.append(f"{_register_line(name, call.source())}  # {py_comment(span.short())}")
    steps = inits.init_steps(ir)
    if steps:
        init_body.append("# Initialisation stated in the .arch file (PyTorch's defaults "
                         "elsewhere).")
        init_body += _init_lines(steps)

    # The forward refers to `torch` (torch.cat) and builtins only; tests run the file alone.
    code = p.graph.python_code(root_module="self")
    forward = textwrap.indent(code.src.strip("\n"), "    ").rstrip() + "\n"
    constants = _forward_constants(code.src)

    helpers = [inspect.getsource(runtime.place)]
    if any(call.kernel is not None for _, call, _ in p.modules):
        helpers.append(inspect.getsource(runtime.literal_kernel))
    for helper in sorted({call.cls for _, call, _ in p.modules if call.runtime}):
        helpers.append(inspect.getsource(getattr(runtime, helper)))
    if optimize:
        helpers += _optimize_helpers()

    doc = [f"`{ir.name}` as a PyTorch module, compiled from {source_path} by archdsl."]
    if optimize:
        doc += ["", "For inference: build the module, load its weights, `model.eval()`, then",
                "`model = optimize(model)` (batch norms folded into convs, channels-last).", ""]
    lines = [
        *_header(ir.name, source_path, params_used, in_shape, out_shape, params, optimize,
                 attrs.get("chosen")),
        py_docstring(doc),
        "",
        "import torch",
        "from torch import fx, nn" if optimize else "from torch import nn",
        *constants,
        "",
        "",
    ]
    for h in helpers:
        lines += [h.rstrip("\n"), "", ""]
    lines += [
        f"class {cls}(nn.Module):",
        "    " + py_docstring([f"`{ir.name}`: input {_fmt_shape(in_shape)}, output "
                             f"{_out_text(out_shape)}."]
                            + ([f"`forward` returns the tuple {_out_text(out_shape)}."]
                               if len(results) > 1 else [])),
        "",
        f"    input_shape = {py_value(tuple(in_shape))}  # without the batch",
        "",
        "    def __init__(self):",
        "        super().__init__()",
        *("        " + line for line in "\n".join(init_body).split("\n")),
        "",
        forward.rstrip("\n"),
        "",
        "",
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
    return "\n".join(lines)
