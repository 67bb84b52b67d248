"""`pkg.module:factory`, `pkg.module:Class(args)`: the model a command line names.

The module is imported with importlib, which runs its code: that is what the person asked
for by naming it (docs/import.md says so); nothing in an `.arch` file ever runs code. The
arguments are Python literals, read with `ast.literal_eval` (never `eval`): numbers,
strings, booleans, None, tuples, lists and dicts, by position or by keyword.
"""

from __future__ import annotations

import ast
import importlib
import re


class SpecError(Exception):
    """A SPEC that is malformed or names nothing importable: a usage error (exit 2)."""


_MODULE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def parse(spec: str) -> tuple[str, str, tuple, dict, bool]:
    """(module, attribute path, args, kwargs, called) of `spec`."""
    if ":" not in spec:
        raise SpecError(f"`{spec}` is not a model: write MODULE:FACTORY, e.g. "
                        "torchvision.models:resnet50 or my_pkg.nets:Net(width=64)")
    module, _, rest = spec.partition(":")
    if not _MODULE.fullmatch(module):
        raise SpecError(f"`{module}` is not a Python module name (dotted names, e.g. "
                        "my_pkg.nets)")
    try:
        tree = ast.parse(rest.strip(), mode="eval").body
    except SyntaxError:
        raise SpecError(f"`{rest}` is not a name or a call with literal arguments") from None
    called = isinstance(tree, ast.Call)
    func = tree.func if called else tree
    parts = []
    while isinstance(func, ast.Attribute):
        parts.insert(0, func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        raise SpecError(f"`{rest}` is not a name or a call with literal arguments")
    parts.insert(0, func.id)
    args, kwargs = [], {}
    if called:
        try:
            args = [ast.literal_eval(a) for a in tree.args]
            for kw in tree.keywords:
                if kw.arg is None:
                    raise ValueError("**")
                kwargs[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            raise SpecError(f"the arguments of `{rest}` must be Python literals (numbers, "
                            "strings, True/False/None, tuples, lists, dicts)") from None
    return module, ".".join(parts), tuple(args), kwargs, called


def load(spec: str):
    """The `nn.Module` that `spec` names (built by calling the factory or class)."""
    import torch.nn as nn

    module, attr, args, kwargs, called = parse(spec)
    try:
        # the person named this module to be imported: running its code is the request
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise SpecError(f"no Python module named `{exc.name or module}` (is the package "
                        "installed, or its folder on PYTHONPATH?)") from None
    except Exception as exc:
        raise SpecError(f"importing `{module}` failed: {type(exc).__name__}: {exc}") from None
    obj = mod
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise SpecError(f"`{module}` has no `{attr}`")
        obj = getattr(obj, part)
    if called or (callable(obj) and not isinstance(obj, nn.Module)):
        try:
            obj = obj(*args, **kwargs)
        except Exception as exc:
            raise SpecError(f"`{attr}(...)` failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(obj, nn.Module):
        raise SpecError(f"`{spec}` gives a {type(obj).__name__}, not a torch.nn.Module")
    return obj


def default_name(spec: str) -> str:
    """The network's name for a spec: the factory's (`resnet50`), else the class's."""
    try:
        _, attr, *_ = parse(spec)
    except SpecError:
        return "imported"
    last = attr.rsplit(".", 1)[-1]
    if last[:1].isupper():
        from .blocks import snake

        return snake(last)
    return last
