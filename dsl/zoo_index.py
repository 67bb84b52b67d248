"""The zoo: the `.arch` files shipped in `archdsl.architectures`, loadable by name."""

from __future__ import annotations

import os
import re


def zoo_dir() -> str:
    # The package's folder, as importlib.resources.files() would give for a regular install or
    # an editable one, without importing importlib.resources (pathlib, zipfile: ~20 ms of a
    # `check`'s start-up).
    from . import architectures

    return os.path.dirname(os.path.abspath(architectures.__file__))


def _is_network_file(path: str) -> bool:
    with open(path, encoding="utf-8") as fh:
        return any(line.lstrip().startswith("network ") for line in fh)


def natural_key(name: str) -> tuple:
    """Sorts names as people count: `resnet18` before `resnet101`, `vgg11` before `vgg11_bn`
    before `vgg13`."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", name) if part)


def names() -> list[str]:
    """Every zoo network (files that define a network, not block libraries), in natural
    order (`natural_key`)."""
    d = zoo_dir()
    out = []
    for fn in os.listdir(d):
        if fn.endswith(".arch") and _is_network_file(os.path.join(d, fn)):
            out.append(fn[: -len(".arch")])
    return sorted(out, key=natural_key)


def path_of(name: str) -> str | None:
    p = os.path.join(zoo_dir(), f"{name}.arch")
    return p if os.path.isfile(p) else None


def display_path(name: str) -> str:
    """How messages name a zoo file: `zoo:resnet50`, which every command also takes as its
    target (the file itself is inside the installed package, see `path_of`)."""
    return f"zoo:{name}"
