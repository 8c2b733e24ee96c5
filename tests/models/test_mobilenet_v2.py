"""MobileNet V2 against its paper (Table 2), torchvision's totals and the TF-slim README."""

import functools

import pytest

from lightnets import create_model, list_models
from lightnets.analysis.counting import count_model

from .checks import assert_dtypes, assert_logits_shape, assert_one_train_step_updates_everything, counts

NAMES = ("mobilenet_v2_100", "mobilenet_v2_140", "mobilenet_v2_035")


def test_registered():
    assert set(NAMES) <= set(list_models("mobilenet_v2*"))


@pytest.mark.parametrize("name", NAMES)
def test_logits_shape(name):
    assert_logits_shape(create_model(name, num_classes=10), 64)


def test_dtypes():
    assert_dtypes(functools.partial(create_model, "mobilenet_v2_035", num_classes=10), 64)


def test_full_width_matches_torchvision_and_reference():
    result = counts("mobilenet_v2_100")
    assert result.params == 3_504_872  # torchvision mobilenet_v2, BN γβ included
    assert result.params_without_bn == pytest.approx(3.47e6, rel=5e-3)  # TF-slim README
    assert result.madds == pytest.approx(300.77e6, rel=5e-4)  # docs/references.md#mobilenet-v2; paper "300M"


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
    assert_logits_shape(model, 32)
    shapes = {layer.name: layer.output_shape[1:3] for layer in count_model(model, 32).layers}
    assert shapes["stem"] == (32, 32) and shapes["stage2"] == (32, 32) and shapes["head"] == (4, 4)


def test_bad_width_is_named():
    with pytest.raises(ValueError, match="width_mult must be positive, got -1.0"):
        assert_logits_shape(create_model("mobilenet_v2_100", width_mult=-1.0), 64)


def test_one_train_step():
    model = create_model("mobilenet_v2_035", small_input=True, num_classes=10)
    assert_one_train_step_updates_everything(model, 32)
