"""The importer's tests run small models: one intra-op thread keeps them quick (the torch
backend's fixture, shared)."""

from tests.torch.conftest import _one_thread  # noqa: F401  (an autouse fixture)
