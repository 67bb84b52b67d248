"""The torch backend's tests run tiny tensors: one intra-op thread is faster for them, and it
keeps them quick when other jobs load the machine (OpenMP threads spin while they wait)."""

import pytest


@pytest.fixture(autouse=True)
def _one_thread():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
