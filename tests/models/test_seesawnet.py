"""SeesawNet against its paper (Zhang 2019, Tables 3–4) and the reference code (docs/references.md#seesawnet)."""

import numpy as np
import pytest

from lightnets import create_model
from lightnets.analysis.channel_graph import channel_dependency, has_full_channel_receptive_field

from .checks import assert_one_train_step_updates_everything, counts


# SeesawNet Table 3 (CIFAR-10) and Table 4 (CIFAR-100), Seesaw-shuffle 1.0D: params incl. BN γβ, MAdds.
@pytest.mark.parametrize(("num_classes", "params", "madds"), [(10, 2.376e6, 181.1e6), (100, 2.491e6, 181.2e6)])
def test_cifar_counts_match_tables_3_and_4(num_classes, params, madds):
    result = counts("seesaw_shuffle_d100", 32, small_input=True, num_classes=num_classes)
    assert result.params == pytest.approx(params, rel=5e-3)
    assert result.madds == pytest.approx(madds, rel=5e-3)
    assert result.params_without_bn == pytest.approx(params - 0.0645e6, rel=5e-3)  # the paper counts BN γβ
    assert {layer.name: layer.output_shape for layer in result.layers}["head"] == (1, 8, 8, 1280)


def test_share_default_reproduces_table_3_v1_row():
    result = counts("seesaw_share_d050", 32, small_input=True, num_classes=10)
    assert (round(result.params / 1e5) / 10, round(result.madds / 1e6)) == (1.5, 108)  # Table 3, v1 0.5D: 1.5M / 108M


def test_block_kinds_follow_the_160_channel_rule():
    model = create_model("seesaw_shuffle_d100")
    notes = {spec.name: model.grouping_note(spec) for spec in model.block_specs()}
    even = [name for name, note in notes.items() if note.startswith("GC g=2")]
    assert even == [f"stage6_block{i}" for i in range(2, 7)] + ["stage7_block1"]
    assert notes["stage6_block1"] == "uneven 1:3 + shuffle(2)"


def first_block_dependency(**overrides):
    """CDG of the real first block of the 32-channel stage (no residual: the branch's own connectivity)."""
    model = create_model("seesaw_shuffle_d100", width_multiplier=0.5, **overrides)
    spec = {s.name: s for s in model.block_specs()}["stage3_block1"]
    return channel_dependency(model.block(spec, False, parent=None), spec.in_features)


def test_shuffle_and_share_route_channels_differently():
    shuffle = first_block_dependency()
    share = first_block_dependency(share_channels=True, permute=False)
    grouped = first_block_dependency(permute=False)
    c_in, c_out = shuffle.shape  # 12 → 16: input groups [3 | 9], output groups [4 | 12] or [12 | 4]
    assert has_full_channel_receptive_field(shuffle)
    assert not np.array_equal(shuffle, share)
    # share: the second conv's big group (first 12 outputs) reads both first-layer groups, its small group
    # (last 4) only the big one; without the shuffle or the share order the groups never meet.
    assert share[:, : 3 * c_out // 4].all() and not share[: c_in // 4, 3 * c_out // 4 :].any()
    assert not grouped[: c_in // 4, c_out // 4 :].any() and not grouped[c_in // 4 :, : c_out // 4].any()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"split_ratio": (1, 2)}, r"split_ratio \(1, 2\): stage1_block1 has widths \(32, 32, 16\).*divide by 3"),
    ({"split_ratio": (0, 3)}, "split_ratio must be two positive integers"),
    ({"split_ratio": (1, 2, 3)}, "split_ratio must be two positive integers"),
    ({"width_multiplier": 0.35}, "split_ratio .*divide by 4"),
    ({"depths": (1, 2, 3)}, "depths must be 7 positive"),
])
def test_bad_options_raise(overrides, message):
    with pytest.raises(ValueError, match=message):
        create_model("seesaw_shuffle_d100", **overrides).block_specs()


def test_rounded_widths_make_a_1_to_2_split_divide():
    specs = create_model("seesaw_share_d100", split_ratio=(1, 2), round_widths_to_split=True).block_specs()
    assert [s.out_features for s in specs if s.name.endswith("block1")] == [18, 24, 30, 66, 96, 162, 318]
    assert all(w % 6 == 0 for s in specs for w in (s.in_features, s.expanded_features, s.out_features))


def test_one_train_step_updates_everything():
    model = create_model(
        "seesaw_shuffle_d100", num_classes=10, small_input=True, width_multiplier=0.5,
        depths=(1, 2, 1, 1, 1, 2, 1), even_from_features=80,  # 80: the 160-stage repeat and 320 are even
    )
    assert_one_train_step_updates_everything(model, 32)
