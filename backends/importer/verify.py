"""The round trip: the imported file's compiled module against the original.

`round_trip(original, network, input_shape)` compiles the network (`to_torch`), compares the
two `state_dict`s key by key, in order, with shapes, loads the original's weights with
`strict=True` (after giving every batch norm random running statistics, so that a wrong
norm cannot hide behind the defaults), and compares the outputs in eval mode on a random
input. It returns the problems found, none when the two are the same network.
"""

from __future__ import annotations

import copy


def randomise_norms(module, seed: int = 0) -> None:
    import torch

    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.track_running_stats:
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)


def keys_differ(original, network, renamed: bool = False):
    """A `Missing` for the first weight the imported file does not name (or shape) as the
    model does, None when every key, in order, with its shape, is the model's: the check
    `from_torch` makes before it answers, so that a structure the importer writes wrongly
    is refused rather than written (`renamed`: names changed on purpose, shapes compared)."""
    from .trace import Missing

    want = [(k, tuple(v.shape)) for k, v in original.state_dict().items()]
    have = [(k, tuple(v.shape)) for k, v in network.to_torch().state_dict().items()]
    if renamed:
        want, have = [("", s) for _, s in want], [("", s) for _, s in have]
    for (wk, ws), (hk, hs) in zip(want, have, strict=False):
        if (wk, ws) != (hk, hs):
            got = f"`{hk}` ({'x'.join(map(str, hs))})" if hk else "x".join(map(str, hs))
            return Missing(wk.rpartition(".")[0], "state_dict",
                           f"archdsl's file for it would hold {got} where the model holds "
                           f"`{wk}` ({'x'.join(map(str, ws))}): a structure the importer "
                           "cannot write with the model's names")
    if len(want) != len(have):
        extra = (have if len(have) > len(want) else want)[min(len(want), len(have))][0]
        return Missing(extra.rpartition(".")[0], "state_dict",
                       f"the imported file has {len(have)} weights and buffers, the model "
                       f"{len(want)}")
    return None


def round_trip(original, network, input_shape, atol: float = 1e-5, seed: int = 0,
               compiled=None) -> list[str]:
    """Problems with `network` as a copy of `original` (an empty list when there are none)."""
    import torch

    problems = []
    ref = copy.deepcopy(original)
    randomise_norms(ref, seed)
    ref.eval()
    model = compiled if compiled is not None else network.to_torch()
    model.eval()
    want = [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    have = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    if want != have:
        wk, hk = [k for k, _ in want], [k for k, _ in have]
        if sorted(wk) != sorted(hk):
            only_w = [k for k in wk if k not in set(hk)][:5]
            only_h = [k for k in hk if k not in set(wk)][:5]
            problems.append(f"state_dict keys differ: original only {only_w}, imported only "
                            f"{only_h}")
        elif wk != hk:
            at = next(i for i, (a, b) in enumerate(zip(wk, hk, strict=True)) if a != b)
            problems.append(f"state_dict keys in another order from #{at}: {wk[at]} vs {hk[at]}")
        else:
            bad = [(k, a, b) for (k, a), (_, b) in zip(want, have, strict=True) if a != b][:3]
            problems.append(f"state_dict shapes differ: {bad}")
        return problems
    try:
        model.load_state_dict(ref.state_dict(), strict=True)
    except RuntimeError as exc:
        return [f"load_state_dict(strict=True) failed: {str(exc).splitlines()[0]}"]
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn((2, *input_shape), generator=g)
    with torch.no_grad():
        a, b = ref(x), model(x)
    if isinstance(a, dict) and len(a) == 1:  # {"out": x}: the network gives x
        a = next(iter(a.values()))
    if not isinstance(a, torch.Tensor) or a.shape != b.shape:
        return [f"outputs differ in shape: {getattr(a, 'shape', type(a))} vs {b.shape}"]
    err = (a - b).abs().max().item()
    if not err <= atol:
        problems.append(f"outputs differ by {err:.3g} (more than {atol})")
    return problems
