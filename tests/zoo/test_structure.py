"""The families are one description with different counts: ResNet-18 ... 152 differ only in
their stage counts (and basic vs bottleneck blocks, as the paper's Table 1 has them), VGG-11 ...
19 and their `_bn` twins only in the convs per stage and `bn=true`."""

from __future__ import annotations

import re
from pathlib import Path

from archdsl import zoo_index

RESNET = {"resnet18": [2, 2, 2, 2], "resnet34": [3, 4, 6, 3], "resnet50": [3, 4, 6, 3],
          "resnet101": [3, 4, 23, 3], "resnet152": [3, 8, 36, 3]}  # He et al. 2015, Table 1
VGG = {"vgg11": [1, 1, 2, 2, 2], "vgg13": [2, 2, 2, 2, 2], "vgg16": [2, 2, 3, 3, 3],
       "vgg19": [2, 2, 4, 4, 4]}  # Simonyan & Zisserman 2014, Table 1: A, B, D, E


def _code(name: str) -> str:
    text = Path(zoo_index.path_of(name)).read_text(encoding="utf-8")
    return "\n".join(ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#"))


def test_resnets_differ_only_in_stage_counts():
    shapes = set()
    for name, counts in RESNET.items():
        code = _code(name)
        stages = re.findall(r"stage\(\d+, (\d+)", code)
        assert list(map(int, stages)) == counts, name
        deep = code.count("deep=true")
        assert deep == (4 if int(name[6:]) >= 50 else 0), name
        shapes.add(re.sub(r"(stage\(\d+, )\d+", r"\1N",
                          code.replace(name, "NAME").replace(", deep=true", "")))
    assert len(shapes) == 1


def test_vggs_differ_only_in_conv_counts_and_batch_norm():
    shapes = set()
    for name, counts in VGG.items():
        for variant, bn in ((name, ""), (name + "_bn", ", bn=true")):
            code = _code(variant)
            call = re.search(r"vgg_features\(([\d, ]+)" + re.escape(bn) + r"\)", code)
            assert call is not None, variant
            assert [int(c) for c in call.group(1).split(",")] == counts, variant
            shapes.add(code.replace(call.group(0), "FEATURES").replace(variant, "NAME"))
    assert len(shapes) == 1
