"""Lowering to PyTorch: fx modules (`to_torch`), standalone source (`to_source`), ONNX
(`to_onnx`). This is the only package that imports torch; the front end reaches it lazily."""

from .lower import to_torch
from .lowering import Lowering, LoweringError, ModuleCall, register_lowering
from .module import ArchModule, ArchRuntimeError


def to_source(net, optimize: bool = False) -> str:
    from .source import to_source as _to_source

    return _to_source(net, optimize=optimize)


def to_onnx(net, path, **kw):
    from .onnx_export import to_onnx as _to_onnx

    return _to_onnx(net, path, **kw)


__all__ = ["ArchModule", "ArchRuntimeError", "Lowering", "LoweringError", "ModuleCall",
           "register_lowering", "to_onnx", "to_source", "to_torch"]
