"""The round trip over torchvision's classification and segmentation models (docs/import.md's
table): each model archdsl can express imports, checks, loads the original's state_dict
with strict=True, gives its outputs (1e-5, random batch-norm statistics) and imports back to
the same text from its compiled module; each other one is answered with the located list of
what is missing, never a crash. Skipped where torchvision is not installed (it is not a
dependency: docs/import.md says how to make the environment)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision", reason="torchvision is not installed (it is "
                                  "not a dependency; docs/import.md makes a .venv-tv for it)")

from archdsl.backends.importer import table  # noqa: E402

# the models that round-trip with today's vocabulary (docs/import.md's table); each other one
# must fail with a list of what is missing
EXPRESSIBLE = {
    "alexnet", "densenet121", "densenet161", "densenet169", "densenet201", "googlenet",
    "inception_v3", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3", "mobilenet_v2",
    "resnet101", "resnet152", "resnet18", "resnet34", "resnet50", "resnext101_32x8d",
    "resnext101_64x4d", "resnext50_32x4d", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0",
    "shufflenet_v2_x1_5", "shufflenet_v2_x2_0", "squeezenet1_0", "squeezenet1_1", "vgg11",
    "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "wide_resnet101_2", "wide_resnet50_2", "fcn_resnet50", "fcn_resnet101",
}
# a block made from an nn.Sequential subclass compiles to a plain nn.Sequential, which imports
# back under another name; a model returning {"out": x} compiles to one returning x
# (docs/import.md)
NOT_FIXED = {"mobilenet_v2", "fcn_resnet50", "fcn_resnet101"}
HEAVY = {"vit_h_14", "regnet_y_128gf", "vit_l_16", "vit_l_32", "regnet_y_32gf",
         "regnet_y_16gf", "efficientnet_b7", "efficientnet_v2_l"}


def _models():
    return [(fam, name) for fam, name in table.models("all") if name not in HEAVY]


@pytest.mark.slow
@pytest.mark.parametrize("family, name", _models())
def test_round_trip(family, name):
    row = table.one(family, name)
    if name in EXPRESSIBLE:
        assert row["equal"] == "yes", row["missing"]
        assert row["fixed"] == ("no" if name in NOT_FIXED else "yes")
    else:
        assert row["equal"] == "no" and row["missing"], row
        assert not row["missing"].startswith("importer error"), row["missing"]
