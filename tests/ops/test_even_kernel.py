"""Even-sized (2×2) depthwise conv: C2SP groups and corners (docs/references.md#c2sp) and XSepConv's schedule."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightnets import ops

from .reference import assert_same_function, dense_conv, dense_kernel, jacobian_channel_mask, normal

# Where a 2×2 kernel sits inside a 3×3 window centred on the output pixel, per padded corner: padding the
# bottom/right reads rows/columns {0, +1}; padding the top/left reads {-1, 0}.
OFFSET_IN_3X3 = {"right_bottom": (1, 1), "left_top": (0, 0), "left_bottom": (1, 0), "right_top": (0, 1)}
# Official symmetric_padding: g0 bottom+right, g1 top+left, g2 bottom+left, g3 top+right.
C2SP_CORNERS = ("right_bottom", "left_top", "left_bottom", "right_top")


def _reference(corners):
    """A 'symmetric'-padded 3×3 depthwise conv with each channel's 2×2 kernel placed at its corner's offset."""
    channels = len(corners)

    def reference(x, kernel):
        columns = []
        for c, corner in enumerate(corners):
            row, col = OFFSET_IN_3X3[corner]
            columns.append(jnp.zeros((3, 3, 1)).at[row:row + 2, col:col + 2].set(kernel[:, :, :, c]))
        return dense_conv(x, dense_kernel(np.eye(channels, dtype=bool), columns), (1, 1), ((1, 1), (1, 1)))

    return reference


def test_c2sp_group_sizes():
    assert ops.c2sp_group_sizes(8) == (2, 2, 2, 2)
    assert ops.c2sp_group_sizes(10) == (3, 3, 2, 2)
    assert ops.c2sp_group_sizes(7) == (2, 2, 2, 1)
    assert ops.c2sp_group_sizes(3) == (1, 1, 1, 0)


@settings(max_examples=5, deadline=None)
@given(
    channels=st.integers(1, 9),
    hw=st.tuples(st.integers(5, 8), st.integers(5, 8)),
    mode=st.sampled_from(ops.even_kernel.PADDING_MODES),
)
def test_every_impl_equals_corner_embedded_dense_conv(channels, hw, mode):
    if mode == ops.C2SP:
        sizes = ops.c2sp_group_sizes(channels)
        corners = [corner for corner, size in zip(C2SP_CORNERS, sizes) for _ in range(size)]
    else:
        corners = [mode] * channels
    x = normal(0, 2, *hw, channels)
    kernel = normal(1, 2, 2, 1, channels)
    impls = [
        lambda x, k, impl=impl: ops.EvenDepthwiseConv(mode, impl=impl).apply({"params": {"kernel": k}}, x)
        for impl in ("lax", "shifted")
    ]
    assert_same_function(impls, _reference(corners), x, kernel)


def test_symmetric_pad_output_size_and_mask():
    x = normal(0, 1, 5, 6, 8)
    for mode in ops.even_kernel.PADDING_MODES:
        assert ops.symmetric_pad(x, mode).shape == (1, 6, 7, 8)
        assert ops.symmetric_pad(x, mode, kernel_size=4).shape == (1, 8, 9, 8)
    module = ops.EvenDepthwiseConv(ops.C2SP)
    params = module.init(jax.random.key(0), x)
    assert params["params"]["kernel"].shape == (2, 2, 1, 8)
    np.testing.assert_array_equal(jacobian_channel_mask(lambda v: module.apply(params, v), x), module.channel_mask(8))


@pytest.mark.parametrize(
    "n,expected",
    [
        (1, ("c2sp",)),
        (2, ("right_bottom", "left_top")),
        (3, ("right_bottom", "left_top", "left_bottom")),
        (4, ("right_bottom", "left_top", "left_bottom", "right_top")),
        (5, ("right_bottom", "left_top", "left_bottom", "right_top", "c2sp")),
        (6, ("right_bottom", "left_top", "left_bottom", "right_top", "right_bottom", "left_top")),
        (7, ("right_bottom", "left_top", "left_bottom", "right_top", "right_bottom", "left_top", "left_bottom")),
        (8, ("right_bottom", "left_top", "left_bottom", "right_top") * 2),
        (9, ("right_bottom", "left_top", "left_bottom", "right_top") * 2 + ("c2sp",)),
    ],
)
def test_improved_padding_schedule(n, expected):
    """XSepConv §3.2: cycle RB, LT, LB, RT; N%4==2 ends on two opposite corners; N%4==1 ends with C2SP."""
    schedule = ops.improved_padding_schedule(n)
    assert schedule == expected
    if n % 4 == 2:
        (a_rows, a_cols), (b_rows, b_cols) = (ops.CORNERS[m] for m in schedule[-2:])
        assert a_rows == b_rows[::-1] and a_cols == b_cols[::-1]
    if n % 4 == 1:
        assert ops.improved_padding_schedule(n, last_layer_c2sp=False)[-1] == "right_bottom"


@pytest.mark.parametrize("n", [4, 8])
def test_schedule_of_multiple_of_four_has_no_net_shift(n):
    """Each corner shifts features by half a pixel per axis; a multiple of four layers cancels exactly."""
    shift = np.zeros(2)
    for mode in ops.improved_padding_schedule(n):
        (top, bottom), (left, right) = ops.CORNERS[mode]
        shift += (bottom - top, right - left)
    np.testing.assert_array_equal(shift, 0)


def test_errors():
    with pytest.raises(ValueError, match="unknown padding_mode 'bottom'; valid: right_bottom, left_top"):
        ops.EvenDepthwiseConv("bottom").init(jax.random.key(0), normal(0, 1, 5, 5, 4))
    with pytest.raises(ValueError, match="even kernels, got kernel_size=3"):
        ops.symmetric_pad(normal(0, 1, 5, 5, 4), ops.C2SP, kernel_size=3)
    with pytest.raises(ValueError, match="num_layers must be >= 0, got -1"):
        ops.improved_padding_schedule(-1)
