"""Lowering to PyTorch: fx modules, standalone source, ONNX."""
