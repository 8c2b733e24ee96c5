"""MobileNet V3-Small: widths, counts against torchvision (docs/references.md#mobilenet-v3), options, geometry."""

import jax
import jax.numpy as jnp
import pytest

from lightnets.analysis import count_model
from lightnets.models.mobilenet_v3 import MobileNetV3Small
from lightnets.ops import canonical_only
from lightnets.registry import create_model, list_models, model_class

NAMES = [name for name in list_models("mobilenet_v3_small_*") if model_class(name) is MobileNetV3Small]


def init_and_apply_shapes(model, size, batch=2):
    images = jax.ShapeDtypeStruct((batch, size, size, 3), jnp.float32)

    def run(x):
        variables = model.init(jax.random.key(0), x)
        return variables, model.apply(variables, x)

    with canonical_only():  # shapes do not depend on the implementation; the canonical one traces fastest
        return jax.eval_shape(run, images)


@pytest.mark.parametrize("name", NAMES)
def test_every_width_is_a_multiple_of_8(name):
    variables, _ = init_and_apply_shapes(create_model(name, num_classes=7), 64)
    kernels = [leaf.shape for path, leaf in jax.tree_util.tree_flatten_with_path(variables["params"])[0]
               if path[-1].key == "kernel" and path[0].key != "classifier"]
    assert all(shape[-1] % 8 == 0 for shape in kernels)  # TF-slim: every width rounded by make_divisible(·, 8)


def test_params_match_torchvision():
    counts = count_model(create_model("mobilenet_v3_small_100"), 224)
    assert counts.params == 2_542_856  # torchvision mobilenet_v3_small total
    assert counts.bn_params == pytest.approx(0.0121e6, abs=50)  # docs/references.md#mobilenet-v3: BN γβ 0.0121M


@pytest.mark.parametrize("overrides, params, madds", [
    ({"head_features": 1280}, 2.947e6, 56.91e6),  # the "2.9M" figure (docs/references.md#mobilenet-v3)
    ({"head_se": True}, 2.71e6, 56.7e6),  # SE on the last 576 conv, paper Table 2
])
def test_head_options(overrides, params, madds):
    counts = count_model(create_model("mobilenet_v3_small_100", **overrides), 224)
    assert counts.params == pytest.approx(params, rel=5e-4)
    assert counts.madds == pytest.approx(madds, rel=1e-3)


@pytest.mark.parametrize("size, final", [(32, 4), (56, 7)])
def test_small_input_geometry(size, final):
    model = create_model("mobilenet_v3_small_100", small_input=True, num_classes=10)
    layers = {layer.name: layer for layer in count_model(model, size).layers}
    assert layers["stem"].output_shape == (1, size, size, 16)
    assert layers["block1"].output_shape == (1, size, size, 16)
    assert layers["head_conv"].output_shape == (1, final, final, 576)


@pytest.mark.parametrize("overrides, message", [
    ({"width_multiplier": 0.0}, "width_multiplier"),
    ({"head_features": 0}, "head_features"),
    ({"dropout_rate": 1.0}, "dropout_rate"),
])
def test_bad_options_raise(overrides, message):
    model = create_model("mobilenet_v3_small_100", small_input=True, **overrides)
    with pytest.raises(ValueError, match=message):
        init_and_apply_shapes(model, 32)
