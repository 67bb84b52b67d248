"""Lowering to PyTorch: modules (`to_torch`), standalone source (`to_source`), ONNX
(`to_onnx`). This is the only package that imports torch, and only where a module is built:
`to_source` (and `archdsl compile`) write text without importing it; the front end reaches
this package lazily."""

from .lowering import Lowering, LoweringError, ModuleCall, register_lowering


def to_torch(net, device=None, dtype=None, optimize=False):
    from .lower import to_torch as _to_torch

    return _to_torch(net, device=device, dtype=dtype, optimize=optimize)


def to_source(net, optimize: bool = False) -> str:
    from .source import to_source as _to_source

    return _to_source(net, optimize=optimize)


def to_onnx(net, path, **kw):
    from .onnx_export import to_onnx as _to_onnx

    return _to_onnx(net, path, **kw)


def __getattr__(name: str):
    # the torch-side classes, imported on first use (`from ... import ArchRuntimeError`)
    if name in ("ArchModule", "ArchRuntimeError", "trace"):
        from . import module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ArchModule", "ArchRuntimeError", "Lowering", "LoweringError", "ModuleCall",
           "register_lowering", "to_onnx", "to_source", "to_torch", "trace"]
