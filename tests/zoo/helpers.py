"""Shared by the zoo tests: which networks copy torchvision, and what the IR predicts of the
compiled module (state_dict keys and shapes, torch classes, constructor arguments)."""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path

import archdsl
from archdsl import zoo_index
from tests.conftest import reference

TORCHVISION = [
    "alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn",
    "vgg19_bn", "googlenet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
]
ORIGINALS = ["lenet5", "alexnet2012", "zfnet", "googlenet2014"]
LIBRARIES = ["inception_blocks", "resnet_blocks", "vgg_blocks"]

# The torch class each IR kind lowers to, for 2-D inputs (what torchvision's modules are).
TORCH_CLASS = {
    "conv": "Conv2d", "batchnorm": "BatchNorm2d", "linear": "Linear", "maxpool": "MaxPool2d",
    "avgpool": "AvgPool2d", "adaptive_avgpool": "AdaptiveAvgPool2d", "relu": "ReLU",
    "dropout": "Dropout", "lrn": "LocalResponseNorm", "flatten": "Flatten",
}


@cache
def net(name: str, **params):
    return archdsl.zoo(name, **params)


@cache
def ref(name: str) -> dict:
    return reference(f"torchvision/{name}")


def predicted_state_dict(network) -> list[list]:
    """The state_dict the IR promises, `[key, shape]` in order: each node with parameters or
    buffers is a module at its name; nn.Module orders keys depth-first over the module tree,
    children in the order they were first registered (IR order)."""
    tree: dict = {}
    for _, data in network.ir.layers():
        entries = _entries(data)
        if not entries:
            continue
        node = tree
        for part in data["name"].split("."):
            node = node.setdefault(part, {})
        node[None] = entries
    out: list[list] = []

    def walk(node, prefix):
        for key, value in node.items():
            if key is None:
                out.extend([f"{prefix}{k}", s] for k, s in value)
        for key, value in node.items():
            if key is not None:
                walk(value, f"{prefix}{key}.")

    walk(tree, "")
    return out


def _entries(data) -> list[tuple[str, list[int]]]:
    op, a = data["op"], data["args"]
    if op == "conv":
        w = [("weight", [a["filters"], a["in_channels"] // a["groups"], *a["kernel"]])]
        return w + ([("bias", [a["filters"]])] if a["bias"] else [])
    if op == "linear":
        w = [("weight", [a["features"], a["in_features"]])]
        return w + ([("bias", [a["features"]])] if a["bias"] else [])
    if op == "batchnorm":
        c = a["features"]
        out = [("weight", [c]), ("bias", [c])] if a["affine"] else []
        if a["track"]:
            out += [("running_mean", [c]), ("running_var", [c]), ("num_batches_tracked", [])]
        return out
    return []


def torch_args(data) -> dict:
    """The IR node's arguments as torchvision's `module_attrs` spell them."""
    op, a = data["op"], data["args"]
    if op == "conv":
        return {"out_channels": a["filters"], "in_channels": a["in_channels"],
                "kernel_size": list(a["kernel"]), "stride": list(a["stride"]),
                "padding": list(a["pad"]), "dilation": list(a["dilation"]),
                "groups": a["groups"], "bias": a["bias"]}
    if op in ("maxpool", "avgpool"):
        return {"kernel_size": list(a["kernel"]), "stride": list(a["stride"]),
                "padding": list(a["pad"]), "ceil_mode": a["ceil"]}
    if op == "batchnorm":
        return {"num_features": a["features"], "eps": a["eps"], "momentum": a["momentum"],
                "affine": a["affine"], "track_running_stats": a["track"]}
    if op == "linear":
        return {"in_features": a["in_features"], "out_features": a["features"],
                "bias": a["bias"]}
    if op == "adaptive_avgpool":
        return {"output_size": list(a["size"])}
    if op == "dropout":
        return {"p": a["p"]}
    return {}


def normalise_attrs(attrs: dict, like: dict) -> dict:
    """torchvision's attrs restricted to the keys compared, ints widened to 2-D lists."""
    out = {}
    for key, want in like.items():
        have = attrs[key]
        if isinstance(want, list) and isinstance(have, int):
            have = [have] * len(want)
        out[key] = have
    return out


# ------------------------------------------------------------------ line counts (docs/zoo.md)
IMPORT = re.compile(r'^\s*import\s+"([^"]+)"', re.M)


def arch_files(name: str) -> list[Path]:
    """The network's file and the block files it imports (transitively), once each."""
    seen: list[Path] = []
    todo = [Path(zoo_index.path_of(name))]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.append(p)
        todo.extend(p.parent / m for m in IMPORT.findall(p.read_text()))
    return seen


def line_counts(name: str) -> tuple[int, int]:
    """(all lines, lines of code: neither blank nor comment) of a network and its imports."""
    lines = [ln for p in arch_files(name) for ln in p.read_text().splitlines()]
    code = [ln for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    return len(lines), len(code)


def ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}"


def fc_instead_of_pool(network, pool="avgpool") -> int:
    """Weights of a fully connected layer from the volume before `pool` to the classes."""
    before = network.ir.inputs(network.ir.by_name(pool))[0]
    return math.prod(network.ir.node(before)["shape"]) * network.output_shape[0]


# ------------------------------------------------------------------ the table of docs/zoo.md
def doc_row(name: str) -> str:
    """`| name | input | params | MACs | lines | code lines |`, as docs/zoo.md prints it."""
    n = net(name)
    lines, code = line_counts(name)
    files = " + ".join(p.name for p in arch_files(name))
    return (f"| `{name}` | {'x'.join(map(str, n.input_shape))} | {n.params:,} | {n.macs:,} "
            f"| {lines} | {code} | {files} |")


def readme_row(name: str) -> str:
    n = net(name)
    return (f"| `{name}` | {'x'.join(map(str, n.input_shape))} | {n.params:,} | {n.macs:,} "
            f"| {line_counts(name)[0]} |")


def ratio_rows() -> list[str]:
    """AlexNet's parameters over GoogLeNet's, and GoogLeNet's MACs over AlexNet's."""
    out = []
    for alex, goog in (("alexnet2012", "googlenet2014"), ("alexnet", "googlenet")):
        a, g = net(alex), net(goog)
        out.append(f"| `{alex}` / `{goog}` | {a.params:,} / {g.params:,} = "
                   f"**{ratio(a.params, g.params)}x fewer** | {g.macs:,} / {a.macs:,} = "
                   f"**{ratio(g.macs, a.macs)}x more** |")
    return out
