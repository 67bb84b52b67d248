"""Elaboration: syntax tree -> IR. Expands blocks, repetitions, conditionals and merges,
names every layer after its place in the module hierarchy, and infers each node's shape as
the node is made (blocks may read their input's shape, so shapes cannot wait).

Naming, as nn.Module would: a label (`conv1: ...`) names a layer, or opens a scope when it
labels a block call, group, list, repetition or conditional. Unlabelled layers and block
calls are numbered within their scope like nn.Sequential (parameterless layers counted);
braces alone do not make a name. Merges (`concat`, `add`) are functions, not modules.
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass, field, replace

from . import ops
from . import syntax as s
from .argspec import ANY, REQUIRED, ArgSpec, bind, suggest
from .budget import CURRENT, MAX_WORK, Budget, OutOfWork, out_of_work
from .diagnostics import MAX_DIAGNOSTICS, Diagnostic, Diagnostics, Label
from .evaluate import Evaluator, check_number
from .fileio import MAX_FILE_SIZE
from .foreign import foreign_layer, layer_note
from .inits import INIT_FUNCTIONS, PARAM_NAMES, InitRule
from .ir import IR, ScopeInfo
from .ops import ShapeProblem
from .source import Span
from .tables import Tables
from .values import POISON, Dims, Tensor, describe_value, fmt_bytes, fmt_shape, type_name

_MEMORY_HELP = ("no machine has this much memory to spare; check the layer sizes, or raise the "
                "limit with --max-memory BYTES")

BASE_CONSTANTS = {"same": "same", "valid": "valid", "fan_in": "fan_in", "fan_out": "fan_out"}

# Names a label cannot take: the torch backends register each layer and scope as an attribute
# of an nn.Module (the root is an fx GraphModule), and `add_module` refuses a name the module
# already has; the generated source also uses them as Python names. Written out rather than
# read from torch, which the front end never imports; tests/test_language.py checks this
# covers every public attribute of torch.nn.Module and fx.GraphModule. Python keywords are
# refused as well (`keyword.iskeyword`), and so is any `__dunder__`.
RESERVED_LABELS = frozenset((
    # torch.nn.Module: methods and attributes
    "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init",
    "children", "compile", "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr",
    "float", "forward", "get_buffer", "get_extra_state", "get_parameter", "get_submodule",
    "half", "ipu", "load_state_dict", "modules", "mtia", "named_buffers", "named_children",
    "named_modules", "named_parameters", "parameters", "register_backward_hook",
    "register_buffer", "register_forward_hook", "register_forward_pre_hook",
    "register_full_backward_hook", "register_full_backward_pre_hook",
    "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook",
    "register_module", "register_parameter", "register_state_dict_post_hook",
    "register_state_dict_pre_hook", "requires_grad_", "set_extra_state", "set_submodule",
    "share_memory", "state_dict", "to", "to_empty", "train", "training", "type", "xpu",
    "zero_grad",
    # its private state, set on every instance
    "_apply", "_backward_hooks", "_backward_pre_hooks", "_buffers", "_call_impl",
    "_compiled_call_impl", "_forward_hooks", "_forward_hooks_always_called",
    "_forward_hooks_with_kwargs", "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
    "_get_backward_hooks", "_get_backward_pre_hooks", "_get_name", "_is_full_backward_hook",
    "_load_from_state_dict", "_load_state_dict_post_hooks", "_load_state_dict_pre_hooks",
    "_maybe_warn_non_full_backward_hook", "_modules", "_named_members",
    "_non_persistent_buffers_set", "_parameters", "_register_load_state_dict_pre_hook",
    "_register_state_dict_hook", "_replicate_for_data_parallel", "_save_to_state_dict",
    "_slow_forward", "_state_dict_hooks", "_state_dict_pre_hooks", "_version",
    "_wrapped_call_impl",
    # torch.fx.GraphModule (the compiled network's root) and the generated `forward(self, ...)`
    "add_submodule", "code", "delete_all_unused_submodules", "delete_submodule", "graph",
    "print_readable", "recompile", "to_folder", "self",
))


_INPUT_KEY = "\0input"  # the --input shape among the overrides (no parameter has this name)


def reserved_label(name: str) -> str | None:
    """Why `name` cannot label a layer or scope, or None when it can."""
    if name in s.KEYWORDS:
        return "it is an archdsl keyword"
    if keyword.iskeyword(name):
        return "it is a Python keyword"
    if name in RESERVED_LABELS or (name.startswith("__") and name.endswith("__")):
        return "PyTorch modules use it"
    return None


@dataclass
class Limits:
    """Resource limits; each exceeded one is a diagnostic at the offending line."""

    max_repeat: int = 100_000          # count of one `item * N`
    max_depth: int = 100               # nested block calls
    max_layers: int = 1_000_000        # IR nodes after expansion
    max_params: int = 10**11           # parameters in the whole network
    max_tensor: int = 2**40            # elements of one activation (one sample)
    max_int: int = 2**62               # integer values
    max_import_depth: int = 32         # files in one chain of imports (used by the loader)
    max_file_size: int = MAX_FILE_SIZE  # bytes of one source file (used by the loader)
    max_work: int = MAX_WORK           # units of work of one run, parsing included (budget.py)
    max_memory: int = 16 * 2**30       # bytes of the weights, or of one activation (float32)


BYTES = 4  # of a float32: what a parameter, a buffer or an activation element takes by default
MAX_ERRORS = MAX_DIAGNOSTICS  # elaboration stops when the collector is full (gcc's -fmax-errors)


class _Abort(Exception):
    """Stop elaborating: a limit was hit and going on would only burn time."""


CURRENT_TENSOR = "x"  # the name of the current tensor: what flows into the item being made


class Env:
    """Names visible in a block instance: parameters, `in`, values bound with `y = ...`, and
    `x`, the current tensor (set as each item is made; a value bound as `x` hides it)."""

    def __init__(self, module: s.Module, parent: Env | None = None):
        self.vars: dict[str, object] = {}
        self.current: Tensor | None = None  # what flows into the item being made
        # label -> what it labels (`conv(...)`), for the help of "unknown name" in expressions
        self.labels: dict[str, str] = {}
        self.module = module
        self.parent = parent

    def lookup(self, name: str):
        env = self
        while env is not None:
            if name in env.vars:
                return True, env.vars[name]
            env = env.parent
        if name == CURRENT_TENSOR and self.current is not None:
            return True, self.current
        return False, None

    def label(self, name: str) -> str | None:
        """What `name` labels (`conv(...)`), when it is a layer label and not a value."""
        env = self
        while env is not None:
            if name in env.labels:
                return env.labels[name]
            env = env.parent
        return None

    def names(self) -> list[str]:
        out, env = set(), self
        while env is not None:
            out |= set(env.vars)
            env = env.parent
        if self.current is not None:
            out.add(CURRENT_TENSOR)
        return sorted(out)


@dataclass
class Scope:
    """Where names go. Transparent groups share their parent's Scope object."""

    path: tuple[str, ...]
    scopes: tuple[ScopeInfo, ...] = ()
    inits: tuple[InitRule, ...] = ()
    counter: int = 0
    taken: dict[str, Span] = field(default_factory=dict)
    merges: dict[str, int] = field(default_factory=dict)  # kind -> next suffix to try
    automatic: dict[str, str] = field(default_factory=dict)  # unlabelled merge's name -> kind
    # `layer1.0.`: what the names made here start with (a layer's name is prefix + leaf)
    prefix: str | None = field(default=None, repr=False, compare=False)
    # the inline call (`inline stem()`) whose body is adding names here now, and for each name
    # an inline call took, that call: two inline calls of one block that both label `conv1`
    # are told apart by where they were called, not by the label (the same line of the block)
    via: Span | None = field(default=None, repr=False, compare=False)
    origins: dict[str, Span] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.prefix is None:
            self.prefix = "".join(f"{p}." for p in self.path)

    def child(self, leaf: str, kind: str, span: Span) -> Scope:
        # the child's names extend the parent's prefix: no walk over the path (a block call
        # forty levels deep makes one)
        name = self.prefix + leaf
        return Scope((*self.path, leaf), (*self.scopes, ScopeInfo(name, kind, span)),
                     self.inits, prefix=name + ".")

    def number(self) -> str:
        leaf = str(self.counter)
        self.counter += 1
        return leaf


MAX_MADE = 10_000  # configurations kept in `Elaborator._made` (a bound on its memory)
_INT = frozenset((int,))  # `_INT.issuperset(map(type, v))`: all of v are ints (not bools)


def _made_key(kind: str, vals: list[tuple[str | None, object]], in_shapes: list) -> tuple | None:
    """The key of a layer configuration in `Elaborator._made`: the kind, the evaluated
    arguments and the input shapes; None unless every value compares exactly. Keys hold the
    type of each value, since `1 == 1.0 == True` hash alike but bind differently, and a float's
    hex form, since `0.0 == -0.0` but they print differently."""
    key: list = [kind]
    for name, v in vals:
        t = type(v)
        if t is float:
            v = v.hex()
        elif t is tuple or t is Dims:
            if not _INT.issuperset(map(type, v)):
                return None
        elif t is not int and t is not str and t is not bool:
            return None  # lists (literal kernels), tensors, POISON: no reuse
        key.append((name, t, v))
    for sh in in_shapes:
        if type(sh) is not tuple or not _INT.issuperset(map(type, sh)):
            return None
        key.append(sh)
    return tuple(key)


def _frozen(args: dict) -> bool:
    """Whether every resolved argument is immutable, so layers may share them."""
    return all(_frozen_value(v) for v in args.values())


def _frozen_value(v) -> bool:
    if isinstance(v, tuple):
        return all(_frozen_value(x) for x in v)
    return v is None or isinstance(v, (int, float, str))


def _at(t: Tensor, span: Span) -> Tensor:
    """`t` pointing at `span`: `replace(t, span=span)` at a third of the cost (per branch)."""
    return Tensor(t.node, t.shape, t.name, span)


def _tensor_inputs(spec, args: dict, inputs: list[Tensor], arg_nodes) -> tuple[list, dict]:
    """A kind's tensor arguments (`upsample(like=skip)`) become inputs after the pipeline's;
    each argument then holds its input's position, so the IR's arguments stay plain data and
    the size is read from that input (at run time, by the backends)."""
    inputs = list(inputs)
    args = dict(args)
    for name in ops.tensor_args(spec):
        v = args.get(name)
        if isinstance(v, Tensor):
            at = next((a.span for a in arg_nodes if a.name == name), v.span)
            inputs.append(_at(v, at))
            args[name] = len(inputs) - 1
    return inputs, args


def _deferred(expr):
    return ("__default__", expr)


def _is_deferred(v):
    return isinstance(v, tuple) and len(v) == 2 and v[0] == "__default__"


class Elaborator(Tables):
    def __init__(self, diags: Diagnostics, limits: Limits | None = None,
                 budget: Budget | None = None):
        self._kinds: tuple[list[str], frozenset[str]] | None = None
        self.diags = diags
        self.limits = limits or Limits()
        self._overrides: dict[str, re.Pattern] = {}  # --set names, to say where values came from
        self._override_values: dict[str, object] = {}
        # the run's work budget, shared with the parser (dsl/budget.py): everything below that
        # loops charges it, so any input ends in bounded time
        self.budget = budget if budget is not None else Budget(self.limits.max_work)
        self.ev = Evaluator(diags, self.limits.max_int, self.budget, self.limits.max_repeat)
        self.ir = IR()
        self.stack: list[tuple[s.Definition, Span]] = []
        self.params_seen = 0  # parameters of the layers made so far (see _count_params)
        self.held_seen = 0  # parameters and buffers of the layers made so far
        # (kind, arguments, input shapes) -> (spec, resolved arguments, shape, parameters) of
        # a layer made without a problem: a large network repeats a few layer configurations,
        # and binding, checking and resolving them again is most of a layer's cost.
        self._made: dict[tuple, tuple] = {}
        self.where: Span | None = None  # the item being elaborated, named by internal errors
        self._active: set[int] = set()  # ids of the block definitions being elaborated
        self._specs: dict[int, tuple] = {}  # id of a block definition -> (it, its ArgSpecs)
        self._sizes: dict[int, tuple] = {}  # id of a list or tuple value -> (it, elements)
        self.outputs: list[tuple[str, int]] = []  # `return a, b`: (name, node) of each
        self._maps: dict[int, bool] = {}  # node -> is its output a channels-first map
        self._inline_calls: set[int] = set()  # ids of the spans of the inline calls made

    # ================================================================ entry point
    def network(self, defn: s.Definition, overrides: dict | None = None,
                input_shape: tuple[int, ...] | None = None) -> IR:
        self.ir = IR(defn.name)
        self._param_values: dict[str, object] = {}
        self.stack.append((defn, defn.name_span))
        first_diag = len(self.diags.items)
        self._overrides = {k: re.compile(rf"\b{re.escape(k)}\b") for k in overrides or {}}
        self._override_values = dict(overrides or {})
        if input_shape is not None:  # `in` (a block's input, or the network's) derives from it
            self._overrides[_INPUT_KEY] = re.compile(r"\bin\b")
            self._override_values[_INPUT_KEY] = tuple(input_shape)
        context = CURRENT.set(self.budget)  # suggestions charge it too (argspec.suggest)
        out = None
        try:
            out = self._network(defn, overrides or {}, input_shape)
        except _Abort:
            pass
        except OutOfWork as exc:  # anywhere: parameters, the input, the body
            self.diags.add(out_of_work(self.budget, exc.where or self.where or defn.name_span,
                                       "elaborating the network", exc.chain or []), force=True)
        except RecursionError:
            # A backstop: the parser refuses deep syntax and blocks stop at max_depth, but
            # deep block nesting with deep expressions inside could still exhaust the stack.
            self.diags.error("E0509", "the network nests too deeply to elaborate",
                             self.where or defn.name_span,
                             help="lower the nesting of blocks, or lower --max-depth")
        except Exception as exc:  # a bug: say where, for the one-line report in the CLI
            if self.where is not None and not hasattr(exc, "arch_location"):
                exc.arch_location = self.where.location()
            raise
        finally:
            CURRENT.reset(context)
        if self.ir.input is None:  # stopped before the input was made
            self.ir.input = self.ir.add_node("input", {"shape": None}, "input", defn.name_span)
        self.stack.pop()
        self._note_overrides(first_diag, overrides or {})
        self.ir.output = out.node if out is not None else self.ir.input
        if len(self.outputs) > 1:  # one returned value is the output as usual
            self.ir.outputs = list(self.outputs)
        self.ir.attrs.update(network=defn.name, source=defn.span.path,
                                   params_used=dict(self._param_values))
        return self.ir

    def _network(self, defn: s.Definition, overrides: dict, input_shape) -> Tensor:
        env = Env(defn.module)
        env.vars.update(BASE_CONSTANTS)
        self._network_params(defn, overrides, env)
        stmts = defn.body.items
        first_layer = next((i for i, it in enumerate(stmts)
                            if not isinstance(it, (s.InputStmt, s.InitStmt))), len(stmts))
        inputs = [it for it in stmts if isinstance(it, s.InputStmt)]
        shape = self._input_shape(defn, inputs, env, input_shape)
        for extra in inputs[1:]:
            self.diags.error("E0213", "a network has one `input`", extra.span,
                             labels=[Label(inputs[0].span, "first given here")])
        if inputs and stmts.index(inputs[0]) > first_layer:
            self.diags.error("E0213", "`input` must come before the first layer", inputs[0].span,
                             help="move it to the top of the network's body")
        span = inputs[0].span if inputs else defn.name_span
        nid = self.ir.add_node("input", {"shape": shape}, "input", span, shape=shape)
        self._maps[nid] = shape is not None and len(shape) >= 2
        self.ir.input = nid
        cur = Tensor(nid, shape, "input", span)
        env.vars["in"] = env.current = cur
        scope = Scope(())
        scope.taken["input"] = span  # the input node's name: no layer may take it
        return self._body(defn.body, cur, scope, env, network=True)

    def _note_overrides(self, first: int, overrides: dict) -> None:
        """A value given from outside (`--set depth=abc`) that then fails is reported where it
        is used, in a file that says nothing wrong: name where it came from. The test is
        textual: the diagnostic's own span mentions the parameter (a parameter used directly
        in the network's body), or a block call it happened in does (`_note_call`)."""
        if not self._overrides:
            return
        for d in self.diags.items[first:]:
            if isinstance(d, Diagnostic) and d.span is not None:
                self._note_override_in(d, d.span.text())

    def _note_override_in(self, d: Diagnostic, text: str) -> None:
        for k, pat in self._overrides.items():
            if k == _INPUT_KEY:
                note = (f"the network's input is {fmt_shape(self._override_values[k])} here: "
                        "a shape given with --input or load(..., input=...)")
            else:
                note = (f"`{k}` is {describe_value(self._override_values[k])} here: a value "
                        f"given with --set {k}=... or load(..., {k}=...)")
            if pat.search(text) and note not in d.notes:
                d.notes.append(note)

    def _note_call(self, first: int, defn: s.Definition, span: Span) -> None:
        """Every diagnostic made inside a call of block `defn` at `span` (from index `first`
        of the collector) says so, once per level, innermost first (as shape errors already
        do when they are made): a value error inside a block is otherwise reported at a line
        that is right for some calls and wrong for this one. The values the call passed may
        come from --set: then that is said too."""
        note = f"in block `{defn.name}` {self._called(span)} at {span.short()}"
        for d in self.diags.items[first:]:
            if not isinstance(d, Diagnostic):
                continue
            if note not in d.notes:
                d.notes.append(note)
            if self._overrides:
                self._note_override_in(d, span.text())

    def _network_params(self, defn, overrides, env):
        names = [p.name for p in defn.params]
        for key in overrides:
            if key not in names:
                hint = suggest(key, names)
                known = ", ".join(names) or "none"
                self.diags.error("E0211", f"network `{defn.name}` has no parameter `{key}`" +
                                 (f" (did you mean `{hint}`?)" if hint else ""), defn.name_span,
                                 help=f"its parameters: {known}")
        for p in defn.params:
            if p.name in overrides:
                value = overrides[p.name]
                why = check_number(value, self.limits.max_int)
                if why is not None:
                    self.diags.error("E0204", f"parameter `{p.name}` cannot be {why}", p.span,
                                     notes=[f"`{p.name}` was given with --set {p.name}=... or "
                                            f"load(..., {p.name}=...)"])
                    value = POISON
            elif p.default is not None:
                value = self.ev.eval(p.default, env)
            else:
                self.diags.error("E0203", f"network parameter `{p.name}` has no default and "
                                 "was not given", p.span,
                                 help=f"give it with --set {p.name}=... or "
                                      f"load(..., {p.name}=...)")
                value = POISON
            env.vars[p.name] = value
            self._param_values[p.name] = value

    def _input_shape(self, defn, inputs, env, override):
        if override is not None:
            return tuple(override)
        if not inputs:
            self.diags.error("E0213", f"network `{defn.name}` has no input shape",
                             defn.name_span, help="start its body with the shape of one "
                             "sample, e.g. `input 3x224x224`")
            return None
        stmt = inputs[0]
        if stmt.dims is not None:
            dims = stmt.dims.dims
        else:
            vals = [self.ev.eval(a.value, env) for a in stmt.args]
            if any(v is POISON for v in vals):
                return None
            if len(vals) == 1 and isinstance(vals[0], tuple):
                vals = list(vals[0])
            bad = [v for v in vals if isinstance(v, bool) or not isinstance(v, int) or v < 1]
            if bad or not vals:
                self.diags.error("E0204", "an input shape is positive integers, as in "
                                 "`input 3x224x224` or `input(3, size, size)`", stmt.span)
                return None
            dims = tuple(vals)
        if not 1 <= len(dims) <= 4 or any(d < 1 for d in dims):
            self.diags.error("E0204", "an input has 1 to 4 dimensions, all at least 1; found "
                             f"{'x'.join(map(str, dims))}", stmt.span,
                             help="write a vector (`input 784`), CxL, CxHxW (`input 3x224x224`) "
                                  "or CxDxHxW")
            return None
        if math.prod(dims) > self.limits.max_tensor:
            self.diags.error("E0506", f"input of {math.prod(dims):,} elements exceeds the "
                             f"limit of {self.limits.max_tensor:,}", stmt.span)
            return None
        if math.prod(dims) * BYTES > self.limits.max_memory:
            self.diags.error("E0512", f"input of {math.prod(dims):,} elements needs "
                             f"{fmt_bytes(math.prod(dims) * BYTES)} as float32 for one sample, "
                             f"over the memory limit of {fmt_bytes(self.limits.max_memory)}",
                             stmt.span, help=_MEMORY_HELP)
            return None
        return tuple(dims)

    # ================================================================ bodies and items
    def _body(self, body: s.Group, cur: Tensor, scope: Scope, env: Env, network=False) -> Tensor:
        rules = [self._init_rule(it, env, scope) for it in body.items
                 if isinstance(it, s.InitStmt)]
        if rules:
            scope.inits = (*scope.inits, *[r for r in rules if r is not None])
        if not network:
            for it in body.items:
                if isinstance(it, s.InputStmt):
                    self.diags.error("E0213", "`input` belongs to a network; a block takes its "
                                     "caller's output", it.span, help="remove this line")
        items = body.items
        ret = items[-1] if network and items and isinstance(items[-1], s.ReturnStmt) else None
        if ret is not None:
            items = items[:-1]
        out = self._sequence(items, cur, scope, env, top=True)
        if ret is None:
            return out
        env.current = out  # `return x, aux`: x is the output of the last line
        return self._return(ret, out, env)

    def _return(self, it: s.ReturnStmt, cur: Tensor, env: Env) -> Tensor:
        """`return main, aux`: the network's outputs, in order (see `IR.outputs`)."""
        outs: list[tuple[str, Tensor]] = []
        seen: dict[str, Span] = {}
        for name, span in zip(it.names, it.name_spans, strict=True):
            found, v = env.lookup(name)
            if name in seen:
                self.diags.error("E0209", f"`{name}` is returned twice", span,
                                 labels=[Label(seen[name], "first here")],
                                 help="each output is returned once")
                continue
            seen[name] = span
            if not found:
                hint = suggest(name, [n for n in env.names()
                                      if isinstance(env.lookup(n)[1], Tensor)])
                self.diags.error("E0207", f"unknown value `{name}`"
                                 + (f" (did you mean `{hint}`?)" if hint else ""), span,
                                 help="return values bound with `name = ...`")
                continue
            if v is POISON:
                continue
            if not isinstance(v, Tensor):
                self.diags.error("E0204", f"`{name}` is {type_name(v)}, not a tensor", span,
                                 help="a network returns tensors: values bound with "
                                      "`name = ...`")
                continue
            outs.append((name, v))
        if len(outs) != len(it.names):
            return self._poisoned(cur)
        self.outputs = [(name, t.node) for name, t in outs]
        return outs[0][1]

    def _sequence(self, items, cur: Tensor, scope: Scope, env: Env, top=False) -> Tensor:
        """Items in order, each fed the previous one's output. `input` and `init` statements
        belong at the top of a body (`top`, handled by `_body`); nested, they are errors."""
        for it in items:
            if isinstance(it, (s.InputStmt, s.InitStmt)) and top:
                continue
            cur = self._item(it, cur, scope, env)
        return cur

    def _item(self, it: s.Item, cur: Tensor, scope: Scope, env: Env) -> Tensor:
        self.where = it.span
        # `x` in this item's expressions: each item reads its arguments, counts and conditions
        # before it makes any item inside it, so setting it here, on the way in, is enough
        env.current = cur
        self.budget.charge("item")
        if self.diags.full:
            last = self.diags.last_error
            if last is not None and (not last.notes
                                     or not last.notes[-1].startswith("stopped after")):
                last.notes.append(f"stopped after {MAX_ERRORS} errors: fix these first")
            raise _Abort()  # enough to read; a broken file repeated 1000 times stops here
        if isinstance(it, s.Labeled):
            return self._labeled(it, cur, scope, env)
        if isinstance(it, s.Bind):
            if self._value_bind(it, env):  # `w = width * 2`, meant as `let` (dsl/tables.py)
                return self._poisoned(cur)
            out = self._item(it.item, cur, scope, env)
            env.vars[it.name] = out
            return out
        if isinstance(it, s.Unpack):
            return self._unpack(it, cur, scope, env)
        if isinstance(it, (s.Ref, s.Call)):
            return self._named_thing(it, cur, scope, env, None)
        if isinstance(it, s.Inline):
            return self._inline(it, cur, scope, env, None)
        if isinstance(it, (s.Group, s.ItemList)):
            return self._sequence(it.items, cur, scope, env)
        if isinstance(it, s.Merge):
            return self._merge(it, cur, scope, env, None)
        if isinstance(it, s.MergeCall):
            return self._merge_call(ops.get(it.kind), it.args, it.span, it.kind_span, cur, scope,
                                    env, None)
        if isinstance(it, s.If):
            return self._if(it, cur, scope, env)
        if isinstance(it, s.Repeat):
            return self._repeat(it, cur, scope, env)
        if isinstance(it, s.For):
            return self._for(it, cur, scope, env)
        if isinstance(it, s.LetStmt):
            self._let(it, env)
            return cur
        if isinstance(it, s.InputStmt):
            self.diags.error("E0213", "`input` belongs at the top of a network", it.span,
                             help="move it to the first line of the network's body")
            return cur
        if isinstance(it, s.ReturnStmt):
            self.diags.error("E0230", "`return` is the last line of a network's body",
                             it.span, help="name the outputs at the end of the network; a "
                             "block gives one value, the output of its last item")
            return cur
        if isinstance(it, s.InitStmt):
            self.diags.error("E0217", "`init` belongs at the top level of a block or network "
                             "body", it.span, help="move it up to the body of the enclosing "
                             "block or network; it applies to every layer inside")
            return cur
        raise TypeError(it)  # pragma: no cover - the parser makes nothing else

    def _labeled(self, it: s.Labeled, cur, scope, env) -> Tensor:
        if it.parts is not None:  # `denselayer{i + 1}: ...` (dsl/tables.py)
            computed = self._computed_label(it, env)
            if computed is None:
                return self._poisoned(cur)
            first = len(self.diags.items)
            out = self._labeled(computed, cur, scope, env)
            self._note_computed(first, it.label_span.text(), computed.label)
            return out
        inner = it.item
        if isinstance(inner, s.Call):
            env.labels.setdefault(it.label, f"{inner.ident}(...)")
        elif isinstance(inner, s.Inline):
            env.labels.setdefault(it.label, f"inline {inner.call.ident}(...)")
        else:
            env.labels.setdefault(it.label, inner.ident if isinstance(inner, s.Ref) else "...")
        if isinstance(inner, s.Bind):
            return self._item(replace(inner, item=replace(it, item=inner.item)), cur, scope, env)
        if isinstance(inner, s.Labeled):
            self.diags.error("E0209", "an item takes one name", inner.label_span,
                             labels=[Label(it.label_span, "already named here")])
            return self._item(inner, cur, scope, env)
        if isinstance(inner, (s.Ref, s.Call)):
            return self._named_thing(inner, cur, scope, env, it)
        if isinstance(inner, s.Inline):
            return self._inline(inner, cur, scope, env, it)
        if isinstance(inner, s.Merge):
            return self._merge(inner, cur, scope, env, it)
        if isinstance(inner, s.MergeCall):
            return self._merge_call(ops.get(inner.kind), inner.args, inner.span, inner.kind_span,
                                    cur, scope, env, it)
        if isinstance(inner, s.Unpack):  # `t: [a, b] = chunk(2)`: the pieces `t`, `t_1`
            return self._unpack(inner, cur, scope, env, it)
        leaf = self._take(scope, it, "scope")
        sub = scope.child(leaf, "group", it.span)
        if isinstance(inner, s.Repeat):
            return self._repeat(inner, cur, sub, env)
        return self._item(inner, cur, sub, env)

    def _take(self, scope: Scope, label: s.Labeled | None, what: str = "layer") -> str:
        """The next name in `scope`: the label, or the next number. `what` (layer, scope)
        is what the label names, for the message when it is a reserved name."""
        if label is None:
            return scope.number()
        name = label.label
        why = reserved_label(name)
        if why is not None:
            self.diags.error("E0223", f"`{name}` cannot name a {what}: {why}",
                             label.label_span, label="a reserved name",
                             help=f"rename it, e.g. `{name.strip('_') or 'x'}_`")
        if name in scope.taken:
            where = ".".join((*scope.path, name))
            # an unlabelled merge took the name (`add_1`); it has no label to point at
            kind = scope.automatic.get(name)
            first = f"this `{kind}` is named `{name}`" if kind else "first defined here"
            labels = []
            taken, here = scope.taken[name], label.label_span
            # not the same place twice (a line inlined twice, a loop's computed label)
            if (taken.path, taken.start, taken.end) != (here.path, here.start, here.end):
                labels.append(Label(scope.taken[name], first))
            if name in scope.origins:  # the first one came from an inline call's body
                labels.append(Label(scope.origins[name], f"the first `{name}` comes from "
                                                         "this inline call"))
            self.diags.error("E0209", f"`{where}` is already defined", label.label_span,
                             labels=labels,
                             help="names in one scope must differ; rename one of them"
                                  + (f", or label the `{kind}`" if kind else ""))
            k = 1
            while f"{name}_{k}" in scope.taken:
                k += 1
            name = f"{name}_{k}"
        scope.taken[name] = label.label_span
        if scope.via is not None:
            scope.origins[name] = scope.via
        return name

    def _path(self, scope: Scope, leaf: str) -> str:
        return scope.prefix + leaf  # ".".join((*scope.path, leaf)), without the tuple

    # ================================================================ names: layer / block / value
    def _item_kinds(self) -> tuple[list[str], frozenset[str]]:
        """(the kinds an item may name, every kind and alias), once per run: an unknown name
        repeated by nested repetitions asks for them at every copy."""
        if self._kinds is None:
            names = ops.names()
            items = [n for n in names if n != "input"
                     and ops.get(n).family != "merge"]  # merges are keywords, not items
            self._kinds = (items, frozenset(names))
        return self._kinds

    def _named_thing(self, it, cur, scope, env, label: s.Labeled | None) -> Tensor:
        ident = it.ident
        args = it.args if isinstance(it, s.Call) else []
        ident_span = it.ident_span if isinstance(it, s.Call) else it.span
        found, value = env.lookup(ident)
        if found and isinstance(value, Tensor):
            if isinstance(it, s.Call):
                self.diags.error("E0216", f"`{ident}` is a value, not a layer", ident_span,
                                 help=f"to feed `{ident}` into a layer, write "
                                      f"`{{ {ident}; layer(...) }}`")
                return self._poisoned(cur)
            if label is not None:
                self.diags.error("E0216", f"a name labels a layer; `{ident}` is a value",
                                 label.label_span, help=f"bind it instead: `{label.label} = "
                                                        f"{ident}`")
            return value
        if found and value is POISON:
            return self._poisoned(cur)
        spec = ops.lookup(ident)
        if spec is not None and spec.extra.get("splits"):
            self.diags.error("E0332", f"`{ident}` gives several values; name each of them",
                             it.span, help=f"unpack them: `[a, b] = {ident}(...)`, then use "
                                           "`a` and `b` like any value")
            return self._poisoned(cur)
        if spec is not None and spec.kind != "input":
            if ops.takes_values(spec):  # `mul(x, s)`: a merge of named values, like `add(x, s)`
                return self._merge_call(spec, args, it.span, ident_span, cur, scope, env, label)
            return self._layer(spec, args, [cur], scope, env, label, it.span, ident_span)
        defn = env.module.namespace.get(ident)
        if defn is not None:
            if defn.kind == "network":
                self.diags.error("E0220", f"`{ident}` is a network; only blocks can be called",
                                 ident_span, labels=[Label(defn.name_span, "defined here")],
                                 help=f"define the shared part as `block {ident}(...)`")
                return self._poisoned(cur)
            return self._call_block(defn, args, cur, scope, env, label, it.span, ident_span)
        if found:
            self.diags.error("E0216", f"`{ident}` is {type_name(value)}, not a layer", ident_span,
                             help="a body lists layers, blocks and values; numbers go inside "
                                  "arguments")
            return self._poisoned(cur)
        layer_names, kinds = self._item_kinds()
        blocks = [n for n, d in env.module.namespace.items() if d.kind == "block"]
        values = [n for n in env.names() if isinstance(env.lookup(n)[1], Tensor)]
        other = foreign_layer(ident, kinds | frozenset(blocks))
        if other is not None:
            note, fix = layer_note(other)
            self.diags.error("E0201", f"unknown layer kind `{ident}`", ident_span,
                             label="not an archdsl layer kind", notes=[note], help=fix)
            return self._poisoned(cur)
        hint = suggest(ident, layer_names + blocks + values)
        if hint:
            self.diags.error("E0201", f"unknown layer kind `{ident}` (did you mean `{hint}`?)",
                             ident_span)
        else:
            self.diags.error("E0201", f"unknown layer kind or block `{ident}`", ident_span,
                             label="not a layer kind, nor a block defined or imported here",
                             help=f"define it with `block {ident}(...) {{ ... }}` or import the "
                                  "file that does; layer kinds: " + ", ".join(layer_names))
        return self._poisoned(cur)

    def _size(self, v: list | tuple) -> int:
        """Elements of a list or tuple value, counted once per value (values never change): a
        kernel bound to a parameter and used in every copy of a repetition is charged each
        time it is checked."""
        known = self._sizes.get(id(v))
        if known is None:
            n = sum(self._size(x) if type(x) in (list, tuple) else 1 for x in v) or 1
            if len(self._sizes) < MAX_MADE:
                self._sizes[id(v)] = (v, n)
            return n
        return known[1]

    def _poisoned(self, cur: Tensor) -> Tensor:
        return Tensor(cur.node, None, cur.name, cur.span)

    # ================================================================ layers
    def _layer(self, spec: ops.OpSpec, arg_nodes: list[s.Arg], inputs: list[Tensor], scope,
               env, label, span: Span, ident_span: Span, leaf: str | None = None,
               fixed: dict | None = None) -> Tensor:
        """A layer node. `fixed` are resolved arguments set by the elaborator, not the file
        (which piece of a `chunk` this node is)."""
        self.where = span
        vals = [(a.name, self.ev.eval(a.value, env)) for a in arg_nodes]
        if fixed:
            vals.append(("\0fixed", tuple(sorted(fixed.items()))))
        for _, v in vals:
            if type(v) is list or type(v) is tuple:  # checking walks every element
                self.budget.charge("expression", self._size(v))
        in_shapes = [t.shape for t in inputs]
        maps = None
        if spec.extra.get("layout_aware"):  # the rule reads which inputs are feature maps
            maps = tuple(self._maps.get(t.node, False) for t in inputs)
            key = _made_key(spec.kind, [*vals, ("_maps", sum(m << i for i, m in
                                                             enumerate(maps)))], in_shapes)
        else:
            key = _made_key(spec.kind, vals, in_shapes)
        made = self._made.get(key) if key is not None else None
        if made is not None and made[0] is spec:
            # An earlier layer had this kind, these arguments and these input shapes: every
            # check passed for it, and its resolved arguments, shape and parameter count are
            # this layer's too (the op's rules are functions of exactly these).
            args, shape, params, held = dict(made[1]), made[2], made[3], made[4]
            if leaf is None:
                leaf = self._take(scope, label)
            name = self._path(scope, leaf)
            return self._add_layer(spec, args, shape, False, params, inputs, scope, leaf, name,
                                   span, held)
        self.budget.charge("check")
        bound = bind(spec.args, vals[:len(arg_nodes)], spec.kind, self.limits.max_int)
        for p in bound.problems:
            at = span if p.arg_index is None else (
                arg_nodes[p.arg_index].name_span if p.on_name and arg_nodes[p.arg_index].name_span
                else arg_nodes[p.arg_index].span)
            self.diags.error(p.code, p.message, at, help=p.help)
        args = bound.values
        if fixed:
            args = {**args, **fixed}
        ok = not bound.problems and not bound.poisoned
        if ok and spec.args and ops.tensor_args(spec):
            inputs, args = _tensor_inputs(spec, args, inputs, arg_nodes)
            in_shapes = [t.shape for t in inputs]
        if ok and spec.validate is not None:
            try:
                spec.validate(args)
            except ShapeProblem as prob:
                self.diags.error(prob.code, prob.message, span, label=prob.label, help=prob.help,
                                 notes=prob.notes)
                ok = False
        if leaf is None:
            leaf = self._take(scope, label)
        name = self._path(scope, leaf)
        shape = None
        failed = False
        if ok and None not in in_shapes:
            try:
                args = spec.resolve(args if maps is None else {**args, "_maps": maps},
                                    in_shapes)
                shape = tuple(spec.shape(args, in_shapes))
            except ShapeProblem as prob:
                self._shape_error(prob, spec, inputs, span, name)
                failed = True
            if shape is not None and math.prod(shape) > self.limits.max_tensor:
                self.diags.error("E0506", f"layer `{name}` outputs {math.prod(shape):,} elements "
                                 f"({fmt_shape(shape)}), over the limit of "
                                 f"{self.limits.max_tensor:,}", span)
                shape = None
                failed = True
            elif shape is not None and math.prod(shape) * BYTES > self.limits.max_memory:
                size = math.prod(shape)
                self.diags.error("E0512", f"layer `{name}` outputs {size:,} elements "
                                 f"({fmt_shape(shape)}): {fmt_bytes(size * BYTES)} as float32 for "
                                 f"one sample, over the memory limit of "
                                 f"{fmt_bytes(self.limits.max_memory)}", span,
                                 label="this activation alone is too large",
                                 notes=self._call_chain(), help=_MEMORY_HELP)
                shape = None
                failed = True
        params = held = None
        if shape is not None:
            counts = spec.counts(args, in_shapes, shape)
            params, held = counts.params, counts.params + counts.buffers
            if key is not None and len(self._made) < MAX_MADE and _frozen(args):
                self._made[key] = (spec, dict(args), shape, params, held)
        return self._add_layer(spec, args, shape, failed, params, inputs, scope, leaf, name,
                               span, held)

    def _add_layer(self, spec: ops.OpSpec, args: dict, shape, failed: bool, params: int | None,
                   inputs: list[Tensor], scope: Scope, leaf: str, name: str, span: Span,
                   held: int | None = None) -> Tensor:
        """The node of a checked layer (`params`, and `held`, parameters and buffers, None
        when its shape is unknown)."""
        self.budget.charge("layer")
        inits = ()
        if scope.inits:  # most scopes have no `init` rule: no path to build
            path = (*scope.path, leaf)
            inits = tuple(r for r in scope.inits if r.matches(spec.kind, path))
        nid = self.ir.add_node(spec.kind, args, name, span, shape=shape, scopes=scope.scopes,
                               init=inits)
        if failed:
            self.ir.node(nid)["error"] = True
        self._maps[nid] = ops.makes_map(spec, shape, [self._maps.get(t.node, False)
                                                      for t in inputs])
        for i, t in enumerate(inputs):
            self.ir.connect(t.node, nid, i)
        if params is not None:
            self._count_params(params, name, span, params if held is None else held)
        if len(self.ir) > self.limits.max_layers:
            self.diags.error("E0503", f"the network expands to more than "
                             f"{self.limits.max_layers:,} layers", span,
                             notes=self._call_chain(),
                             help="check repetition counts, or raise the limit with "
                                  "--max-layers")
            raise _Abort()
        return Tensor(nid, shape, name, span)

    def _count_params(self, params: int, name: str, span: Span, held: int) -> None:
        """Adds up parameters (and, for the memory, buffers) as layers are made, so a file
        asking for 10^15 of them stops at the layer that crosses the limit, before the rest is
        expanded (counts are arithmetic on shapes; no weight is ever allocated here)."""
        self.params_seen += params
        self.held_seen += held
        if self.params_seen > self.limits.max_params:
            self.diags.error("E0505", f"the network has more than {self.limits.max_params:,} "
                             f"parameters", span,
                             label=f"`{name}` alone has {params:,}; "
                                   f"{self.params_seen:,} so far",
                             help="check the layer sizes, or raise the limit with --max-params")
            raise _Abort()
        if self.held_seen * BYTES > self.limits.max_memory:
            self.diags.error("E0512", f"the network's weights need more than the memory limit "
                             f"of {fmt_bytes(self.limits.max_memory)}", span,
                             label=f"`{name}` alone holds {held:,} parameters and buffers, "
                                   f"{fmt_bytes(held * BYTES)} as float32",
                             notes=[f"{self.held_seen:,} parameters and buffers so far: "
                                    f"{fmt_bytes(self.held_seen * BYTES)}",
                                    *self._call_chain()], help=_MEMORY_HELP)
            raise _Abort()

    def _shape_error(self, prob: ShapeProblem, spec, inputs: list[Tensor], span, name):
        notes = []
        labels = []
        for i, t in enumerate(inputs):
            src = self.ir.node(t.node)
            origin = ("the network's input" if src["op"] == "input"
                      else f"layer `{src['name']}` ({src['op']})")
            if i in prob.inputs:
                short = ("the network's input" if src["op"] == "input"
                         else f"{src['op']} `{src['name']}`")
                labels.append(Label(t.span, f"{prob.inputs[i]} (from {short})"))
            elif len(inputs) == 1:
                notes.append(f"input {fmt_shape(t.shape)} comes from {origin} at "
                             f"{t.span.short()}")
        notes.extend(prob.notes)
        notes.extend(self._call_chain())
        self.diags.error(prob.code, f"{prob.message}", span,
                         label=prob.label or ("the branches meet here" if spec.family == "merge"
                                              else f"in layer `{name}`"),
                         labels=labels, notes=notes,
                         help=prob.help)

    def _call_chain(self) -> list[str]:
        """`in block `res` called at net.arch:10`, innermost first."""
        return [f"in block `{d.name}` {self._called(sp)} at {sp.short()}"
                for d, sp in reversed(self.stack) if d.kind == "block"]

    def _called(self, span: Span) -> str:
        """How the call at `span` is described: `called`, or `inlined` (`inline b()`)."""
        return "inlined" if id(span) in self._inline_calls else "called"

    # ================================================================ several values
    def _unpack(self, it: s.Unpack, cur, scope, env, label: s.Labeled | None = None) -> Tensor:
        """`[a, b] = chunk(2)`: one node per piece (see ops/split.py), each bound to its name;
        the pipeline continues from the last piece."""
        call = it.item
        spec = ops.lookup(call.ident) if isinstance(call, (s.Call, s.Ref)) else None
        if spec is None or not spec.extra.get("splits"):
            self.diags.error("E0332", "only `chunk(...)` and `split(...)` give several values",
                             it.item.span, help="bind one value with `y = ...`; cut a tensor "
                                                "into pieces with `[a, b] = chunk(2)`")
            for name in it.names:
                env.vars[name] = POISON
            return self._poisoned(cur)
        args = call.args if isinstance(call, s.Call) else []
        ident_span = call.ident_span if isinstance(call, s.Call) else call.span  # `= chunk`
        outs = []
        for i, name in enumerate(it.names):
            if label is not None:  # the first piece takes the label, the others `t_1`...
                leaf = self._merge_leaf(scope, label.label, label if i == 0 else None,
                                        ident_span)
            else:
                leaf = self._merge_leaf(scope, spec.kind, None, ident_span)
            out = self._layer(spec, args, [cur], scope, env, None, call.span, ident_span,
                              leaf=leaf, fixed={"piece": i})
            outs.append(out)
            got = self.ir.node(out.node)["args"].get("pieces")
            if i == 0 and got is not None and got != len(it.names):
                shown = self.ir.node(out.node)["shape"]
                self.diags.error(
                    "E0332", f"`{call.ident}(...)` gives {got} "
                    f"piece{'s' if got != 1 else ''}, but {len(it.names)} names take them",
                    it.span, notes=[f"input {fmt_shape(cur.shape)}; the first piece is "
                                    f"{fmt_shape(shown)}"],
                    help=f"write {got} names, or change the count")
                for n in it.names:
                    env.vars[n] = POISON
                return self._poisoned(cur)
            env.vars[name] = out
        return outs[-1]

    # ================================================================ merges
    def _merge(self, it: s.Merge, cur, scope, env, label: s.Labeled | None) -> Tensor:
        spec = ops.get(it.kind)
        leaf = self._merge_leaf(scope, it.kind, label, it.kind_span)
        inner = scope if label is None else scope.child(leaf, "group", label.span)
        # Each branch's result is labelled with the whole branch when a shape rule fails.
        outs = [_at(self._item(br, cur, inner, env), br.span) for br in it.branches]
        if not outs:
            self.diags.error("E0221", f"`{it.kind}` has no branches", it.kind_span,
                             help=f"list the branches: `{it.kind} {{ {{ conv(...) }} "
                                  "{ conv(...) } }`")
            return self._poisoned(cur)
        if it.kind == "add" and len(outs) < 2:
            self.diags.error("E0221", "`add` needs at least two branches", it.kind_span,
                             help="an empty branch `{}` passes the input through: "
                                  "`add { { ... } {} }`")
            return self._poisoned(cur)
        return self._layer(spec, [], outs, scope, env, None, it.kind_span, it.kind_span,
                           leaf=leaf)

    def _merge_call(self, spec: ops.OpSpec, arg_nodes: list[s.Arg], span: Span, kind_span: Span,
                    cur, scope, env, label) -> Tensor:
        """`concat(a, b, dim=1)`, `mul(x, s)`, a custom kind's `blend(a, b, 0.5)`: the leading
        positional arguments are the values merged (inputs in order); further positional ones
        and keywords are the kind's own arguments."""
        kind = spec.kind
        tensors, rest = [], []
        own = any(a.positional for a in spec.args)
        for a in arg_nodes:
            if a.name is not None or rest:
                rest.append(a)
                continue
            v = self.ev.eval(a.value, env)
            if v is POISON:
                return self._poisoned(cur)
            if not isinstance(v, Tensor):
                if own and tensors:
                    rest.append(a)
                    continue
                self.diags.error("E0204", f"`{kind}(...)` merges values (tensors), found "
                                 f"{type_name(v)} `{describe_value(v)}`", a.span,
                                 help=f"bind values first: `a = conv(...)`, then "
                                      f"`{kind}(a, b)`")
                return self._poisoned(cur)
            tensors.append(_at(v, a.span))
        lo, hi = spec.arity
        if len(tensors) < lo or (hi is not None and len(tensors) > hi):
            want = (f"at least {lo}" if hi is None else f"exactly {lo}" if lo == hi
                    else f"{lo} to {hi}")
            self.diags.error("E0221", f"`{kind}` needs {want} value{'s' if hi != 1 else ''}, "
                             f"found {len(tensors)}", span,
                             help=f"name the values it merges: `{kind}(a, b)`")
            return self._poisoned(cur)
        leaf = self._merge_leaf(scope, kind, label, kind_span)
        return self._layer(spec, rest, tensors, scope, env, None, span, kind_span, leaf=leaf)

    def _merge_leaf(self, scope: Scope, kind: str, label, span: Span) -> str:
        if label is not None:
            return self._take(scope, label)
        # `add`, `add_1`, `add_2`...: the first name not taken. Names are never given back, so
        # the search resumes where the last one stopped (linear, not quadratic, in the merges).
        k = scope.merges.get(kind, 0)
        name = kind if k == 0 else f"{kind}_{k}"
        while name in scope.taken:
            k += 1
            name = f"{kind}_{k}"
        scope.merges[kind] = k + 1
        scope.taken[name] = span
        scope.automatic[name] = kind
        return name

    # ================================================================ control
    def _if(self, it: s.If, cur, scope, env) -> Tensor:
        c = self.ev.condition(it.cond, env)
        if c is POISON:
            return self._poisoned(cur)
        if c:
            return self._sequence(it.then.items, cur, scope, env)
        if it.other is not None:
            return self._item(it.other, cur, scope, env)
        return cur

    def _repeat(self, it: s.Repeat, cur, scope, env) -> Tensor:
        n = self.ev.eval(it.count, env)
        if n is POISON:
            return self._poisoned(cur)
        if isinstance(n, bool) or not isinstance(n, int):
            shown = f" `{describe_value(n)}`" if not isinstance(n, Tensor) else ""
            self.diags.error("E0204", f"a repetition count is an integer, found {type_name(n)}"
                             f"{shown}", it.count.span,
                             help="`/` gives a fraction when it does not divide exactly; "
                                  "`//` rounds down" if isinstance(n, float) else None)
            return self._poisoned(cur)
        if n < 0:
            self.diags.error("E0502", f"cannot repeat {n} times", it.count.span,
                             help="a count is 0 or more")
            return self._poisoned(cur)
        if n > self.limits.max_repeat:
            self.diags.error("E0502", f"repeating {n:,} times exceeds the limit of "
                             f"{self.limits.max_repeat:,}", it.count.span,
                             help="raise the limit with --max-repeat if you mean it")
            return self._poisoned(cur)
        inner = it.item
        for _ in self._projected(it, n):
            # `{ ... } * N`: each copy is a numbered scope (nn.Sequential of Sequentials).
            # `[ ... ] * N`: the list written N times, flat (torchvision's `make_layers`).
            if isinstance(inner, s.Group):
                sub = scope.child(scope.number(), "group", inner.span)
                cur = self._sequence(inner.items, cur, sub, env)
            else:
                cur = self._item(inner, cur, scope, env)
        return cur

    def _projected(self, it: s.Repeat | s.For, n: int):
        """0 .. n-1, for the copies of a repetition or the iterations of a loop; after the
        first, the rest's layers, parameters and weights are projected (`_project`), after
        the second their work (the first pays for checks the rest reuse). A projection over
        a limit raises, which ends the caller's loop."""
        nodes0, params0, held0 = len(self.ir), self.params_seen, self.held_seen
        work1 = 0
        for k in range(n):
            yield k
            if k == 0 and n > 1:
                self._project(it, n, len(self.ir) - nodes0, self.params_seen - params0,
                              self.held_seen - held0)
                work1 = self.budget.spent
            elif k == 1 and n > 2:
                self._project_work(it, n, self.budget.spent - work1)

    def _project(self, it: s.Repeat | s.For, n: int, nodes: int, params: int, held: int) -> None:
        """After the first of `n` copies (`nodes` IR nodes, `params` parameters), stop now if
        the rest would cross a limit: `{ relu * 1000 } * 1000` fails in milliseconds, not
        after building a million nodes. Copies may differ (a condition on `in.channels`),
        so the total is an estimate, and the message says so."""
        rest = n - 1
        checks = (
            ("E0503", len(self.ir) + rest * nodes, self.limits.max_layers, "layers",
             f"{nodes:,} layer{'s' if nodes != 1 else ''}", "check repetition counts, or "
             "raise the limit with --max-layers"),
            ("E0505", self.params_seen + rest * params, self.limits.max_params, "parameters",
             f"{params:,} parameters", "check the layer sizes and repetition counts, or "
             "raise the limit with --max-params"),
            ("E0512", (self.held_seen + rest * held) * BYTES, self.limits.max_memory,
             "weights", f"{fmt_bytes(held * BYTES)} of weights", _MEMORY_HELP),
        )
        for code, total, limit, what, one_copy, help_ in checks:
            if total > limit:
                verb = "expand to" if what == "layers" else "have"
                amount, most = ((f"{fmt_bytes(total)} of weights", fmt_bytes(limit))
                                if code == "E0512" else (f"{total:,} {what}", f"{limit:,}"))
                copies = "iterations" if isinstance(it, s.For) else "copies"
                self.diags.error(code, f"the network would {verb} about {amount}, "
                                 f"more than the limit of {most}", it.span,
                                 label=f"{n:,} {copies} of {one_copy}",
                                 notes=self._call_chain(), help=help_)
                raise _Abort()

    def _project_work(self, it: s.Repeat | s.For, n: int, work: int) -> None:
        """After the second of `n` copies (`work` units), stop now if the rest would spend
        more than the budget has left: `{ relurelu * 1000 } * 1000` stops at once."""
        rest = n - 2
        if rest * work > self.budget.left:
            total = self.budget.spent + rest * work
            copies = "iterations" if isinstance(it, s.For) else "copies"
            self.diags.add(out_of_work(self.budget, it.span, "elaborating the network",
                                       self._call_chain(), label=f"{n:,} {copies} of about "
                                       f"{work:,} units each: about {total:,} in all"),
                           force=True)
            raise _Abort()

    # ================================================================ blocks
    def _inline(self, it: s.Inline, cur, scope, env, label: s.Labeled | None) -> Tensor:
        """`inline stem(64)`: the block's body made in the caller's scope, numbered on from the
        caller's layers, its labels checked against the caller's. Only a block can be inline,
        and an inline call has no name of its own (a label would make it a scope again)."""
        call = it.call
        args = call.args if isinstance(call, s.Call) else []
        ident_span = call.ident_span if isinstance(call, s.Call) else call.span
        if label is not None:
            self.diags.error("E0231", "an inline call has no name of its own", label.label_span,
                             labels=[Label(it.keyword_span, "its layers join the caller's "
                                                            "scope")],
                             help=f"drop `inline` to make the scope `{label.label}`, or drop "
                                  f"the label `{label.label}:`")
        found, value = env.lookup(call.ident)
        spec = None if found else ops.lookup(call.ident)
        defn = None if found or spec is not None else env.module.namespace.get(call.ident)
        if defn is not None and defn.kind == "block":
            self._inline_calls.add(id(it.span))
            return self._call_block(defn, args, cur, scope, env, None, it.span, ident_span,
                                    inline=True)
        if found or (spec is not None and spec.kind != "input"):
            what = (f"a value ({type_name(value)})" if found and value is not POISON
                    else "a value" if found else "a layer kind")
            if not (found and value is POISON):
                self.diags.error("E0231", f"only a block call can be inline; `{call.ident}` is "
                                 f"{what}", it.keyword_span.to(ident_span),
                                 help=f"remove `inline`: `{call.ident}` makes "
                                      "no scope to leave out")
            return self._poisoned(cur)
        # a network, or an unknown name: the messages of an ordinary call
        return self._named_thing(call, cur, scope, env, None)

    def _call_block(self, defn: s.Definition, arg_nodes, cur, scope, env, label, span,
                    ident_span, inline: bool = False) -> Tensor:
        if id(defn) in self._active:
            chain = [d.name for d, _ in self.stack if d.kind == "block"] + [defn.name]
            self.diags.error("E0501", f"block `{defn.name}` calls itself"
                             + (f" ({' -> '.join(chain)})" if len(chain) > 2 else ""),
                             ident_span, labels=[Label(defn.name_span, "defined here")],
                             help="a block cannot contain itself; repeat it with `* N`")
            return self._poisoned(cur)
        if len(self.stack) > self.limits.max_depth:
            self.diags.error("E0504", f"blocks nest deeper than {self.limits.max_depth}",
                             ident_span, notes=self._call_chain(),
                             help="raise the limit with --max-depth if the nesting is deliberate")
            raise _Abort()
        self.budget.charge("call")
        self.budget.charge("argument", len(arg_nodes))
        if inline:  # the caller's own scope: its numbering, its names, its scopes
            sub = scope
            saved = scope.inits, scope.via
            scope.via = span
        else:
            leaf = self._take(scope, label, "scope")
            sub = scope.child(leaf, defn.name, span)
        benv = Env(defn.module)
        benv.vars.update(BASE_CONSTANTS)
        benv.vars["in"] = benv.current = cur
        known = self._specs.get(id(defn))
        if known is None:
            known = self._specs[id(defn)] = (defn, tuple(
                ArgSpec(p.name, ANY, _deferred(p.default) if p.default is not None
                        else REQUIRED, positional=True) for p in defn.params))
        specs = known[1]
        vals = [(a.name, self.ev.eval(a.value, env)) for a in arg_nodes]
        bound = bind(specs, vals, f"block `{defn.name}`", self.limits.max_int)
        for p in bound.problems:
            at = span if p.arg_index is None else arg_nodes[p.arg_index].span
            self.diags.error(p.code, p.message, at, help=p.help,
                             labels=[Label(defn.name_span, "defined here")])
        for p in defn.params:
            v = bound.values[p.name]
            if _is_deferred(v):
                v = self.ev.eval(v[1], benv)
            benv.vars[p.name] = v
        self.stack.append((defn, span))
        self._active.add(id(defn))
        first = len(self.diags.items)
        try:
            out = self._body(defn.body, cur, sub, benv)
        except OutOfWork as exc:
            if exc.chain is None:  # the innermost call says where: the stack unwinds after
                exc.where, exc.chain = self.where, self._call_chain()
            raise
        finally:
            self.stack.pop()
            self._active.discard(id(defn))
            if inline:  # the block's `init` rules end with its body
                scope.inits, scope.via = saved
        self._note_call(first, defn, span)
        return out

    def _init_rule(self, it: s.InitStmt, env, scope) -> InitRule | None:
        if it.func not in INIT_FUNCTIONS:
            hint = suggest(it.func, INIT_FUNCTIONS)
            self.diags.error("E0222", f"unknown init function `{it.func}`" +
                             (f" (did you mean `{hint}`?)" if hint else ""), it.func_span,
                             help="init functions: " + ", ".join(INIT_FUNCTIONS))
            return None
        if len(it.target) > 2 or (len(it.target) == 2 and it.target[1] not in PARAM_NAMES):
            self.diags.error("E0222", "an init target is a layer kind or name, then `.weight` "
                             "or `.bias`", it.target_span,
                             help="e.g. `init conv.weight = kaiming_normal(mode=\"fan_out\")`")
            return None
        vals = [(a.name, self.ev.eval(a.value, env)) for a in it.args]
        bound = bind(INIT_FUNCTIONS[it.func], vals, it.func, self.limits.max_int)
        for p in bound.problems:
            at = it.span if p.arg_index is None else it.args[p.arg_index].span
            self.diags.error(p.code, p.message, at, help=p.help)
        if bound.problems or bound.poisoned:
            return None
        return InitRule(tuple(it.target), it.func, tuple(sorted(bound.values.items())),
                        it.span, scope.path)


__all__ = ["Dims", "Elaborator", "Limits"]
