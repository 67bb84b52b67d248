"""The `.arch` files of the workspace folders (for workspace symbols and references), and the
files an `import` can name (for completion). Bounded: hidden folders, virtual environments and
`node_modules` are skipped, and no more than `MAX_FILES` files are listed."""

from __future__ import annotations

import os

MAX_FILES = 2000
_SKIP = {"node_modules", "__pycache__", "build", "dist", "site-packages"}


def workspace_files(roots) -> list[str]:
    """Real paths of the `.arch` files under the workspace folders, sorted."""
    out: list[str] = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP
                             and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg")))
            for f in sorted(files):
                if f.endswith(".arch"):
                    out.append(os.path.realpath(os.path.join(folder, f)))
                    if len(out) >= MAX_FILES:
                        return sorted(set(out))
    return sorted(set(out))


def importable(base: str, search_path, prefix: str) -> list[tuple[str, str]]:
    """(text to write after `import "`, the folder it was found in) for each `.arch` file and
    sub-folder reachable from `base` and the search path whose relative path starts with
    `prefix` (up to its last `/`, the folder being listed)."""
    head, _, _ = prefix.rpartition("/")
    head = head + "/" if head else ""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for root in (base, *search_path):
        folder = os.path.join(root, head)
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for n in names:
            full = os.path.join(folder, n)
            if n.startswith("."):
                continue
            if n.endswith(".arch") and os.path.isfile(full):
                rel = head + n
            elif os.path.isdir(full) and n not in _SKIP and not \
                    os.path.exists(os.path.join(full, "pyvenv.cfg")):
                rel = head + n + "/"
            else:
                continue
            if rel not in seen:
                seen.add(rel)
                out.append((rel, root))
            if len(out) >= MAX_FILES:
                return out
    return out
