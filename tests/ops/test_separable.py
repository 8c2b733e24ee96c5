"""Spatially separable depthwise conv (XSepConv §3.1): 1×k at stride (1, s) then k×1 at (s, 1)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightnets import ops

from .reference import assert_same_function, dense_conv, dense_kernel, normal


@settings(max_examples=5, deadline=None)
@given(
    kernel_size=st.sampled_from([1, 3, 5]),
    stride=st.sampled_from([1, 2]),
    hw=st.tuples(st.integers(5, 9), st.integers(5, 9)),
    channels=st.integers(1, 6),
)
def test_two_stages_equal_a_dense_conv_with_the_outer_product_kernel(kernel_size, stride, hw, channels):
    (row_kernel, row_strides), (col_kernel, col_strides) = ops.separable_depthwise_stages(kernel_size, (stride, stride))
    assert row_kernel == (1, kernel_size) and col_kernel == (kernel_size, 1)
    x = normal(0, 2, *hw, channels)
    row = normal(1, *row_kernel, 1, channels)
    col = normal(2, *col_kernel, 1, channels)

    def separable(x, row, col, impl):
        y = ops.grouped_conv(x, row, strides=row_strides, groups=channels, impl=impl)
        return ops.grouped_conv(y, col, strides=col_strides, groups=channels, impl=impl)

    def reference(x, row, col):
        columns = [col[:, :, :, c] * row[:, :, :, c] for c in range(channels)]  # (k, 1, 1)·(1, k, 1)
        pad = kernel_size // 2
        return dense_conv(x, dense_kernel(np.eye(channels, dtype=bool), columns), (stride, stride), ((pad, pad),) * 2)

    impls = [lambda x, row, col, impl=impl: separable(x, row, col, impl) for impl in ("lax", "shifted")]
    assert_same_function(impls, reference, x, row, col)


@pytest.mark.parametrize("kernel_size,strides,match", [
    (4, (1, 1), "odd kernel_size, got 4"),
    (3, (3, 3), r"strides must be \(1, 1\) or \(2, 2\), got \(3, 3\)"),
    (3, (1, 2), r"strides must be \(1, 1\) or \(2, 2\), got \(1, 2\)"),
])
def test_errors(kernel_size, strides, match):
    with pytest.raises(ValueError, match=match):
        ops.separable_depthwise_stages(kernel_size, strides)
