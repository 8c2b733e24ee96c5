"""The networks' BatchNorm (``ImageClassifier.norm``): batch statistics stay accurate where an activation's
mean is large next to its spread, in float32 and bfloat16, against float64 numpy on the same values.

Flax's default one-pass variance E[x²] − E[x]² fails both cases below (float32: ~16× off; bfloat16 inputs,
float32 statistics: ~2e-3 relative); the two-pass variance is within float32 rounding.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lightnets import create_model
from lightnets.layers import ImageClassifier

EPSILON = 1e-5


def _batch_statistics(dtype, mean, std, **overrides):
    """(input, batch mean, batch variance, normalised output), all as float64, of one training step."""
    x = jnp.asarray(np.random.default_rng(0).normal(mean, std, (16, 8, 8, 4)), dtype)
    # momentum 0: the running variance after one training step is exactly the batch variance
    bn = ImageClassifier(dtype=dtype, bn_momentum=0.0, bn_epsilon=EPSILON).norm(True)(**overrides)
    variables = bn.init(jax.random.key(0), x)
    y, updates = bn.apply(variables, x, mutable=["batch_stats"])
    assert y.dtype == dtype and updates["batch_stats"]["var"].dtype == jnp.float32
    stats = updates["batch_stats"]
    return _float64(x), _float64(stats["mean"]), _float64(stats["var"]), _float64(y)


def _float64(a):
    return np.asarray(jnp.asarray(a, jnp.float32), np.float64)


@pytest.mark.parametrize("dtype,mean,output_atol", [
    (jnp.float32, 1e4, 2e-3),  # x − E[x] at |x| ≈ 1e4 is exact only to float32's 1e-3 spacing there
    (jnp.bfloat16, 256.0, 3e-2),  # the output is rounded to bfloat16 (|y| ≲ 4, 8 significant bits)
])
def test_batch_variance_and_output_match_float64(dtype, mean, output_atol):
    x, got_mean, got_var, y = _batch_statistics(dtype, mean, 1.0)
    want_mean, want_var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(got_mean, want_mean, rtol=1e-6)
    np.testing.assert_allclose(got_var, want_var, rtol=1e-5)
    np.testing.assert_allclose(y, (x - want_mean) / np.sqrt(want_var + EPSILON), rtol=0, atol=output_atol)


@pytest.mark.parametrize("dtype,mean", [(jnp.float32, 1e4), (jnp.bfloat16, 256.0)])
def test_the_one_pass_variance_fails_these_inputs(dtype, mean):
    """The inputs above are ones the fast formula gets wrong, so the test above tests something."""
    x, _, fast_var, _ = _batch_statistics(dtype, mean, 1.0, use_fast_variance=True)
    assert np.abs(fast_var / x.var(axis=(0, 1, 2)) - 1).max() > 1e-3


def test_every_batchnorm_of_a_registered_model_is_two_pass_float32():
    """Models build their BatchNorm through ``ImageClassifier.norm`` (traced only, nothing compiled)."""
    seen = []

    def record(next_fun, args, kwargs, context):
        if isinstance(context.module, nn.BatchNorm) and context.method_name == "__call__":
            seen.append((context.module.use_fast_variance, context.module.force_float32_reductions))
        return next_fun(*args, **kwargs)

    model = create_model("mobilenet_v2_100", num_classes=10, dtype=jnp.bfloat16)
    with nn.intercept_methods(record):
        jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, 32, 32, 3)), train=True))
    assert len(seen) > 30 and set(seen) == {(False, True)}
