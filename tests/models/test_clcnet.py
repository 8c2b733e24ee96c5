"""clcNet against its paper (Zhang 2018, Tables 2 and 4; docs/references.md#clcnet): group parameters, FCRF,
clcNet-Ap, options. Counts are pinned in test_all_models.py."""

import json

import jax
import pytest

from lightnets import create_model
from lightnets.analysis import block_fcrf
from lightnets.analysis.counting import param_count
from lightnets.summary import main

from .checks import init_and_apply_shapes

# Table 2's g1 column, clcNet-A: 32→64, 64→128, a×128, 128→256, b×256, 256→512, c×512, 512→1024, d×1024.
TABLE_2_G1_A = [16, 32, 64, 64, 128, 128, 256, 256, 256, 256, 256, 256, 512, 512]


def test_ap_has_clcnet_a_parameters():
    a, ap = (init_and_apply_shapes(create_model(name), 64, batch=1)[0]["params"] for name in ("clcnet_a", "clcnet_ap"))
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(ap)
    assert param_count(a) == param_count(ap)


def test_group_parameters_come_from_eq_2_and_match_table_2():
    specs = create_model("clcnet_a").block_specs()
    assert [s.igc_groups for s in specs] == TABLE_2_G1_A
    assert {s.gc_groups for s in specs} == {2}
    assert [s.stride for s in specs].count(2) == 4 and len(create_model("clcnet_b").block_specs()) == 17


def test_every_clc_block_has_fcrf_and_none_without_the_interlace():
    for name in ("clcnet_a", "clcnet_b"):
        fcrf = block_fcrf(create_model(name))
        assert len(fcrf) == len(create_model(name).block_specs()) and all(fcrf.values()), name
    assert not any(block_fcrf(create_model("clcnet_ap")).values())


def test_summary_notes_show_grouping_and_fcrf(capsys):
    assert main(["clcnet_ap", "--input-size", "32", "--set", "depths=(1, 1, 1, 1, 1)", "--layers", "--json"]) == 0
    layers = {layer["name"]: layer for layer in json.loads(capsys.readouterr().out)["layers"]}
    assert layers["stage2_block1"]["notes"] == "GC 3×3 g1=32 → GC 1×1 g2=2, no FCRF"
    assert "notes" not in layers["stem"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"depths": (2, 2, 6, 3)}, r"depths must be 5 positive block counts, e.g. \(1, 2, 2, 6, 3\)"),
    ({"depths": (1, 2, 0, 6, 3)}, "depths must be 5 positive block counts"),
    ({"gc_groups": 3}, "no feasible CLC groups for M=32, L=32, N=64, g2=3"),
    ({"gc_groups": 0}, "gc_groups must be a positive group count"),
])
def test_bad_options_raise(overrides, message):
    with pytest.raises(ValueError, match=message):
        create_model("clcnet_a", **overrides).block_specs()
