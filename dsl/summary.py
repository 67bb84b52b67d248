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
                       "params": 0, "trainable": 0, "macs": 0, "rf": None, "jump": None,
                       "error": False, "layers": 0}
                groups[scope.path] = row
                rows.append(row)
            row["shape"] = data["shape"]
            row["params"] += data.get("params", 0)
            row["trainable"] += data.get("trainable", 0)
            row["macs"] += macs
            row["rf"], row["jump"] = data.get("rf"), data.get("jump")
            row["error"] |= failed
            row["layers"] += 1
            continue
        rows.append({
            "name": name, "kind": spec.label(data["args"]) if data["shape"] is not None or
            "in_channels" in data["args"] else data["op"], "op": data["op"],
            "shape": data["shape"], "params": data.get("params", 0),
            "trainable": data.get("trainable", 0), "macs": macs,
            "rf": data.get("rf"), "jump": data.get("jump"), "error": failed,
        })
    for row in rows:
        if row["op"] == "block":
            row["kind"] = f"{row['kind']} ({row['layers']} layers)"
    return rows


def render(ir: IR, depth: int | None = None, fmt: str = "table", diagnostics=(),
           work: Work | None = None, memory: Memory | None = None) -> str:
    """The summary as text: a `table`, `json` (with `diagnostics`, see `to_json`) or
    `markdown`; `depth` collapses each scope at that depth into one row, in every format.
    `work` (dsl/passes/counting.py) replaces the MACs column with another convention or unit;
    `memory` (dsl/passes/memory.py) adds the memory estimate."""
    if fmt == "json":
        return json.dumps(to_json(ir, depth, diagnostics, work, memory), indent=2)
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
    # `return main, aux`: each output's row says which it is
    ends = {ir.node(nid)["name"]: n for n, nid in ir.outputs}
    for r, cells in zip(rows, body, strict=True):
        text = line(cells)
        if r["error"]:
            text += "  <-- error"
        elif r["name"] in ends:
            text += f"  <-- output {ends[r['name']]}"
        out.append(text)
    out.append(line(["-" * w for w in widths]))
    totals = ir.attrs.get("totals")
    if totals is not None:
        lines = _totals_lines(totals, work, memory)
        pad = max(len(k) for k, _ in lines)
        out += [f"{k.ljust(pad)}  {v}" for k, v in lines]
        if ir.outputs:
            out.append("outputs".ljust(pad) + "  " + ", ".join(
                f"{n} {fmt_shape(ir.node(nid)['shape'])}" for n, nid in ir.outputs)
                + "  (forward returns them as a tuple, in this order)")
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


def to_json(ir: IR, depth: int | None = None, diagnostics=(), work: Work | None = None,
            memory: Memory | None = None) -> dict:
    """The summary as data. `layers` has one entry per layer, or with `depth` one per row of
    the table at that depth (a collapsed scope has `op` "block" and its `layers` count).
    `partial` is true when the shape check stopped at an error (the layers run up to it, the
    totals cover them only); `diagnostics` are the run's, as `check --format json` gives them.
    `work` adds the chosen convention's count (a `work` total and one per layer), `memory`
    the memory estimate."""
    totals: Totals = ir.attrs["totals"]
    if depth is None:
        layers = _json_layers(ir, work)
    else:
        rows = _rows(ir, depth)
        counted = _rows(ir, depth, work) if work is not None else rows
        layers = [_json_row(r, c["macs"] if work is not None else None)
                  for r, c in zip(rows, counted, strict=True) if r["op"] != "input"]
    out_shape = ir.node(ir.output)["shape"] if ir.output is not None else None
    errors = [d for d in diagnostics if d.severity == "error"]
    return {
        "network": ir.name,
        "input": list(ir.node(ir.input)["shape"] or []),
        "output": list(out_shape) if out_shape else None,
        **({"outputs": {n: list(ir.node(nid)["shape"] or []) for n, nid in ir.results()}}
           if ir.outputs else {}),
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
        "depth": depth,
        "partial": bool(errors) or any(la.get("error") for la in layers),
        "diagnostics": [d.to_json() for d in diagnostics],
        "layers": layers,
    }


def empty_json(diagnostics) -> dict:
    """The JSON summary of a file that gave no network at all (a syntax error): partial,
    nothing but its diagnostics."""
    return {"network": None, "partial": True,
            "diagnostics": [d.to_json() for d in diagnostics], "layers": []}


def _json_row(row: dict, work: int | None = None) -> dict:
    out = {"name": row["name"], "op": row["op"], "kind": row["kind"],
           "shape": list(row["shape"]) if row["shape"] else None, "params": row["params"],
           "trainable_params": row["trainable"], "macs": row["macs"],
           "receptive_field": list(row["rf"]) if row["rf"] else None,
           "effective_stride": list(row["jump"]) if row["jump"] else None}
    if work is not None:
        out["work"] = work
    if row["op"] == "block":
        out["layers"] = row["layers"]
    if row["error"]:
        out["error"] = True
    return out


def _json_layers(ir: IR, work: Work | None = None) -> list[dict]:
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
    return layers


def max_depth(ir: IR) -> int:
    """The deepest scope (block instance or named group) of the network; 0 when it has none."""
    return max((sc.depth for _, data in ir.nodes() for sc in data.get("scopes", ())),
               default=0)


def sensible_depth(ir: IR, limit: int = 40) -> int | None:
    """The depth at which the table fits in about `limit` rows: None (every layer) when it
    already does, else the deepest depth that does, else 1 (the top level)."""
    if len(_rows(ir, None)) <= limit:
        return None
    for depth in range(max_depth(ir), 0, -1):
        if len(_rows(ir, depth)) <= limit:
            return depth
    return 1


class Summary(str):
    """What `Network.summary()` returns: the table itself (a `str`, so printing, comparing
    and writing it work as before; its repr is the table, for a REPL), with the same rows as
    data.

    - `rows`: one dict per row (name, op, kind, shape, params, macs, receptive_field,
      effective_stride; a collapsed scope also has `layers`)
    - `to_json()`: the whole summary as a dict, totals included (as `summary --format json`)
    - `to_markdown()`: the table as Markdown
    - in Jupyter, an HTML table
    """

    def __new__(cls, ir: IR, depth: int | None = None, diagnostics=(), work: Work | None = None,
                memory: Memory | None = None):
        self = super().__new__(cls, _table(ir, depth, work, memory))
        self._ir, self.depth, self._diagnostics = ir, depth, tuple(diagnostics)
        self._work, self._memory = work, memory
        return self

    def __repr__(self) -> str:
        return str.__str__(self)

    @property
    def rows(self) -> list[dict]:
        return self.to_json()["layers"]

    def to_json(self) -> dict:
        return to_json(self._ir, self.depth, self._diagnostics, self._work, self._memory)

    def to_markdown(self) -> str:
        return _markdown(self._ir, self.depth, self._work, self._memory)

    def _repr_html_(self) -> str:
        from .notebook import summary_html

        return summary_html(self._ir, self.depth)
