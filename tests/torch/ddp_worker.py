"""One process of tests/torch/test_ddp.py, started by `torchrun` (not a test module itself).

Reads the job that the test wrote (`torch.save`: per network, the `.arch` file, the initial
weights, the global batch and the step count), compiles each network with archdsl in this
process, loads the initial weights, wraps the module in `DistributedDataParallel` over gloo,
and runs plain SGD on this rank's contiguous share of the global batch. Each rank saves its
final weights to `<out>.rank<N>`; the test compares them with a single-process run.

Usage (by the test): torchrun --nproc-per-node 2 ddp_worker.py JOB OUT
"""

from __future__ import annotations

import datetime
import os
import sys

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

import archdsl


def train(job: dict, rank: int, world: int) -> dict:
    model = archdsl.load(job["arch"]).to_torch()
    model.load_state_dict(job["state"], strict=True)
    ddp = DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=job["lr"], momentum=job["momentum"])
    x, y = job["x"].chunk(world)[rank], job["y"].chunk(world)[rank]
    for _ in range(job["steps"]):
        opt.zero_grad()
        # The mean over this rank's share; DDP averages the gradients over the ranks, which
        # with equal shares is the gradient of the mean over the global batch.
        F.cross_entropy(ddp(x), y).backward()
        opt.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def main(argv: list[str]) -> int:
    job_path, out = argv
    torch.set_num_threads(1)
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    rank, world = dist.get_rank(), dist.get_world_size()
    jobs = torch.load(job_path, weights_only=False)
    results = {name: train(job, rank, world) for name, job in jobs.items()}
    torch.save({"world": world, "rank": rank, "local_rank": int(os.environ["LOCAL_RANK"]),
                "results": results}, f"{out}.rank{rank}")
    dist.barrier()
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
