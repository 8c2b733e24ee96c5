"""Channel shuffle (ShuffleNet V1 §3.1): both directions, both impls, masks, inverse."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightnets import ops
from lightnets.ops.shuffle import IMPLS

from .reference import jacobian_channel_mask, normal


def test_paper_and_official_directions():
    # Paper: reshape (g, C/g), transpose, flatten -> output j·g + i is input i·(C/g) + j.
    np.testing.assert_array_equal(ops.shuffle_permutation(6, 2), [0, 3, 1, 4, 2, 5])
    # megvii code: reshape (C/g, g) -> output b·(C/g) + a is input a·g + b (docs/references.md#shufflenet-v1).
    np.testing.assert_array_equal(ops.shuffle_permutation(6, 2, inverse=True), [0, 2, 4, 1, 3, 5])


@settings(max_examples=6, deadline=None)
@given(groups=st.integers(1, 5), per_group=st.integers(1, 5))
def test_inverse_direction_is_the_inverse_permutation(groups, per_group):
    channels = groups * per_group
    forward = ops.shuffle_permutation(channels, groups)
    inverse = ops.shuffle_permutation(channels, groups, inverse=True)
    np.testing.assert_array_equal(forward[inverse], np.arange(channels))
    np.testing.assert_array_equal(inverse[forward], np.arange(channels))
    x = normal(0, 1, 2, 3, channels)
    for impl in IMPLS + ("auto",):
        shuffled = ops.channel_shuffle(x, groups, impl=impl)
        np.testing.assert_array_equal(shuffled, x[..., forward])
        np.testing.assert_array_equal(ops.channel_shuffle(shuffled, groups, inverse=True, impl=impl), x)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("inverse", [False, True])
def test_mask_is_jacobian_and_gradient_is_the_inverse_shuffle(impl, inverse):
    x = normal(0, 1, 2, 2, 12)
    apply = lambda v: ops.channel_shuffle(v, 3, inverse=inverse, impl=impl)  # noqa: E731
    mask = ops.permutation_mask(ops.shuffle_permutation(12, 3, inverse=inverse))
    np.testing.assert_array_equal(jacobian_channel_mask(apply, x), mask)
    cotangent = normal(1, *x.shape)
    (grad,) = jax.vjp(apply, x)[1](cotangent)
    np.testing.assert_array_equal(grad, ops.channel_shuffle(cotangent, 3, inverse=not inverse, impl=impl))


def test_errors():
    with pytest.raises(ValueError, match="groups=5 must divide channels=12"):
        ops.channel_shuffle(normal(0, 1, 2, 2, 12), 5)
    with pytest.raises(ValueError, match="unknown impl 'einsum'; valid: 'auto', 'reshape', 'gather'"):
        ops.channel_shuffle(normal(0, 1, 2, 2, 12), 3, impl="einsum")
