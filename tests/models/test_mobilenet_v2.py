"""MobileNet V2 against its paper (Tables 2 and 4), torchvision's totals and the TF-slim README
(docs/references.md#mobilenet-v2)."""

import pytest

from lightnets import create_model
from lightnets.analysis.counting import count_model

from .checks import counts, init_and_apply_shapes

NAMES = ("mobilenet_v2_100", "mobilenet_v2_140", "mobilenet_v2_035")


def test_full_width_matches_torchvision_tf_slim_and_the_paper():
    result = counts("mobilenet_v2_100")
    assert result.params == 3_504_872  # torchvision mobilenet_v2 total, BN γβ included
    assert result.params_without_bn == pytest.approx(3.47e6, rel=5e-3)  # TF-slim mobilenet README: 3.47M
    assert result.madds == pytest.approx(300e6, rel=5e-3)  # paper Table 4: 300M


def test_stages_follow_table_2():
    shapes = {layer.name: layer.output_shape[1:] for layer in counts("mobilenet_v2_100").layers}
    assert [shapes[f"stage{i}"] for i in range(1, 8)] == [
        (112, 112, 16), (56, 56, 24), (28, 28, 32), (14, 14, 64), (14, 14, 96), (7, 7, 160), (7, 7, 320),
    ]
    assert shapes["stem"] == (112, 112, 32) and shapes["head"] == (7, 7, 1280)


# TF-slim README (1001 classes there; the 1001st class changes params by 0.03%): million params w/o BN, MAdds.
@pytest.mark.parametrize("name,params,madds", [("mobilenet_v2_140", 6.06, 582), ("mobilenet_v2_035", 1.66, 59)])
def test_width_multiplier_rows(name, params, madds):
    result = counts(name)
    assert result.params_without_bn == pytest.approx(params * 1e6, rel=5e-3)
    assert result.madds == pytest.approx(madds * 1e6, rel=5e-3)


def test_last_conv_grows_but_never_shrinks():
    heads = {name: counts(name).layers[-2].output_shape[-1] for name in NAMES}
    assert heads == {"mobilenet_v2_100": 1280, "mobilenet_v2_140": 1792, "mobilenet_v2_035": 1280}


def test_small_input_has_total_stride_8():
    model = create_model("mobilenet_v2_035", small_input=True, num_classes=10)
    shapes = {layer.name: layer.output_shape[1:] for layer in count_model(model, 32).layers}
    assert shapes["stem"][:2] == (32, 32) and shapes["stage2"][:2] == (32, 32) and shapes["head"][:2] == (4, 4)
    assert shapes["classifier"] == (10,)


def test_bad_width_is_named():
    with pytest.raises(ValueError, match="width_multiplier must be positive, got -1.0"):
        init_and_apply_shapes(create_model("mobilenet_v2_100", width_multiplier=-1.0), 64)
