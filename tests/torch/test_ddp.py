"""Compiled networks train under `torchrun` + `DistributedDataParallel` (issue 14).

Two CPU processes (gloo) train a compiled network wrapped in DDP on halves of a global batch;
their weights after a few SGD steps must equal a single-process run of plain torch on the whole
batch (within 1e-6), and each other. The networks have no batch norm and no dropout: both are
per-process by design (each rank normalises its own share, draws its own masks), so they would
differ from one process for reasons that have nothing to do with archdsl. The README's torchrun
example is run the same way.

The processes are started as `python -m torch.distributed.run` (what `torchrun` runs) on a free
local port, each with one thread, so the file stays well under a minute on two cores.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import archdsl
from tests.conftest import ROOT

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")
if not dist.is_available():
    pytest.skip("this torch is built without torch.distributed", allow_module_level=True)
if not dist.is_gloo_available():
    pytest.skip("this torch has no gloo backend (needed for CPU DDP)", allow_module_level=True)

HERE = Path(__file__).parent
WORKER = HERE / "ddp_worker.py"
ZOO = ROOT / "architectures"
TIMEOUT = 180  # seconds for one torchrun launch: generous, two imports of torch on a busy VM
WORLD = 2

# Both kinds of merge and a block called twice: a concat of three branches (one a bare pool),
# residual adds with in-place ReLUs, the second block strided with a pooled shortcut.
SMALL = """\
block mix(c1, c3) {
    concat {
        b1: conv(c1, 1x1)
        b3: { conv(c3, 1x1); relu; conv(c3, 3x3, pad=1) }
        bp: { maxpool(3x3, stride=1, pad=1) }
    }
    relu
}

block res(stride = 1) {
    add {
        { conv1: conv(in.channels, 3x3, stride=stride, pad=1); relu(inplace=true)
          conv2: conv(in.channels, 3x3, pad=1) }
        shortcut: if stride != 1 { avgpool(stride, stride=stride) }
    }
    relu(inplace=true)
}

network small(classes = 5) {
    input 3x12x12
    stem: conv(6, 3x3, pad=1); relu
    mix: mix(4, 6)
    layer1: { res; res(stride=2) }
    head: { avgpool(global=true); flatten; fc: linear(classes) }
}
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`torchrun --nproc-per-node 2 script args...` on a free port; retried once when the port
    was taken between choosing it and binding it."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    for attempt in range(2):
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1",
               "--nproc-per-node", str(WORLD), "--master-addr", "127.0.0.1",
               "--master-port", str(free_port()), "--max-restarts", "0",
               str(script), *args]
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT)
        if proc.returncode == 0 or attempt or "address already in use" not in (
                proc.stderr.lower()):
            return proc
    return proc


def _job(arch: Path, seed: int, batch: int, steps: int) -> dict:
    net = archdsl.load(arch)
    torch.manual_seed(seed)
    model = net.to_torch()
    classes = net.output_shape[0]
    x = torch.randn(batch, *net.input_shape)
    y = torch.randint(0, classes, (batch,))
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return {"arch": str(arch), "state": state, "x": x, "y": y, "steps": steps, "lr": 0.05,
            "momentum": 0.9}


def single_process(job: dict) -> dict:
    """The same training in this process on the whole batch, no DDP: the reference."""
    model = archdsl.load(job["arch"]).to_torch()
    model.load_state_dict(job["state"], strict=True)
    opt = torch.optim.SGD(model.parameters(), lr=job["lr"], momentum=job["momentum"])
    for _ in range(job["steps"]):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(job["x"]), job["y"]).backward()
        opt.step()
    return model.state_dict()


def test_ddp_on_two_processes_equals_one_process(tmp_path):
    small = tmp_path / "small.arch"
    small.write_text(SMALL)
    jobs = {"lenet5": _job(ZOO / "lenet5.arch", seed=1, batch=8, steps=3),
            "small": _job(small, seed=2, batch=8, steps=3)}
    torch.save(jobs, tmp_path / "job.pt")
    proc = torchrun(WORKER, str(tmp_path / "job.pt"), str(tmp_path / "out.pt"), cwd=tmp_path)
    assert proc.returncode == 0, f"torchrun failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"

    ranks = [torch.load(tmp_path / f"out.pt.rank{r}", weights_only=False) for r in range(WORLD)]
    assert [r["rank"] for r in ranks] == [0, 1] and {r["world"] for r in ranks} == {WORLD}
    for name, job in jobs.items():
        want = single_process(job)
        for r in ranks:
            got = r["results"][name]
            assert list(got) == list(want)
            for key in want:
                where = f"{name} rank {r['rank']} {key}"
                torch.testing.assert_close(got[key], want[key], rtol=0, atol=1e-6,
                                           msg=lambda m, where=where: f"{where}: {m}")
        # The steps moved the weights, so the equality above is about training, not about
        # every rank starting from the same weights.
        moved = max((want[k] - job["state"][k]).abs().max().item() for k in want)
        assert moved > 1e-3, f"{name}: SGD did not change the weights ({moved})"


def _readme_example() -> tuple[str, str]:
    """The README's distributed-training section: its Python file and its torchrun line."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Training on several processes", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    command = re.search(r"^\$ (torchrun [^\n]*)$", section, re.M).group(1)
    return code, command


def test_the_readme_trains_with_torchrun(tmp_path):
    code, command = _readme_example()
    words = command.split()
    assert words[:2] == ["torchrun", "--nproc-per-node"], command
    script = tmp_path / words[-1]
    script.write_text(code)
    proc = torchrun(script, cwd=tmp_path)
    assert proc.returncode == 0, f"torchrun failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"
    # Rank 0 prints one line per epoch and saves the trained weights, which load back into a
    # freshly compiled network.
    assert re.search(r"^epoch 1 loss \d+\.\d+$", proc.stdout, re.M), proc.stdout
    model = archdsl.zoo("lenet5").to_torch()
    model.load_state_dict(torch.load(tmp_path / "lenet5.pt", weights_only=True), strict=True)
