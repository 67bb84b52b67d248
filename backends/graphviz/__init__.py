"""Graphviz diagrams: pure DOT text generation and a thin render step."""
