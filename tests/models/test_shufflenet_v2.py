"""ShuffleNet V2 against its paper (Table 5), the official code and torchvision (docs/references.md#shufflenet-v2)."""

import pytest

from lightnets import create_model
from lightnets.analysis.counting import count_model
from lightnets.models.shufflenet_v2 import ShuffleNetV2

from .checks import assert_one_train_step_updates_everything, counts, init_and_apply_shapes

# torchvision.models.shufflenet_v2_x{0_5,1_0,1_5,2_0}: total parameter counts.
TORCHVISION_PARAMS = {
    "shufflenet_v2_050": 1_366_792, "shufflenet_v2_100": 2_278_604,
    "shufflenet_v2_150": 3_503_624, "shufflenet_v2_200": 7_393_996,
}


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_torchvision_layout_has_torchvisions_exact_params(name):
    assert counts(name, layout="torchvision", classifier_bias=True).params == TORCHVISION_PARAMS[name]


def test_2x_difference_to_torchvision_is_the_first_unit_and_the_fc_bias():
    official = counts("shufflenet_v2_200")
    assert official.params == 7_402_600
    layers = {layer.name: layer for layer in official.layers}
    assert layers["head"].output_shape[1:] == (7, 7, 2048)  # both have the 2048-wide Conv5
    assert layers["classifier"].params == 2048 * 1000  # no bias
    torchvision_unit = {
        layer.name: layer.params for layer in counts("shufflenet_v2_200", layout="torchvision").layers
    }["stage2_unit1"]
    assert layers["stage2_unit1"].params - torchvision_unit == 9_604


def test_layers_read_like_table_5():
    result = counts("shufflenet_v2_100")
    shapes = {layer.name: layer.output_shape[1:] for layer in result.layers}
    assert list(shapes)[:2] == ["stem", "stage2_unit1"] and list(shapes)[-2:] == ["head", "classifier"]
    assert shapes["stem"] == (112, 112, 24)
    assert shapes["stage2_unit4"] == (28, 28, 116) and shapes["stage3_unit8"] == (14, 14, 232)
    assert shapes["stage4_unit4"] == (7, 7, 464) and shapes["head"] == (7, 7, 1024)


def test_se_option_adds_one_squeeze_excite_per_unit():
    with_se = count_model(ShuffleNetV2(width_multiplier=0.5, se_ratio=0.25, small_input=True), 32)
    plain = count_model(ShuffleNetV2(width_multiplier=0.5, small_input=True), 32)
    # Per unit, main branch width m (Stage2 first unit 48 − 24 = 24, then 24; 48; 96):
    # two 1×1 convs with bias, m·m/4 + m/4 + m/4·m + m each.
    widths = [24] * 4 + [48] * 8 + [96] * 4
    expected = sum(2 * m * (m // 4) + m // 4 + m for m in widths)
    assert with_se.params - plain.params == expected
    assert with_se.madds - plain.madds == sum(2 * m * (m // 4) for m in widths)


def test_small_input_geometry():
    model = create_model("shufflenet_v2_100", num_classes=10, small_input=True)
    shapes = {layer.name: layer.output_shape[1:] for layer in count_model(model, 32).layers}
    assert shapes["stem"] == (32, 32, 24) and shapes["head"] == (4, 4, 1024) and shapes["classifier"] == (10,)


def test_one_train_step_with_squeeze_excite():
    model = ShuffleNetV2(width_multiplier=0.5, depths=(1, 2, 1), se_ratio=0.25, dropout_rate=0.2, small_input=True,
                         num_classes=5)
    assert_one_train_step_updates_everything(model, 32)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(width_multiplier=0.75), "width_multiplier=0.75"),
        (dict(layout="timm"), "layout='timm'"),
        (dict(se_ratio=2.0), "se_ratio=2.0"),
        (dict(depths=(0, 8, 4)), "depths"),
    ],
)
def test_bad_options_raise(overrides, message):
    with pytest.raises(ValueError, match=message):
        init_and_apply_shapes(create_model("shufflenet_v2_100", **overrides), 32)
