"""The `init` rules of a `.arch` file, carried out with `torch.nn.init`.

Each node lists the rules that reach it (`dsl/inits.py`), outer first; a later rule replaces an
earlier one for the same parameter, so only the last one per parameter is applied (`default`
means: keep PyTorch's own initialisation). Rules run after PyTorch's defaults, in a fixed order
(IR order within each distinct rule), so a seeded build is reproducible. A rule for a
parameter a layer does not have (`conv.bias` on a conv with `bias=false`, a literal kernel's
weight) is skipped: the rule names a kind, and not every layer of that kind has it.
"""

from __future__ import annotations

from dataclasses import dataclass

# archdsl function -> (torch.nn.init function, {archdsl argument: torch argument})
INIT_CALLS: dict[str, tuple[str, dict[str, str]]] = {
    "kaiming_normal": ("kaiming_normal_", {}),
    "kaiming_uniform": ("kaiming_uniform_", {}),
    "xavier_normal": ("xavier_normal_", {}),
    "xavier_uniform": ("xavier_uniform_", {}),
    "normal": ("normal_", {}),
    "uniform": ("uniform_", {}),
    "trunc_normal": ("trunc_normal_", {}),
    "constant": ("constant_", {"value": "val"}),
    "zeros": ("zeros_", {}),
    "ones": ("ones_", {}),
}


@dataclass(frozen=True)
class InitStep:
    path: str  # module path: `layer1.0.bn3`
    param: str  # `weight` or `bias`
    func: str  # torch.nn.init function name: `zeros_`
    kwargs: tuple[tuple[str, object], ...]

    def source(self, tensor: str) -> str:
        from .lowering import py

        args = [tensor] + [f"{k}={py(v)}" for k, v in self.kwargs]
        return f"nn.init.{self.func}({', '.join(args)})"


def _has(data: dict, param: str) -> bool:
    if param == "weight":
        # A literal kernel keeps the numbers written in the file.
        return data.get("weights", 0) > 0 and data["args"].get("weights") is None
    return data.get("biases", 0) > 0


def init_steps(ir) -> list[InitStep]:
    steps = []
    for _, data in ir.nodes():
        last = {}
        for rule in data["init"]:
            last[rule.param] = rule
        for param in ("weight", "bias"):
            rule = last.get(param)
            if rule is None or rule.func == "default" or not _has(data, param):
                continue
            func, rename = INIT_CALLS[rule.func]
            kwargs = tuple((rename.get(k, k), v) for k, v in rule.args)
            steps.append(InitStep(data["name"], param, func, kwargs))
    # Group the steps that do the same thing (one loop each in the standalone source). Each
    # (layer, parameter) has one step, so the order between groups changes no value; it only
    # fixes the order of random draws, the same for to_torch and the standalone source.
    groups: dict[tuple, list[InitStep]] = {}
    for step in steps:
        groups.setdefault((step.param, step.func, step.kwargs), []).append(step)
    return [step for group in groups.values() for step in group]


def apply(model, steps: list[InitStep]) -> None:
    from torch import nn

    for step in steps:
        tensor = getattr(model.get_submodule(step.path), step.param)
        getattr(nn.init, step.func)(tensor, **dict(step.kwargs))
