"""The per-layer summary: hierarchical name, kind with K/F/S/P, output shape, parameters,
MACs, receptive field and effective stride; totals at the bottom. As text, JSON or Markdown.

On a partial IR (a shape error) the table runs up to the failing layer and marks it.
"""

from __future__ import annotations

import json

from . import ops
from .escape import visible
from .ir import IR
from .passes.analysis import Totals
from .passes.counting import Work
from .passes.memory import Memory
from .values import fmt_shape

HEADERS = ("layer", "kind", "output", "params", "MACs", "rf", "stride")


def _fmt_tuple(t) -> str:
    if t is None:
        return "-"
    return str(t[0]) if len(set(t)) == 1 else "x".join(map(str, t))


def human(n: float, unit: str = "") -> str:
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.2f} {suffix}{unit}"
    return f"{n:g} {unit}".rstrip()


def human_bytes(n: int) -> str:
    for div, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= div:
            return f"{n / div:.2f} {suffix}"
    return f"{n} B"


def _rows(ir: IR, depth: int | None, work: Work | None = None) -> list[dict]:
    rows: list[dict] = []
    groups: dict[str, dict] = {}
    failed_seen = False
    for nid, data in ir.nodes():
        failed = bool(data.get("error"))
        macs = work.per_node.get(nid, 0) if work is not None else data.get("macs", 0)
        if data["shape"] is None and not failed:
            continue  # unknown because of an earlier error: the table stops there
        failed_seen |= failed
        spec = ops.get(data["op"])
        name = data["name"]
        scope = None
        if depth is not None:
            deep = [sc for sc in data["scopes"] if sc.depth == depth]
            if deep and name.count(".") + 1 > depth:
                scope = deep[0]
        if scope is not None:
            row = groups.get(scope.path)
            if row is None:
                row = {"name": scope.path, "kind": scope.kind, "op": "block", "shape": None,
                       "params": 0, "macs": 0, "rf": None, "jump": None, "error": False,
                       "layers": 0}
                groups[scope.path] = row
                rows.append(row)
            row["shape"] = data["shape"]
            row["params"] += data.get("params", 0)
            row["macs"] += macs
            row["rf"], row["jump"] = data.get("rf"), data.get("jump")
            row["error"] |= failed
            row["layers"] += 1
            continue
        rows.append({
            "name": name, "kind": spec.label(data["args"]) if data["shape"] is not None or
            "in_channels" in data["args"] else data["op"], "op": data["op"],
            "shape": data["shape"], "params": data.get("params", 0), "macs": macs,
            "rf": data.get("rf"), "jump": data.get("jump"), "error": failed,
        })
    for row in rows:
        if row["op"] == "block":
            row["kind"] = f"{row['kind']} ({row['layers']} layers)"
    return rows


def render(ir: IR, depth: int | None = None, fmt: str = "table", work: Work | None = None,
           memory: Memory | None = None) -> str:
    """The summary as text. `work` (dsl/passes/counting.py) replaces the MACs column with
    another convention or unit; `memory` (dsl/passes/memory.py) adds the memory estimate."""
    if fmt == "json":
        return json.dumps(to_json(ir, work, memory), indent=2)
    if fmt == "markdown":
        return _markdown(ir, depth, work, memory)
    return _table(ir, depth, work, memory)


def _cells(row) -> list[str]:
    return [row["name"], row["kind"], fmt_shape(row["shape"]) if row["shape"] else "?",
            f"{row['params']:,}", f"{row['macs']:,}", _fmt_tuple(row["rf"]),
            _fmt_tuple(row["jump"])]


def _totals_lines(t: Totals, work: Work | None = None, memory: Memory | None = None
                  ) -> list[tuple[str, str]]:
    lines = [
        ("parameters", f"{t.params:,}  (weights {t.weights:,}, biases {t.biases:,})"),
        ("trainable parameters", f"{t.trainable_params:,}"),
        ("buffers", f"{t.buffers:,}"),
        ("MACs", f"{t.macs:,}  ({human(t.macs)})"),
        ("activation memory", f"{human_bytes(t.activation_bytes)}  "
                              "(float32, one sample, every layer's output)"),
    ]
    if work is not None and (work.convention, work.unit) != ("archdsl", "macs"):
        lines.append((work.label, f"{work.total:,}  ({human(work.total)})"))
    if memory is not None:
        lines += _memory_lines(memory)
    return lines


def _memory_lines(m: Memory) -> list[tuple[str, str]]:
    opt = {"sgd": "SGD", "momentum": "SGD with momentum", "adam": "Adam", "adamw": "AdamW"}
    return [
        ("memory, training", f"{human_bytes(m.training)}  (batch {m.batch}, "
                             f"{opt[m.optimizer]})"),
        ("  parameters", human_bytes(m.parameters + m.buffers)),
        ("  gradients", human_bytes(m.gradients)),
        ("  optimizer state", human_bytes(m.optimizer_state)),
        ("  input", human_bytes(m.input)),
        ("  activations", f"{human_bytes(m.activations_training)}  (every layer's output)"),
        ("memory, inference", f"{human_bytes(m.inference)}  (batch {m.batch}: weights and "
                              f"the largest set of live activations, "
                              f"{human_bytes(m.activations_inference)})"),
        ("torchinfo forward/backward", human_bytes(m.torchinfo_forward_backward)),
    ]


def _table(ir: IR, depth: int | None, work: Work | None = None,
           memory: Memory | None = None) -> str:
    rows = _rows(ir, depth, work)
    body = [_cells(r) for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(HEADERS)]
    right = {3, 4, 5, 6}

    def line(cells):
        out = []
        for i, c in enumerate(cells):
            out.append(c.rjust(widths[i]) if i in right else c.ljust(widths[i]))
        return "  ".join(out).rstrip()

    src = ir.attrs.get("source", "")
    head = f"{ir.name}  ({src})" if src else ir.name
    used = ir.attrs.get("params_used") or {}
    if used:
        head += "  " + ", ".join(f"{k}={_show(v)}" for k, v in used.items())
    head = visible(head)  # a path or a value from Python may hold control characters
    headers = _headers(work)
    widths = [max(w, len(h)) for w, h in zip(widths, headers, strict=True)]
    out = [head, "", line(headers), line(["-" * w for w in widths])]
    for r, cells in zip(rows, body, strict=True):
        text = line(cells)
        if r["error"]:
            text += "  <-- error"
        out.append(text)
    out.append(line(["-" * w for w in widths]))
    totals = ir.attrs.get("totals")
    if totals is not None:
        lines = _totals_lines(totals, work, memory)
        pad = max(len(k) for k, _ in lines)
        out += [f"{k.ljust(pad)}  {v}" for k, v in lines]
    if any(r["error"] for r in rows):
        out.append("(stopped at the first shape error: the totals cover only the layers "
                   "above; see the diagnostics)")
    return "\n".join(out)


def _show(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _headers(work: Work | None) -> tuple[str, ...]:
    return HEADERS if work is None else (*HEADERS[:4], work.label, *HEADERS[5:])


def _markdown(ir: IR, depth: int | None, work: Work | None = None,
              memory: Memory | None = None) -> str:
    rows = _rows(ir, depth, work)
    out = [f"### {ir.name}", "", "| " + " | ".join(_headers(work)) + " |",
           "|" + "|".join(["---", "---", "---", "---:", "---:", "---:", "---:"]) + "|"]
    for r in rows:
        cells = _cells(r)
        cells[0] = f"`{cells[0]}`" + (" **error**" if r["error"] else "")
        out.append("| " + " | ".join(cells) + " |")
    totals = ir.attrs.get("totals")
    if totals is not None:
        out.append("")
        out += [f"- {k.strip()}: {v}" for k, v in _totals_lines(totals, work, memory)]
    return "\n".join(out)


def to_json(ir: IR, work: Work | None = None, memory: Memory | None = None) -> dict:
    totals: Totals = ir.attrs["totals"]
    layers = []
    for nid, data in ir.layers():
        if data["shape"] is None and not data.get("error"):
            continue
        layers.append({
            "name": data["name"], "op": data["op"],
            "kind": ops.get(data["op"]).label(data["args"]) if data["shape"] else data["op"],
            "shape": list(data["shape"]) if data["shape"] else None,
            "params": data.get("params", 0), "trainable_params": data.get("trainable", 0),
            "macs": data.get("macs", 0),
            "receptive_field": list(data["rf"]) if data.get("rf") else None,
            "effective_stride": list(data["jump"]) if data.get("jump") else None,
            **({"work": work.per_node.get(nid, 0)} if work is not None else {}),
            **({"error": True} if data.get("error") else {}),
        })
    out_shape = ir.node(ir.output)["shape"] if ir.output is not None else None
    return {
        "network": ir.name,
        "input": list(ir.node(ir.input)["shape"] or []),
        "output": list(out_shape) if out_shape else None,
        "params": totals.params,
        "trainable_params": totals.trainable_params,
        "weights": totals.weights,
        "biases": totals.biases,
        "buffers": totals.buffers,
        "macs": totals.macs,
        "activation_bytes": totals.activation_bytes,
        **({"work": {"convention": work.convention, "unit": work.unit, "total": work.total}}
           if work is not None else {}),
        **({"memory": memory.to_json()} if memory is not None else {}),
        "layers": layers,
    }
