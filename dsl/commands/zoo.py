"""`archdsl zoo`: every network of the zoo with its input, parameters and MACs."""

from __future__ import annotations

import json

from .. import zoo_index as zoo_mod
from ..pipeline import run as run_pipeline
from ..summary import human
from . import SUMMARIES
from .common import EXIT_INPUT, EXIT_OK


def add_parser(sub):
    p = sub.add_parser("zoo", help=SUMMARIES["zoo"],
                       description="List every zoo network with its input shape, output shape, "
                                   "parameters and MACs. Use a name wherever a file is expected.")
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    return p


def rows():
    out = []
    for name in zoo_mod.names():
        res = run_pipeline(path=zoo_mod.path_of(name), display=zoo_mod.display_path(name))
        if res.ir is None or res.diagnostics.has_errors:
            out.append({"name": name, "error": True})
            continue
        t = res.ir.attrs["totals"]
        out.append({"name": name, "input": list(res.ir.node(res.ir.input)["shape"]),
                    "output": list(res.ir.node(res.ir.output)["shape"]),
                    "params": t.params, "macs": t.macs, "layers": len(res.ir) - 1})
    return out


def run(args) -> int:
    data = rows()
    if args.format == "json":
        print(json.dumps(data, indent=2))
    else:
        head = ("network", "input", "output", "params", "MACs", "MACs (approx.)")
        cells = [head]
        for r in data:
            if r.get("error"):
                cells.append((r["name"], "?", "?", "?", "?", "error: run `archdsl check`"))
                continue
            cells.append((r["name"], "x".join(map(str, r["input"])),
                          "x".join(map(str, r["output"])), f"{r['params']:,}",
                          f"{r['macs']:,}", human(r["macs"])))
        if args.format == "markdown":
            print("| " + " | ".join(head) + " |")
            print("|---|---|---|---:|---:|---:|")
            for c in cells[1:]:
                print("| " + " | ".join(c) + " |")
        else:
            w = [max(len(c[i]) for c in cells) for i in range(len(head))]
            for c in cells:
                print("  ".join(c[i].rjust(w[i]) if i in (3, 4, 5) else c[i].ljust(w[i])
                                for i in range(len(head))).rstrip())
    return EXIT_INPUT if any(r.get("error") for r in data) else EXIT_OK
