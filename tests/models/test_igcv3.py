"""IGCV3 against the official MXNet code (docs/references.md#igcv3) and SeesawNet Tables 3–4's IGCV3 rows."""

import jax
import numpy as np
import pytest

from lightnets import create_model
from lightnets.analysis import block_notes, channel_dependency, has_full_channel_receptive_field
from lightnets.models.igcv3 import round_half_up
from lightnets.ops import shuffle_permutation

from .checks import counts


def test_d100_weights_match_the_official_graph():
    # The official homles11/IGCV3 graph (docs/references.md#igcv3): 3.4261M weights; + 1,000 FC biases.
    assert counts("igcv3_d100").params_without_bn == pytest.approx(3.4261e6 + 1000, rel=5e-4)


@pytest.mark.parametrize(("quirks", "params", "madds"), [(True, 2.447e6, 167.73e6), (False, 2.503e6, 174.57e6)])
def test_width_0_7_with_and_without_the_official_in_c_quirk(quirks, params, madds):
    result = counts("igcv3_d100", width_multiplier=0.7, official_width_quirks=quirks)
    assert result.params == pytest.approx(params, rel=5e-4)
    assert result.madds == pytest.approx(madds, rel=5e-4)


def test_in_c_quirk_widths():
    # m = 0.7: c_m = 18 for the 24-channel stage; in_c = round(18·0.7) = 13 is odd → c_m + 1 = 19, so the
    # 32-channel stage's first block expands 19·6 = 114 channels although it reads 18.
    spec = {s.name: s for s in create_model("igcv3_d100", width_multiplier=0.7, official_width_quirks=True)
            .block_specs()}["stage3_block1"]
    assert (spec.in_features, spec.expanded_features, spec.out_features) == (18, 114, 22)
    assert round_half_up(2.5) == 3 and round_half_up(11.2) == 11


def test_cifar_geometry_reproduces_seesaw_tables_3_and_4_igcv3_rows():
    d100 = counts("igcv3_d100", 32, small_input=True, num_classes=10)
    assert (round(d100.params / 1e5) / 10, round(d100.madds / 1e6)) == (2.2, 166)  # Table 3: 2.2M / 166M
    assert {layer.name: layer.output_shape for layer in d100.layers}["head"] == (1, 8, 8, 1280)  # total stride 4
    d050 = counts("igcv3_d050", 32, small_input=True, num_classes=100)
    assert (round(d050.params / 1e5) / 10, round(d050.madds / 1e6)) == (1.5, 100)  # Table 4: 1.5M / 100M


def block(model, name):
    return {s.name: s for s in model.block_specs()}[name]


def test_second_permute_is_the_inverse_interleave_after_the_projection():
    plain = create_model("igcv3_d100", width_multiplier=0.25)
    spec = block(plain, "stage2_block1")  # a stage's first block: no residual
    one = plain.block(spec, False, parent=None)
    two = create_model("igcv3_d100", width_multiplier=0.25, second_permute=True).block(spec, False, parent=None)
    x = jax.random.normal(jax.random.key(1), (1, 4, 4, spec.in_features))

    @jax.jit
    def both_outputs(x):
        variables = one.init(jax.random.key(2), x)
        return one.apply(variables, x), two.apply(variables, x)

    y_one, y_two = both_outputs(x)
    perm = shuffle_permutation(spec.out_features, spec.out_features // 2)
    np.testing.assert_allclose(y_two, y_one[..., perm], rtol=1e-6)
    assert not np.allclose(y_two, y_one)


def test_the_permutation_gives_each_block_the_full_channel_receptive_field():
    for permute in (True, False):
        model = create_model("igcv3_d100", width_multiplier=0.25, permute=permute)
        spec = block(model, "stage2_block1")
        mask = channel_dependency(model.block(spec, False, parent=None), spec.in_features)
        assert has_full_channel_receptive_field(mask) == permute


@pytest.mark.parametrize(("overrides", "message"), [
    ({"depths": (1, 4, 6)}, "depths must be 7 positive"),
    ({"depths": (1, 4, 6, 8, 6, 0, 1)}, "depths must be 7 positive"),
    ({"width_multiplier": 0.0}, "width_multiplier must be > 0"),
    ({"dropout_rate": 1.0}, r"dropout_rate must be None or in \[0, 1\)"),
])
def test_bad_options_raise(overrides, message):
    with pytest.raises(ValueError, match=message):
        create_model("igcv3_d100", **overrides).block_specs()


def test_block_notes_name_every_block():
    model = create_model("igcv3_d050", width_multiplier=0.25, depths=(1, 1, 1, 1, 1, 1, 1), permute=False)
    notes = block_notes(model)
    assert list(notes) == [s.name for s in model.block_specs()]
    assert set(notes.values()) == {"GC g=2, no FCRF"}
