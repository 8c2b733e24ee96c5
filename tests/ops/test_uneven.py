"""Uneven group conv (SeesawNet): split and masked equal a dense conv with the block-diagonal kernel."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightnets import ops
from lightnets.ops.uneven import IMPLS

from .reference import assert_same_function, dense_conv, dense_kernel, jacobian_channel_mask, normal
from .strategies import conv_shapes


@settings(max_examples=5, deadline=None)
@given(
    shape=conv_shapes(),
    in_splits=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    out_sizes=st.lists(st.integers(1, 4), min_size=3, max_size=3),
)
def test_every_impl_equals_block_diagonal_dense_conv(shape, in_splits, out_sizes):
    out_splits = out_sizes[: len(in_splits)]
    x = normal(0, shape.batch, *shape.hw, sum(in_splits))
    kernels = [normal(1 + j, *shape.kernel, i, o) for j, (i, o) in enumerate(zip(in_splits, out_splits))]
    mask = ops.uneven_channel_mask(in_splits, out_splits)

    def reference(x, *kernels):
        columns = [k[:, :, :, o] for k in kernels for o in range(k.shape[-1])]
        return dense_conv(x, dense_kernel(mask, columns), shape.strides, shape.pads())

    assert_same_function(
        [
            lambda x, *ks, impl=impl: ops.uneven_group_conv(x, ks, strides=shape.strides, padding=shape.padding, impl=impl)
            for impl in IMPLS
        ],
        reference, x, *kernels,
    )


def test_seesaw_share_arrangement_straddles_the_first_layers_groups():
    """Seesaw-share (docs/references.md#seesawnet): the second 1×1 splits big group first, [3E/4 | E/4]."""
    c, e = 8, 16
    first = ops.uneven_channel_mask(ops.split_by_ratio(c, (1, 3)), ops.split_by_ratio(e, (1, 3)))
    second = ops.uneven_channel_mask(ops.split_by_ratio(e, (3, 1)), ops.split_by_ratio(c, (3, 1)))
    assert ops.split_by_ratio(e, (3, 1)) == (12, 4) and ops.split_by_ratio(c, (1, 3)) == (2, 6)
    reach = first.astype(int) @ second.astype(int)
    # The big second-layer group reads all small first-layer outputs and half of the big ones.
    assert reach[:2, :6].all() and reach[2:, :6].all() and reach[2:, 6:].all() and not reach[:2, 6:].any()


def test_module_params_and_mask():
    x = normal(0, 2, 5, 5, 8)
    module = ops.UnevenGroupConv((2, 6), (4, 12), kernel_size=(3, 3), padding="SAME")
    params = module.init(jax.random.key(0), x)
    shapes = {k: v.shape for k, v in params["params"].items()}
    assert shapes == {"kernel_0": (3, 3, 2, 4), "kernel_1": (3, 3, 6, 12)}
    mask = jacobian_channel_mask(lambda v: module.apply(params, v), x)
    np.testing.assert_array_equal(mask, module.channel_mask(8))


@pytest.mark.parametrize(
    "in_splits,out_splits,match",
    [
        ((2, 6), (4,), "must list the same"),
        ((2, 5), (4, 4), r"in_splits \(2, 5\) sum to 7, but the input has 8 channels"),
        ((0, 8), (4, 4), "empty group"),
    ],
)
def test_clear_errors(in_splits, out_splits, match):
    with pytest.raises(ValueError, match=match):
        ops.UnevenGroupConv(in_splits, out_splits).init(jax.random.key(0), normal(0, 1, 5, 5, 8))


def test_kernels_of_different_sizes_are_rejected():
    with pytest.raises(ValueError, match="kernels differ in size"):
        ops.uneven_group_conv(normal(0, 1, 5, 5, 4), [normal(1, 1, 1, 2, 2), normal(2, 3, 3, 2, 2)])
