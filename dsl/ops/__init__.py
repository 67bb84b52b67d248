"""The op registry and the built-in layer kinds (one module per family)."""

from . import (  # noqa: F401  (registers kinds)
    activation,
    conv,
    conv_transpose,
    dense,
    io,
    learned,
    merge,
    norm,
    pool,
    regularise,
    reshape,
)

# isort: split
from . import elementwise, resize, split  # noqa: F401  (issue 12's structural kinds)

# isort: split
from .registry import (
    NO_COUNTS,
    Counts,
    OpSpec,
    ShapeProblem,
    get,
    kinds,
    lookup,
    makes_map,
    names,
    register,
    takes_values,
    tensor_args,
    unregister,
)

__all__ = ["NO_COUNTS", "Counts", "OpSpec", "ShapeProblem", "get", "kinds", "lookup", "makes_map",
           "names", "register", "takes_values", "tensor_args", "unregister"]
