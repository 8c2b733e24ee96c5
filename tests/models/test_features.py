"""Feature extraction (``lightnets.features``) for every registered model.

Shapes come from tracing (``jax.make_jaxpr`` of the canonical ops, nothing compiled): every variant at 64 px in its default geometry,
one variant per model class at 32 px with ``small_input``. The final map before pooling is read off the traced
program itself (the operand of the last spatial mean), independently of the feature extraction. Three small
models are run for real under ``jax.jit`` to check values; a few ``feature_info`` results are pinned against
architecture facts (the papers' tables, timm's ``feature_info`` for the same networks).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.extend import core as jax_core

from lightnets import create_model, list_models
from lightnets.features import FeatureInfo, feature_info, forward_features
from lightnets.ops import canonical_only, max_pool
from lightnets.registry import model_class

from .checks import random_variables

NAMES = list_models(library_only=True)
SIZE, SMALL_SIZE = 64, 32
# Total stride (input size / final map size) per model class; the families' docstrings state them.
TOTAL_STRIDE = {"SqueezeNet": 16}  # every other class: 32
SMALL_INPUT_TOTAL_STRIDE = {"ClcNet": 16, "IGCV3": 4, "SeesawNet": 4, "Xception": 16}  # every other class: 8


@pytest.fixture
def canonical():
    """Shape-only tests trace the canonical op implementations (``canonical_only``): the same shapes (tests/ops
    checks the implementations against each other), traced 1.5–3× faster."""
    with canonical_only():
        yield


def _one_variant_per_class() -> list[str]:
    first = {}
    for name in NAMES:
        first.setdefault(model_class(name), name)
    return sorted(first.values())


def _spatial_mean_operands(jaxpr: jax_core.Jaxpr) -> list:
    """Avals of the 4-D operands of every mean over axes (1, 2) in ``jaxpr`` and its sub-jaxprs, in order."""
    found = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "reduce_sum" and tuple(eqn.params["axes"]) == (1, 2) and eqn.invars[0].aval.ndim == 4:
            found.append(eqn.invars[0].aval)
        for param in eqn.params.values():
            for sub in param if isinstance(param, (tuple, list)) else (param,):
                if isinstance(sub, jax_core.ClosedJaxpr):
                    found += _spatial_mean_operands(sub.jaxpr)
                elif isinstance(sub, jax_core.Jaxpr):
                    found += _spatial_mean_operands(sub)
    return found


def _trace(model, size: int, *, dtype=jnp.float32, **kwargs):
    """(params, ``Features``, pooled operand) shapes of ``forward_features`` on two ``size`` px images."""
    images = jax.ShapeDtypeStruct((2, size, size, 3), dtype)

    def init_and_extract(x):
        variables = model.init(jax.random.key(0), x, train=False)
        return variables, forward_features(model, variables, x, **kwargs)

    closed, (variables, features) = jax.make_jaxpr(init_and_extract, return_shape=True)(images)
    return variables, features, _spatial_mean_operands(closed.jaxpr)[-1]


def _check_features(model, size: int, total_stride: int) -> None:
    variables, out, pooled = _trace(model, size)
    infos = feature_info(model, size)
    reductions = [info.reduction for info in infos]
    assert reductions == sorted(set(reductions)), reductions  # strictly increasing
    assert all(r > 0 and r & (r - 1) == 0 for r in reductions), reductions  # powers of 2
    assert reductions[-1] == total_stride
    assert len(out.features) == len(infos)
    for info, feature in zip(infos, out.features):
        ceil = math.ceil(size / info.reduction)  # padded nets; unpadded convs and ceil-mode pools lose a little
        assert feature.dtype == jnp.float32 and feature.shape[0] == 2 and feature.shape[3] == info.num_channels, info
        assert feature.shape[1] == feature.shape[2] and ceil - 3 <= feature.shape[1] <= ceil, (info, feature.shape)
    kernel = variables["params"]["classifier"]["kernel"]
    last = out.features[-1].shape
    if kernel.ndim == 4:  # SqueezeNet: conv10 on the final map, then the pool over its class map
        assert last[:3] == pooled.shape[:3] and last[3] == kernel.shape[-2]
    else:
        assert last == pooled.shape
    assert (out.pre_logits.shape, out.pre_logits.dtype) == ((2, kernel.shape[-2]), jnp.float32)
    assert (out.logits.shape, out.logits.dtype) == ((2, model.num_classes), jnp.float32)
    assert out.updates == {}


@pytest.mark.usefixtures("canonical")
@pytest.mark.parametrize("name", NAMES)
def test_every_model_default_geometry(name):
    model = create_model(name)
    _check_features(model, SIZE, TOTAL_STRIDE.get(type(model).__name__, 32))


@pytest.mark.usefixtures("canonical")
@pytest.mark.parametrize("name", _one_variant_per_class())
def test_every_model_class_small_input(name):
    model = create_model(name, small_input=True, num_classes=10)
    _check_features(model, SMALL_SIZE, SMALL_INPUT_TOTAL_STRIDE.get(type(model).__name__, 8))


@pytest.mark.parametrize(("name", "small_input", "size"), [
    ("mobilenet_v2_035", True, 32), ("shufflenet_v2_x0_5", False, 64), ("squeezenet1_1", False, 64),
])
def test_values_under_jit(name, small_input, size):
    """Real values: the same logits as ``model.apply``; the classifier on ``pre_logits`` gives them; the last map
    pooled is ``pre_logits``; an inline-pooled ``forward_pre`` map is the max pool of the map before it."""
    model = create_model(name, small_input=small_input, num_classes=10)
    variables = random_variables(model, size)
    images = jnp.asarray(np.random.default_rng(0).normal(size=(2, size, size, 3)), jnp.float32)
    # Compiled without LLVM optimisation (as checks.py does): the values are the same, the compile ~2x faster.
    run = jax.jit(lambda v, x: (forward_features(model, v, x), model.apply(v, x))).lower(variables, images)
    out, logits = run.compile(compiler_options={"xla_backend_optimization_level": 0})(variables, images)
    np.testing.assert_allclose(out.logits, logits, rtol=1e-6, atol=1e-6)
    last = out.features[-1]
    np.testing.assert_allclose(out.pre_logits, last.mean(axis=(1, 2)), rtol=1e-5, atol=1e-5)
    classifier = variables["params"]["classifier"]
    kernel, bias = classifier["kernel"], classifier.get("bias", 0.0)
    if kernel.ndim == 2:
        np.testing.assert_allclose(out.pre_logits @ kernel + bias, logits, rtol=1e-4, atol=1e-4)
    else:  # SqueezeNet: logits = mean(ReLU(conv10(last map)))
        class_map = jnp.maximum(jnp.einsum("nhwc,ck->nhwk", last, kernel[0, 0]) + bias, 0)
        np.testing.assert_allclose(class_map.mean(axis=(1, 2)), logits, rtol=1e-4, atol=1e-4)
    infos = feature_info(model, size)
    for index, info in enumerate(infos):
        assert out.features[index].shape[3] == info.num_channels
        if info.hook_type == "forward_pre":  # ShuffleNet's stem max pool
            pooled = max_pool(out.features[index - 1], (3, 3), (2, 2), ((1, 1), (1, 1)))
            np.testing.assert_array_equal(out.features[index], pooled)
    assert [info.hook_type for info in infos].count("forward_pre") == (name == "shufflenet_v2_x0_5")


@pytest.mark.usefixtures("canonical")
def test_train_mode_returns_batch_stats_updates():
    model = create_model("mobilenet_v2_035", small_input=True, num_classes=10)
    variables, out, _ = _trace(model, SMALL_SIZE, train=True, rngs={"dropout": jax.random.key(1)})
    assert jax.tree.structure(out.updates) == jax.tree.structure({"batch_stats": variables["batch_stats"]})
    assert [f.shape[3] for f in out.features] == [info.num_channels for info in feature_info(model, SMALL_SIZE)]


@pytest.mark.usefixtures("canonical")
def test_bfloat16_model():
    model = create_model("mobilenet_v2_035", small_input=True, num_classes=10, dtype=jnp.bfloat16)
    _, out, _ = _trace(model, SMALL_SIZE)
    assert {f.dtype for f in out.features} == {jnp.dtype(jnp.bfloat16)}
    assert (out.pre_logits.dtype, out.logits.dtype) == (jnp.bfloat16, jnp.float32)


@pytest.mark.usefixtures("canonical")
def test_spot_checks_against_architecture_facts():
    # MobileNet V2 Table 2: strided rows at stages 2, 3, 4 and 6; the last map is the 1280-wide 1×1 conv.
    assert feature_info(create_model("mobilenet_v2_100"), 224) == [
        FeatureInfo("stage1", 16, 2), FeatureInfo("stage2", 24, 4), FeatureInfo("stage3", 32, 8),
        FeatureInfo("stage5", 96, 16), FeatureInfo("head", 1280, 32),
    ]
    # ShuffleNet V2 Table 5 (1×): Conv1 24 (112²), MaxPool (56²), Stage2 116, Stage3 232, Stage4 464, Conv5 1024 (7²).
    infos = feature_info(create_model("shufflenet_v2_x1_0"), 224)
    assert [(i.num_channels, i.reduction) for i in infos] == [(24, 2), (24, 4), (116, 8), (232, 16), (1024, 32)]
    assert infos[1] == FeatureInfo("stage2_unit1", 24, 4, "forward_pre")
    # MobileNet V3-Small: timm's feature_info for mobilenetv3_small_100 has the same channels and reductions.
    assert [(i.num_channels, i.reduction) for i in feature_info(create_model("mobilenet_v3_small_100"), 224)] == [
        (16, 2), (16, 4), (24, 8), (48, 16), (576, 32)]
    # SqueezeNet Table 1: conv1 96 (111²), fire4 256 (55²), fire8 512 (27²), fire9 512 (13²); total stride 16.
    assert feature_info(create_model("squeezenet1_0"), 227) == [
        FeatureInfo("conv1", 96, 2), FeatureInfo("fire4", 256, 4), FeatureInfo("fire8", 512, 8),
        FeatureInfo("fire9", 512, 16),
    ]
    # Xception Fig. 5 at 299: 64 (147²), 128, 256, 728 (19²), 2048 (10²).
    assert [(i.num_channels, i.reduction) for i in feature_info(create_model("xception"), 299)] == [
        (64, 2), (128, 4), (256, 8), (728, 16), (2048, 32)]


@pytest.mark.usefixtures("canonical")
def test_non_square_and_bypass():
    model = create_model("squeezenet1_0_bypass")
    assert feature_info(model, (64, 96)) == feature_info(model, 64)
    assert feature_info(model, 64)[-1] == FeatureInfo("Dropout_0", 512, 16, "forward_pre")


@pytest.mark.usefixtures("canonical")
@pytest.mark.parametrize(("name", "size"), [("squeezenet1_1", 8), ("xception", 4)])
def test_too_small_image_is_a_one_line_value_error(name, size):
    model = create_model(name)
    with pytest.raises(ValueError, match="too small") as error:
        feature_info(model, size)
    assert "\n" not in str(error.value)
    variables = jax.eval_shape(lambda x: model.init(jax.random.key(0), x), jax.ShapeDtypeStruct((1, 64, 64, 3),
                                                                                                 jnp.float32))
    images = jax.ShapeDtypeStruct((1, size, size, 3), jnp.float32)
    with pytest.raises(ValueError, match="too small"):
        jax.eval_shape(lambda v, x: forward_features(model, v, x), variables, images)


def test_bad_arguments():
    model = create_model("squeezenet1_1")
    with pytest.raises(ValueError, match="NHWC"):
        forward_features(model, {}, jnp.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="image_size"):
        feature_info(model, (64, 64, 3))
    with pytest.raises(ValueError, match="positive"):
        feature_info(model, 0)
