"""Runs every benchmark in bench/ (each `bench/<name>.py` prints its own table), in name order.

Usage: python bench/run_all.py [NAME ...]   (default: all)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != "run_all.py"
                     and not p.name.startswith("_"))
    if argv:
        scripts = [p for p in scripts if p.stem in argv]
    status = 0
    for script in scripts:
        print(f"== {script.stem} ==", flush=True)
        status |= subprocess.call([sys.executable, str(script)])
        print(flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
