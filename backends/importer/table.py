"""The round-trip table of docs/import.md: every torchvision model of a family, imported.

    python -m archdsl.backends.importer.table --family all [--markdown] [--only resnet50]

For each model (built with random weights, never downloaded): the imported file's lines and
recovered blocks, whether the round trip holds (verify.py: same state_dict keys, order and
shapes, strict load, outputs equal within 1e-5), whether importing the compiled module gives
the same text (the fixed point), and what was missing for those that fail. Needs torchvision
(a separate environment: docs/import.md); archdsl does not depend on it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

FAMILIES = {"classification": "torchvision.models",
            "segmentation": "torchvision.models.segmentation"}
# models too large for this check's memory and time on a laptop (hundreds of millions of
# weights); named in the table as skipped
TOO_LARGE = {"vit_h_14", "regnet_y_128gf"}


def models(family: str) -> list[str]:
    import torchvision.models
    import torchvision.models.segmentation

    modules = {"classification": torchvision.models,
               "segmentation": torchvision.models.segmentation}
    names = []
    for fam in (FAMILIES if family == "all" else [family]):
        names += [(fam, n) for n in torchvision.models.list_models(module=modules[fam])]
    return names


def one(family: str, name: str) -> dict:
    import torch
    import torchvision

    from . import Unexpressible, from_torch
    from .verify import round_trip

    row = {"family": family, "model": name, "lines": "", "blocks": "", "equal": "no",
           "fixed": "", "missing": ""}
    if name in TOO_LARGE:
        row["missing"] = "(skipped: too large for this check)"
        return row
    torch.manual_seed(0)
    # never a download: no weights, the backbone's neither
    kw = {"aux_loss": False, "weights_backbone": None} if family == "segmentation" else {}
    if name in ("googlenet", "inception_v3"):
        kw = {"aux_logits": False, "init_weights": False}
    model = torchvision.models.get_model(name, weights=None, **kw)
    shape = (3, 299, 299) if name == "inception_v3" else (3, 224, 224)
    try:
        result = from_torch(model, shape, name=name)
    except Unexpressible as exc:
        row["missing"] = summarise(exc.missing)
        if all("cannot be an archdsl label" in m.reason for m in exc.missing):
            row["missing"] += "; " + marked(model, shape, name)
        return row
    row["lines"], row["blocks"] = result.lines, result.blocks
    problems = round_trip(model, result.network, shape)
    row["equal"] = "yes" if not problems else "no"
    row["missing"] = "; ".join(problems)
    if not problems:
        again = from_torch(result.network.to_torch(), shape, name=name)
        row["fixed"] = "yes" if again.text == result.text else "no"
    return row


def marked(model, shape, name) -> str:
    """With --mark-unsupported (children renamed): whether the outputs are then the same,
    the weights loaded under the renamed keys."""
    import re

    import torch

    from . import from_torch
    from .verify import randomise_norms

    result = from_torch(model, shape, name=name, mark_unsupported=True)
    names, renamed = {}, {}
    for m in result.marked:
        local = m.path.rsplit(".", 1)[-1]
        fixed = re.sub(r"\W", "_", local)
        names[local] = fixed if fixed != "block" else "block_"
    ref = model.eval()
    randomise_norms(ref)
    for key, value in ref.state_dict().items():
        renamed[".".join(names.get(p, p) for p in key.split("."))] = value
    compiled = result.network.to_torch().eval()
    compiled.load_state_dict(renamed, strict=True)
    x = torch.randn(2, *shape)
    with torch.no_grad():
        err = (ref(x) - compiled(x)).abs().max().item()
    same = "equal" if err <= 1e-5 else f"differ by {err:.2g}"
    return (f"with --mark-unsupported: {result.lines} lines, {result.blocks} blocks, "
            f"outputs {same}")


def summarise(missing) -> str:
    """The reasons, most frequent first, each with one example path."""
    seen: Counter = Counter()
    example = {}
    for m in missing:
        what = m.what.rsplit(".", 1)[-1]
        reason = m.reason.replace(f"`{m.path.rsplit('.', 1)[-1]}` ", "") if m.path else m.reason
        key = f"{what}: {reason}"
        seen[key] += 1
        example.setdefault(key, m.path or "(model)")
    return "; ".join(f"{k} (at {example[k]}{f', +{n - 1}' if n > 1 else ''})"
                     for k, n in seen.most_common(3))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m archdsl.backends.importer.table")
    p.add_argument("--family", choices=[*FAMILIES, "all"], default="all")
    p.add_argument("--only", action="append", default=[], metavar="MODEL")
    p.add_argument("--markdown", action="store_true", help="a Markdown table (docs/import.md)")
    args = p.parse_args(argv)
    try:
        import torchvision  # noqa: F401
    except ImportError:
        print("the table needs torchvision (see docs/import.md)", file=sys.stderr)
        return 2
    rows = []
    for fam, name in models(args.family):
        if args.only and name not in args.only:
            continue
        start = time.perf_counter()
        try:
            row = one(fam, name)
        except Exception as exc:  # a bug of the importer: in the table, not a crash
            row = {"family": fam, "model": name, "lines": "", "blocks": "", "equal": "no",
                   "fixed": "", "missing": f"importer error: {type(exc).__name__}: {exc}"}
        row["seconds"] = f"{time.perf_counter() - start:.1f}"
        rows.append(row)
        if not args.markdown:
            print(f"{fam:15} {name:28} {row['lines']!s:>5} {row['blocks']!s:>3} "
                  f"{row['equal']:4} {row['fixed']:4} {row['missing']}", flush=True)
    if args.markdown:
        print("| model | lines | blocks | round trip | fixed point | what was missing |")
        print("|---|---:|---:|---|---|---|")
        for r in rows:
            missing = r["missing"].replace("|", "\\|")
            print(f"| {r['model']} | {r['lines']} | {r['blocks']} | {r['equal']} | {r['fixed']} "
                  f"| {missing} |")
    ok = sum(r["equal"] == "yes" for r in rows)
    print(f"{ok} of {len(rows)} models round-trip", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
