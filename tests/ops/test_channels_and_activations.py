"""make_divisible (TF-slim semantics), split_by_ratio, activations and squeeze-and-excitation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lightnets import ops


@pytest.mark.parametrize(
    "value,expected",
    [
        # MobileNetV3-Small SE squeeze sizes make_divisible(exp / 4) (docs/references.md#mobilenet-v3 table).
        (16 / 4, 8), (96 / 4, 24), (240 / 4, 64), (120 / 4, 32), (144 / 4, 40), (288 / 4, 72), (576 / 4, 144),
        # Rounding down by more than 10% is undone: 18 -> 16 would lose 11%, so 24.
        (72 / 4, 24), (88 / 4, 24),
        # MobileNetV2 widths at multiplier 0.35 / 1.4 (TF-slim checkpoints: 16, 8, 16, 448 ...).
        (32 * 0.35, 16), (16 * 0.35, 8), (24 * 0.35, 8), (320 * 1.4, 448), (1280 * 0.75, 960),
        (3.9, 8), (12, 16), (20, 24), (28, 32),
    ],
)
def test_make_divisible_tf_slim(value, expected):
    assert ops.make_divisible(value) == expected


def test_make_divisible_min_value_and_divisor():
    assert ops.make_divisible(3, divisor=4, min_value=1) == 4
    assert ops.make_divisible(1, divisor=4, min_value=1) == 1
    assert ops.make_divisible(10, divisor=3) == 9


def test_split_by_ratio():
    assert ops.split_by_ratio(24, (1, 3)) == (6, 18)
    assert ops.split_by_ratio(10, (1, 3)) == (2, 8)
    assert ops.split_by_ratio(10, (3, 1)) == (7, 3)
    with pytest.raises(ValueError, match=r"a group would be empty"):
        ops.split_by_ratio(3, (1, 3))
    with pytest.raises(ValueError, match=r"positive integers, got \(0, 1\)"):
        ops.split_by_ratio(8, (0, 1))


def test_hard_activations():
    x = jnp.array([-4.0, -3.0, -1.5, 0.0, 1.5, 3.0, 4.0])
    np.testing.assert_allclose(ops.hard_sigmoid(x), [0, 0, 0.25, 0.5, 0.75, 1, 1])
    np.testing.assert_allclose(ops.hard_swish(x), x * np.array([0, 0, 0.25, 0.5, 0.75, 1, 1]))
    np.testing.assert_allclose(ops.relu6(jnp.array([-1.0, 7.0, 2.0])), [0, 6, 2])
    assert ops.activation("hard_swish") is ops.hard_swish
    with pytest.raises(ValueError, match="unknown activation 'gelu'; valid: hard_sigmoid, hard_swish"):
        ops.activation("gelu")


def test_squeeze_excite_matches_its_definition():
    """Pool → 1×1 (bias) → ReLU → 1×1 (bias) → hard-sigmoid → rescale (MobileNet V3, docs/references.md)."""
    x = jax.random.normal(jax.random.key(0), (2, 4, 5, 12))
    module = ops.SqueezeExcite(8)
    params = module.init(jax.random.key(1), x)["params"]
    assert {k: {n: v.shape for n, v in p.items()} for k, p in params.items()} == {
        "reduce": {"kernel": (1, 1, 12, 8), "bias": (8,)}, "expand": {"kernel": (1, 1, 8, 12), "bias": (12,)},
    }
    params = jax.tree.map(lambda p: p + 0.1, params)  # non-zero biases
    s = x.mean(axis=(1, 2))
    s = jax.nn.relu(s @ params["reduce"]["kernel"][0, 0] + params["reduce"]["bias"])
    s = jnp.clip(s @ params["expand"]["kernel"][0, 0] + params["expand"]["bias"] + 3, 0, 6) / 6
    np.testing.assert_allclose(module.apply({"params": params}, x), x * s[:, None, None], rtol=1e-5, atol=1e-6)
