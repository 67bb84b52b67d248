"""archdsl: a declarative language and compiler for neural-network architectures.

    >>> import archdsl
    >>> net = archdsl.zoo("lenet5")
    >>> net.layer("conv1")["shape"]
    (6, 28, 28)

`check`, `summary` and drawing never import torch; `Network.to_torch()` does, lazily, and so
does `archdsl.from_torch(module, input_shape)`, which writes a PyTorch model as a `.arch` file.
"""

from . import _interrupt

_interrupt.install()  # first of all: Ctrl-C while the command starts up is no traceback

from ._version import __version__  # noqa: E402
from .api import example_path, load, parse, parse_shape, zoo, zoo_path  # noqa: E402
from .diagnostics import ArchError, Diagnostic  # noqa: E402
from .elaborate import Limits  # noqa: E402
from .network import Network  # noqa: E402
from .ops import register as register_op  # noqa: E402

__all__ = ["ArchError", "Diagnostic", "Limits", "Network", "__version__", "example_path",
           "from_torch", "load", "parse", "parse_shape", "register_op", "zoo", "zoo_path"]


def __getattr__(name: str):
    # `archdsl.from_torch(module, input_shape)` (docs/import.md): the importer imports torch,
    # so it is reached on first use only; `import archdsl` stays torch-free
    if name == "from_torch":
        from .backends.importer import from_torch

        return from_torch
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
