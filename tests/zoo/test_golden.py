"""What people read of the zoo: `archdsl summary NAME` for every network and the `archdsl zoo`
listing, as golden files under tests/zoo/golden/ (re-bless with `pytest --bless`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from archdsl import zoo_index
from tests.conftest import TESTS, check_golden, run_cli
from tests.zoo.helpers import LIBRARIES, ORIGINALS, TORCHVISION

GOLDEN = TESTS / "zoo" / "golden"


def test_zoo_lists_every_network_and_no_library():
    assert sorted(zoo_index.names()) == sorted(TORCHVISION + ORIGINALS)
    for lib in LIBRARIES:
        path = zoo_index.path_of(lib)
        assert path is not None, lib
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        assert not [ln for ln in lines if ln.lstrip().startswith("network ")], lib


def test_zoo_listing(bless):
    code, out, err = run_cli("zoo")
    assert (code, err) == (0, "")
    check_golden(GOLDEN / "zoo.txt", out, bless)


@pytest.mark.parametrize("name", sorted(TORCHVISION + ORIGINALS))
def test_summary(name, bless):
    code, out, err = run_cli("summary", name)
    assert (code, err) == (0, "")
    check_golden(GOLDEN / f"{name}.txt", out, bless)


def test_check_every_file():
    paths = sorted(p for p in (TESTS.parent / "architectures").glob("*.arch"))
    code, out, err = run_cli("check", *[str(p) for p in paths])
    assert (code, out, err) == (0, "", "")
