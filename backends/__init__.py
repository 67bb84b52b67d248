"""Backends: consumers of a checked IR (graphviz, torch). Torch is imported lazily, only here."""
