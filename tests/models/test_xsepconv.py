"""XSepConv (Chen et al. 2020): per-layer cost formulas (§3.1), padding schedule on the built model (§3.2), MobileNet
V3-Small with XSepConv (§4.2): shapes, counts, options, one training step."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lightnets.analysis import count_model, madds_by_scope
from lightnets.ops import ARRANGEMENTS, EvenDepthwiseConv, XSepConv, canonical_only
from lightnets.registry import create_model

from .checks import assert_one_train_step_updates_everything, init_and_apply_shapes

SIDE, CHANNELS = 8, 16


def module_counts(module, side=SIDE, channels=CHANNELS):
    """(MAdds, conv weights, output shape) of one XSepConv on a side×side×channels input."""
    x = jnp.zeros((1, side, side, channels))
    variables = jax.eval_shape(module.init, jax.random.key(0), x)
    madds = sum(madds_by_scope(module.apply, variables, x).values())
    weights = sum(int(np.prod(leaf.shape)) for path, leaf in jax.tree_util.tree_flatten_with_path(
        variables["params"])[0] if path[-1].key == "kernel")
    with canonical_only():
        shape = jax.eval_shape(module.apply, variables, x).shape
    return madds, weights, shape


def xsep(kernel_size, **kwargs):
    return XSepConv(kernel_size, norm=functools.partial(nn.BatchNorm, use_running_average=True), **kwargs)


@pytest.mark.parametrize("arrangement", ARRANGEMENTS[:1] + ARRANGEMENTS[2:])
@pytest.mark.parametrize("k", [3, 5, 7])
def test_stride1_cost_is_4hwc_plus_2khwc(k, arrangement):
    h = w = SIDE
    c = CHANNELS
    madds, weights, shape = module_counts(xsep(k, arrangement=arrangement))
    assert madds == 4 * h * w * c + 2 * k * h * w * c  # §3.1; XSepConv-B/-P cost the same (Table 3)
    assert weights == 4 * c + 2 * k * c
    assert shape == (1, h, w, c)


def test_k5_saves_44_percent_of_a_5x5_depthwise():
    madds, _, _ = module_counts(xsep(5))
    assert 1 - madds / (25 * SIDE * SIDE * CHANNELS) == pytest.approx(0.44)  # §3.1


def test_without_2x2_costs_2khwc():
    madds, weights, _ = module_counts(xsep(5, arrangement="none"))
    assert (madds, weights) == (2 * 5 * SIDE * SIDE * CHANNELS, 2 * 5 * CHANNELS)


@pytest.mark.parametrize("k", [5, 7])
def test_downsampling_cost_is_4hwc_plus_khwc_over_2_plus_khwc_over_4(k):
    hwc = SIDE * SIDE * CHANNELS
    madds, weights, shape = module_counts(xsep(k, strides=(2, 2)))
    assert madds == 4 * hwc + k * hwc // 2 + k * hwc // 4  # §3.1, Fig. 1b: (1, 2) then (2, 1)
    assert weights == 4 * CHANNELS + 2 * k * CHANNELS
    assert shape == (1, SIDE // 2, SIDE // 2, CHANNELS)


def built_padding_modes(model, size=32):
    """(block, padding_mode) of every 2×2 depthwise layer, read off the modules that ``init`` builds."""
    found = []

    def record(next_fun, args, kwargs, context):
        if isinstance(context.module, EvenDepthwiseConv) and context.method_name == "__call__":
            found.append((context.module.scope.path[0], context.module.padding_mode))
        return next_fun(*args, **kwargs)

    images = jax.ShapeDtypeStruct((1, size, size, 3), jnp.float32)
    with nn.intercept_methods(record), canonical_only():
        jax.eval_shape(functools.partial(model.init, jax.random.key(0)), images)
    return found


def test_improved_padding_over_the_whole_network():
    model = create_model("mobilenet_v3_small_xsep", small_input=True)
    assert built_padding_modes(model) == [
        ("block5", "right_bottom"), ("block6", "left_top"), ("block7", "left_bottom"), ("block8", "right_top"),
        ("block10", "right_bottom"), ("block11", "left_top"),
    ]


def test_original_padding_and_no_2x2_variants():
    original = create_model("mobilenet_v3_small_xsep", small_input=True, padding_strategy="original")
    assert [mode for _, mode in built_padding_modes(original)] == ["c2sp"] * 6
    assert built_padding_modes(create_model("mobilenet_v3_small_xsep", small_input=True, arrangement="none")) == []


def test_per_stage_restart_differs_once_downsampling_is_replaced():
    whole = create_model("mobilenet_v3_small_xsep", downsample_kernel_size=7)
    per_stage = whole.clone(padding_strategy="improved_per_stage")
    rb, lt, lb, rt = "right_bottom", "left_top", "left_bottom", "right_top"
    assert whole.padding_modes() == {3: rb, 4: lt, 5: lb, 6: rt, 7: rb, 9: lt, 10: lb}
    assert per_stage.padding_modes() == {3: rb, 4: lt, 5: lb, 6: rt, 7: rb, 9: rb, 10: lt}
    assert create_model("mobilenet_v3_small_xsep").clone(padding_strategy="improved_per_stage").padding_modes() \
        == create_model("mobilenet_v3_small_xsep").padding_modes()


def test_counts_follow_the_per_layer_formulas():
    """Replacing 5×5 depthwise convs (25hwc) by XSepConv k=5 (14hwc) / k=3 (10hwc), each with two extra BNs."""
    base = count_model(create_model("mobilenet_v3_small_100"), 224)
    ours = count_model(create_model("mobilenet_v3_small_xsep"), 224)
    middle, last = (240, 240, 120, 144), (576, 576)  # expanded widths of the replaced blocks
    assert base.madds - ours.madds == 11 * 14 * 14 * sum(middle) + 15 * 7 * 7 * sum(last)
    assert base.params_without_bn - ours.params_without_bn == 11 * sum(middle) + 15 * sum(last)
    assert ours.bn_params - base.bn_params == 4 * sum(middle + last)
    assert (ours.params, ours.madds) == (2_524_976, 54_059_616)


def test_tiny_imagenet_saving_matches_seed_004():
    """§4.2: 'XSepConv ... saving 4.75% of the computational cost on Tiny-ImageNet' (56 px, 200 classes)."""
    options = dict(small_input=True, num_classes=200)
    base = count_model(create_model("mobilenet_v3_small_100", **options), 56).madds
    ours = count_model(create_model("mobilenet_v3_small_xsep", **options), 56).madds
    assert round(100 * (1 - ours / base), 2) == 4.75


@pytest.mark.parametrize("size, options", [
    (56, {"num_classes": 200, "middle_kernel_size": 7, "downsample_kernel_size": 7}),
    (32, {"num_classes": 100, "arrangement": "behind", "padding": "SAME"}),
    (32, {"num_classes": 100, "arrangement": "parallel"}),
])
def test_options_give_logits(size, options):
    model = create_model("mobilenet_v3_small_xsep", small_input=True, **options)
    with canonical_only():
        _, logits = init_and_apply_shapes(model, size)
    assert logits.shape == (2, model.num_classes) and logits.dtype == jnp.float32


@pytest.mark.parametrize("options, message", [
    ({"arrangement": "diagonal"}, "arrangement"),
    ({"padding_strategy": "c2sp_everywhere"}, "padding_strategy"),
    ({"middle_kernel_size": 4}, "middle_kernel_size"),
    ({"last_kernel_size": 0}, "last_kernel_size"),
    ({"downsample_kernel_size": 6}, "downsample_kernel_size"),
    ({"arrangement": "parallel", "downsample_kernel_size": 7}, "stride-1 only"),
])
def test_bad_options_raise(options, message):
    model = create_model("mobilenet_v3_small_xsep", small_input=True, **options)
    with pytest.raises(ValueError, match=message):
        jax.eval_shape(functools.partial(model.init, jax.random.key(0)), jnp.zeros((1, 32, 32, 3)))


def test_one_train_step_with_the_downsampling_xsepconv():
    """test_all_models trains the default layout; this adds the downsampling XSepConv(k=7) (Fig. 1b), which
    brings a seventh 2×2 layer (kernel, BN γ, β each)."""
    model = create_model(
        "mobilenet_v3_small_xsep", small_input=True, num_classes=10, width_multiplier=0.5, downsample_kernel_size=7,
    )
    with canonical_only():
        params = init_and_apply_shapes(model, 32, batch=1)[0]["params"]
    paths = [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]]
    assert sum("even" in path for path in paths) == 3 * 7
    assert_one_train_step_updates_everything(model, 32)
