"""Before `to_torch()` allocates: do the network's weights fit in the memory this machine has
free? Torch would otherwise die allocating (or the kernel kill the process); this says so at
the layer, as a located error (E0512), before the first tensor exists.

The front end refuses weights over `Limits.max_memory` (16 GiB by default) on any machine; this
check is the machine's own, so a network that passes `check` still fails cleanly on a small one.
"""

from __future__ import annotations

import os

from archdsl.diagnostics import ArchError, Diagnostic
from archdsl.values import fmt_bytes

BYTES = 4  # modules are built in float32, whatever dtype they are moved to afterwards


def available_memory() -> int | None:
    """Bytes of memory free for this process: the kernel's MemAvailable, lowered by a cgroup
    limit when one applies; None when the machine does not say."""
    free = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    free = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if free is None:
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    try:  # a container's own limit (cgroup v2), if it is lower
        with open("/sys/fs/cgroup/memory.max") as fh:
            limit = fh.read().strip()
        with open("/sys/fs/cgroup/memory.current") as fh:
            used = int(fh.read().strip())
        if limit != "max":
            free = min(free, int(limit) - used)
    except (OSError, ValueError):
        pass
    return max(free, 0)


def check_fits(ir, available: int | None = None) -> None:
    """Raise ArchError (E0512) at the largest layer when the parameters and buffers of `ir`
    need more memory than `available` (this machine's free memory by default)."""
    if available is None:
        available = available_memory()
        if available is None:
            return
    total, largest = 0, None
    for _, data in ir.nodes():
        held = (data.get("params") or 0) + (data.get("buffers") or 0)
        total += held
        if largest is None or held > largest[0]:
            largest = (held, data)
    if largest is None or total * BYTES <= available:
        return
    held, data = largest
    raise ArchError([Diagnostic(
        "E0512", f"building `{ir.name}` needs {fmt_bytes(total * BYTES)} for its weights; this "
        f"machine has {fmt_bytes(available)} of memory free", data.get("span"),
        label=f"`{data['name']}` alone needs {fmt_bytes(held * BYTES)} "
              f"({held:,} parameters and buffers)",
        help="build it on a machine with more free memory, or make the layers smaller")])
