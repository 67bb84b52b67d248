"""`optimize=True` changes no number: channels-last only where PyTorch's kernels are exact.

Issue 11's reproducers (a 3-D network crashed; a conv segfaulted at batch 2; another was off by
1.9, and by 10^12 through the compiled file), the configurations known to break PyTorch's
channels-last path refused by the rule, and a seeded search inside the rule's region run in a
subprocess (a crash there must fail the test, not the test run).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

torch = pytest.importorskip("torch")

import archdsl  # noqa: E402
from archdsl.backends.torch.optimize import optimize  # noqa: E402
from archdsl.backends.torch.optimize.channels_last import channels_last_safe  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

REPRODUCERS = {
    "3-D": "network a { input 1x7x3x7  conv(1, 3) }",
    "segfault": "network s { input 2x1x1  conv(2, 1x1, stride=1x2, pad=(0, 1), dilation=2) }",
    "off by 1.9": "network c { input 1x15x2  conv(5, 4x3, stride=1x2, pad=1) }",
    "mixed": "network m { input 3x15x2  conv(5, 3x3, pad=1); relu\n"
             " conv(5, 4x3, stride=1x2, pad=3); conv(4, 1) }",
    # found by tests/fuzz/valid.py (seed 0, program 2222): a 1x1 map after a channels-last
    # conv has strides 9, 1, 9, 9, which `.contiguous()` leaves as they are; PyTorch then ran
    # the next (unsafe) conv channels-last and segfaulted
    "1x1 map": "network z { input 2x4x4  conv(9, 3, pad=1)  maxpool(4)\n"
               " conv(11, 3x1, s=1x2, pad=(2, 1), dilation=(2, 3)) }",
}
# Configurations that broke PyTorch 2.13's CPU channels-last convolution (tests/optimize/
# cl_search.py --region all): (in channels, kernel, stride, padding, dilation).
BROKEN = [
    (2, (1, 1), (1, 2), (0, 1), (2, 2)),  # segfault at batch 2 (issue 11)
    (1, (4, 3), (1, 2), (1, 1), (1, 1)),  # wrong values (issue 11)
    (3, (3, 1), (3, 3), (0, 1), (2, 3)),  # segfault
    (1, (3, 2), (1, 3), (1, 0), (3, 1)),  # wrong values, no padding along the width
    (4, (1, 1), (3, 2), (2, 1), (2, 2)),  # segfault
]

_RUN = textwrap.dedent("""
    import sys, torch, archdsl
    from archdsl.backends.torch.optimize import optimize
    net = archdsl.parse(sys.argv[1])
    torch.manual_seed(0)
    model = net.to_torch().eval()
    fast = optimize(model)
    for batch in (1, 2, 3, 8):
        x = torch.randn(batch, *net.input_shape)
        with torch.no_grad():
            print(float((fast(x) - model(x)).abs().max()))
""")


@pytest.mark.parametrize("name", REPRODUCERS)
def test_issue_reproducers_compute_what_eager_computes(name):
    # in a subprocess: the segfault must fail this test, not end the test run
    run = subprocess.run([sys.executable, "-c", _RUN, REPRODUCERS[name]], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    assert max(map(float, run.stdout.split())) <= 1e-5


@pytest.mark.parametrize("name", REPRODUCERS)
def test_issue_reproducers_through_the_compiled_file(name, tmp_path):
    net = archdsl.parse(REPRODUCERS[name])
    src = tmp_path / "net.py"
    src.write_text(net.to_source(optimize=True))
    script = textwrap.dedent(f"""
        import runpy, torch
        ns = runpy.run_path({str(src)!r}, run_name="generated")
        torch.manual_seed(0)
        model = ns[{type(net.to_torch()).__name__!r}]().eval()
        fast = ns["optimize"](model)
        for batch in (1, 2, 3):
            x = torch.randn(batch, *model.input_shape)
            with torch.no_grad():
                print(float((fast(x) - model(x)).abs().max()))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert max(map(float, run.stdout.split())) <= 1e-5


@pytest.mark.parametrize("cfg", BROKEN, ids=str)
def test_known_broken_configurations_stay_contiguous(cfg):
    cin, k, s, p, d = cfg
    assert not channels_last_safe(torch.nn.Conv2d(cin, 4, k, stride=s, padding=p, dilation=d))


def test_rule_keeps_the_zoo_channels_last():
    """Every 2-D conv of ResNet-50 and GoogLeNet runs channels-last (the benefit is kept)."""
    for name in ("resnet50", "googlenet", "alexnet"):
        model = archdsl.zoo(name).to_torch()
        convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
        assert convs and all(channels_last_safe(c) for c in convs), name


def test_other_ranks_are_left_alone():
    for text in ("network a { input 1x7x3x7  conv(2, 3); batchnorm; relu }",
                 "network b { input 3x20  conv(4, 3); maxpool(2) }"):
        net = archdsl.parse(text)
        model = net.to_torch().eval()
        fast = optimize(model)
        assert all(p.is_contiguous() for p in fast.parameters())
        x = torch.randn(2, *net.input_shape)
        with torch.no_grad():
            torch.testing.assert_close(fast(x), model(x), atol=1e-5, rtol=1e-5)


def test_search_inside_the_rule_finds_no_disagreement():
    """Random configurations where the optimiser converts: channels-last equals contiguous.
    (A longer run: `python -m tests.optimize.cl_search --configs 50000`.)"""
    run = subprocess.run([sys.executable, "-m", "tests.optimize.cl_search", "--configs", "1500",
                          "--seed", "11", "--region", "safe"], capture_output=True, text=True,
                         timeout=600, cwd=ROOT)
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert run.returncode == 0, (f"crashed on {lines[-1] if lines else '?'}:\n"
                                 + run.stderr[-2000:])
    diffs = [(a["config"], b["diff"]) for a, b in zip(lines[::2], lines[1::2], strict=True)]
    assert len(diffs) == 1500
    bad = [(c, d) for c, d in diffs if not d <= 1e-5]
    assert not bad, bad[:5]
