"""SqueezeNext against its paper's tables and the official prototxts (docs/references.md#squeezenext)."""

import pytest

from lightnets import create_model
from lightnets.analysis.counting import count_model

from .checks import counts, init_and_apply_shapes


def test_paper_0_72m_needs_bn_and_282m_needs_the_same_stem():
    result = counts("sqnxt23_100")
    # Paper: 1.0-SqNxt-23 0.72M / 282M (BN γβ included; weights alone round to 0.71M).
    assert round(result.params / 1e6, 2) == 0.72 and round(result.params_without_bn / 1e6, 2) == 0.71
    assert round(result.madds / 1e6) == 282
    caffe = counts("sqnxt23_100", 227, caffe_stem=True)  # official prototxt: 227 crop, conv1 pad 0
    assert caffe.params == result.params and caffe.madds == pytest.approx(278.0e6, rel=0.001)  # 227 crop geometry
    shapes = {layer.name: layer.output_shape[1:] for layer in caffe.layers}
    assert shapes["stem"] == (111, 111, 64) and shapes["stage1_unit1"] == (55, 55, 32)


def test_layers_follow_fig_3():
    result = counts("sqnxt23_100")
    shapes = {layer.name: layer.output_shape[1:] for layer in result.layers}
    assert shapes["stem"] == (112, 112, 64)
    assert shapes["stage1_unit6"] == (56, 56, 32) and shapes["stage2_unit6"] == (28, 28, 64)
    assert shapes["stage3_unit8"] == (14, 14, 128) and shapes["stage4_unit1"] == (7, 7, 256)
    assert shapes["head"] == (7, 7, 128) and shapes["classifier"] == (1000,)
    assert len(shapes) == 21 + 3


def test_versions_have_equal_madds_and_v2_params_match_the_table():
    # Every block costs the same MAdds (C doubles as H·W quarters), so v2–v5 share 224.9M (table: 228M).
    v2 = counts("sqnxt23v2_100")
    assert v2.madds == counts("sqnxt23v5_100").madds
    assert v2.params == pytest.approx(0.74e6, rel=0.01)  # paper's v1–v5 table: 1.0-SqNxt-23v2 0.74M


@pytest.mark.parametrize("name, published", [("sqnxt34_100", 1.0e6), ("sqnxt44_100", 1.2e6)])
def test_deeper_models_are_near_the_published_params(name, published):
    # Paper: 1.0-SqNxt-34 1.0M, -44 1.2M. Depths are our fit (module docstring): within 7% of the table at 1.0×.
    assert counts(name).params == pytest.approx(published, rel=0.07)


def test_small_input_geometry():
    model = create_model("sqnxt23_100", num_classes=10, small_input=True)
    shapes = {layer.name: layer.output_shape[1:] for layer in count_model(model, 32).layers}
    assert shapes["stem"] == (32, 32, 64) and shapes["head"] == (4, 4, 128) and shapes["classifier"] == (10,)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(version=6), "version=6"),
        (dict(depths=(6, 6, 8)), "depths"),
        (dict(groups=3), "groups=3"),
        (dict(width_multiplier=-1.0), "width_multiplier"),
    ],
)
def test_bad_options_raise(overrides, message):
    with pytest.raises(ValueError, match=message):
        init_and_apply_shapes(create_model("sqnxt23_100", **overrides), 32)
