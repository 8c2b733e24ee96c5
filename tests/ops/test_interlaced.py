"""Interlaced group conv (clcNet IGC): every impl equals a dense conv with the interlaced masked kernel."""

import jax
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lightnets import ops
from lightnets.ops.grouped import applicable_impls

from .reference import assert_same_function, dense_conv, dense_kernel, jacobian_channel_mask, normal
from .strategies import ConvShape, conv_shapes


def test_interlace_is_clcnet_channel_interlace():
    """clcnet.torch ChannelInterlace(x, L, g): out[i + j·g] = x[i·M + j], M = L/g (docs/references.md#clcnet)."""
    channels, groups = 12, 4
    m = channels // groups
    expected = np.empty(channels, int)
    for i in range(groups):
        for j in range(m):
            expected[i + j * groups] = i * m + j
    np.testing.assert_array_equal(ops.interlace_permutation(channels, groups), expected)
    x = normal(0, 1, 2, 2, channels)
    for impl in ("reshape", "gather"):
        np.testing.assert_array_equal(ops.interlace(x, groups, impl=impl), x[..., expected])


@settings(max_examples=5, deadline=None)
@given(shape=conv_shapes(), groups=st.integers(1, 4), in_per_group=st.integers(1, 3), out_per_group=st.integers(1, 3))
@example(shape=ConvShape(2, (7, 6), (3, 3), (2, 1), "symmetric"), groups=4, in_per_group=2, out_per_group=2)
@example(shape=ConvShape(1, (5, 6), (1, 1), (1, 1), "VALID"), groups=3, in_per_group=2, out_per_group=1)
def test_every_impl_equals_interlaced_dense_conv(shape, groups, in_per_group, out_per_group):
    c_in, c_out = groups * in_per_group, groups * out_per_group
    x = normal(0, shape.batch, *shape.hw, c_in)
    kernel = normal(1, *shape.kernel, in_per_group, c_out)
    mask = ops.interlaced_channel_mask(c_in, c_out, groups)
    perm = ops.interlace_permutation(c_out, groups)

    def reference(x, kernel):
        columns = [kernel[:, :, :, perm[k]] for k in range(c_out)]
        return dense_conv(x, dense_kernel(mask, columns), shape.strides, shape.pads())

    assert_same_function(
        [
            lambda x, k, impl=impl: ops.interlaced_group_conv(
                x, k, strides=shape.strides, padding=shape.padding, groups=groups, impl=impl
            )
            for impl in applicable_impls(c_in, kernel.shape, groups, shape.pads())
        ],
        reference, x, kernel,
    )


def test_module_mask_is_jacobian_sparsity_and_clc_block_sees_every_channel():
    """clcNet-style 3×3 IGC (2 channels/group) then a contiguous grouped 1×1 with g2=2 (clcNet eq. 1)."""
    x = normal(0, 1, 5, 5, 8)
    igc = ops.InterlacedGroupConv(8, (3, 3), groups=4)
    params = igc.init(jax.random.key(0), x)
    assert params["params"]["kernel"].shape == (3, 3, 2, 8)
    mask = igc.channel_mask(8)
    np.testing.assert_array_equal(jacobian_channel_mask(lambda v: igc.apply(params, v), x), mask)
    block = mask.astype(int) @ ops.grouped_channel_mask(8, 8, 2).astype(int)
    assert (block > 0).all()
    contiguous = ops.grouped_channel_mask(8, 8, 4).astype(int) @ ops.grouped_channel_mask(8, 8, 2).astype(int)
    assert not (contiguous > 0).all()


def test_errors():
    x = normal(0, 1, 5, 5, 6)
    with pytest.raises(ValueError, match="interlaced group conv: groups=4 must divide in_features=6"):
        ops.interlaced_group_conv(x, normal(1, 3, 3, 1, 8), groups=4)
    with pytest.raises(ValueError, match="unknown impl 'split'"):
        ops.interlaced_group_conv(x, normal(1, 3, 3, 2, 6), groups=3, impl="split")
