"""Pausing Python's cyclic garbage collector while the front end runs.

A front-end run allocates a few hundred small objects per layer (syntax nodes, spans, Lark
trees, IR attribute dicts) and keeps nearly all of them until the run ends. The cyclic
collector would walk that growing heap again and again and free nothing: about 30% of the time
of a 100,000-layer check (docs/performance.md, "Front end"). Reference counting still frees
everything acyclic at once; cycles made during the run wait for the collector's next turn
after it.
"""

from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def paused_gc():
    """Disable the cyclic collector inside the block (or a decorated function); restore after.

    >>> with paused_gc():
    ...     gc.isenabled()
    False
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
