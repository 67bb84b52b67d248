"""archdsl: a declarative language and compiler for neural-network architectures.

    >>> import archdsl
    >>> net = archdsl.zoo("lenet5")
    >>> net.layer("conv1")["shape"]
    (6, 28, 28)

`check`, `summary` and drawing never import torch; `Network.to_torch()` does, lazily.
"""

from ._version import __version__
from .api import load, parse, parse_shape, zoo, zoo_path
from .diagnostics import ArchError, Diagnostic
from .elaborate import Limits
from .network import Network
from .ops import register as register_op

__all__ = ["ArchError", "Diagnostic", "Limits", "Network", "__version__", "load", "parse",
           "parse_shape", "register_op", "zoo", "zoo_path"]
