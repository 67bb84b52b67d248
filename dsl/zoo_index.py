"""The zoo: the `.arch` files shipped in `archdsl.architectures`, loadable by name."""

from __future__ import annotations

import os


def zoo_dir() -> str:
    # The package's folder, as importlib.resources.files() would give for a regular install or
    # an editable one, without importing importlib.resources (pathlib, zipfile: ~20 ms of a
    # `check`'s start-up).
    from . import architectures

    return os.path.dirname(os.path.abspath(architectures.__file__))


def _is_network_file(path: str) -> bool:
    with open(path, encoding="utf-8") as fh:
        return any(line.lstrip().startswith("network ") for line in fh)


def names() -> list[str]:
    """Every zoo network (files that define a network, not block libraries)."""
    d = zoo_dir()
    out = []
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".arch") and _is_network_file(os.path.join(d, fn)):
            out.append(fn[: -len(".arch")])
    return out


def path_of(name: str) -> str | None:
    p = os.path.join(zoo_dir(), f"{name}.arch")
    return p if os.path.isfile(p) else None


def display_path(name: str) -> str:
    return f"architectures/{name}.arch"
