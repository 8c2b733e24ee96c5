"""grouped_conv / GroupedConv / depthwise_conv: every impl equals a dense conv with the group-masked kernel."""

import jax
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lightnets import ops
from lightnets.ops.grouped import IMPLS, MATMUL_MAX_GROUPS, SHIFTED_MAX_GROUP_WIDTH, applicable_impls, axis_window

from .reference import assert_same_function, dense_conv, dense_kernel, jacobian_channel_mask, normal
from .strategies import ConvShape, conv_shapes


def _reference(mask, shape):
    def reference(x, kernel):
        columns = [kernel[:, :, :, o] for o in range(kernel.shape[-1])]
        return dense_conv(x, dense_kernel(mask, columns), shape.strides, shape.pads())

    return reference


@settings(max_examples=5, deadline=None)
@given(
    shape=conv_shapes(),
    groups=st.integers(1, 4),
    in_per_group=st.integers(1, 3),
    out_per_group=st.integers(1, 3),
)
@example(shape=ConvShape(2, (6, 7), (1, 1), (2, 1), "SAME"), groups=3, in_per_group=2, out_per_group=3)  # einsum, matmul
@example(shape=ConvShape(2, (8, 5), (3, 3), (2, 2), "symmetric"), groups=4, in_per_group=1, out_per_group=1)  # dw
@example(shape=ConvShape(1, (7, 8), (2, 2), (1, 2), ((0, 1), (1, 0))), groups=2, in_per_group=3, out_per_group=2)
@example(shape=ConvShape(1, (6, 7), (1, 3), (2, 1), ((1, 0), (0, 2))), groups=1, in_per_group=3, out_per_group=2)
def test_every_impl_equals_masked_dense_conv(shape, groups, in_per_group, out_per_group):
    c_in, c_out = groups * in_per_group, groups * out_per_group
    x = normal(0, shape.batch, *shape.hw, c_in)
    kernel = normal(1, *shape.kernel, in_per_group, c_out)
    reference = _reference(ops.grouped_channel_mask(c_in, c_out, groups), shape)
    impls = applicable_impls(c_in, kernel.shape, groups, shape.pads())
    assert "lax" in impls and "shifted" in impls  # in_per_group <= 3 is always narrow
    assert_same_function(
        [
            lambda x, k, impl=impl: ops.grouped_conv(
                x, k, strides=shape.strides, padding=shape.padding, groups=groups, impl=impl
            )
            for impl in impls
        ],
        reference, x, kernel,
    )


@pytest.mark.parametrize("groups,features,kernel_size", [(1, 6, (3, 3)), (3, 6, (1, 1)), (6, 6, (3, 3)), (2, 4, (2, 1))])
def test_channel_mask_is_jacobian_sparsity(groups, features, kernel_size):
    x = normal(0, 1, 5, 5, 6)
    module = ops.GroupedConv(features, kernel_size, groups=groups, padding="SAME")
    params = module.init(jax.random.key(0), x)
    mask = jacobian_channel_mask(lambda v: module.apply(params, v), x)
    np.testing.assert_array_equal(mask, module.channel_mask(6))


def test_module_params_and_depthwise():
    x = normal(0, 2, 6, 6, 8)
    module = ops.depthwise_conv(8, (3, 3), strides=(2, 2), use_bias=True, impl="shifted")
    params = module.init(jax.random.key(0), x)["params"]
    assert {k: v.shape for k, v in params.items()} == {"kernel": (3, 3, 1, 8), "bias": (8,)}
    y = module.apply({"params": params}, x)
    expected = ops.grouped_conv(x, params["kernel"], strides=(2, 2), groups=8, impl="lax") + params["bias"]
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_conv_case_and_applicability():
    zero = ((0, 0), (0, 0))
    assert ops.conv_case(8, (3, 3, 1, 8), 8, ((1, 1), (1, 1))) == "depthwise"
    assert ops.conv_case(8, (1, 1, 1, 8), 8, zero) == "depthwise"
    assert ops.conv_case(8, (1, 1, 4, 8), 2, zero) == "pointwise"
    assert ops.conv_case(8, (3, 3, 2, 8), 4, ((1, 1), (1, 1))) == "grouped"
    assert ops.conv_case(8, (3, 3, 8, 8), 1, ((1, 1), (1, 1))) == "spatial"
    wide = 2 * (SHIFTED_MAX_GROUP_WIDTH + 1)
    assert ops.conv_case(wide, (3, 3, wide // 2, wide), 2, zero) == "spatial"
    assert applicable_impls(wide, (3, 3, wide // 2, wide), 2, zero) == ("lax", "matmul", "block_diagonal")
    assert applicable_impls(3, (3, 3, 3, 8), 1, zero) == ("lax", "matmul", "shifted")  # an RGB stem
    assert applicable_impls(8, (1, 1, 2, 8), 4, zero) == IMPLS
    many = 2 * (MATMUL_MAX_GROUPS + 1)
    assert applicable_impls(many, (3, 3, 1, many), many, zero) == ("lax", "shifted")  # depthwise
    assert applicable_impls(many, (3, 3, 1, 2 * many), many, zero) == ("lax", "shifted", "depthwise_sum")  # multiplier 2
    assert applicable_impls(4 * many, (3, 3, 4, 4 * many), many, zero) == ("lax", "shifted", "depthwise_sum")


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(groups=3), "groups=3 must divide in_features=4"),
        (dict(groups=0), "groups=0"),
        (dict(groups=2, impl="fast"), "unknown impl 'fast'; valid: 'auto', 'lax', 'einsum', 'matmul', 'shifted'"),
        (dict(groups=2, impl="einsum"), "impl 'einsum' does not apply"),
        (dict(groups=2, padding="same"), "unknown padding 'same'"),
    ],
)
def test_clear_errors(kwargs, match):
    x = normal(0, 1, 5, 5, 4)
    groups = kwargs["groups"]
    kernel = normal(1, 3, 3, 4 // groups if groups in (1, 2) else 1, 4)
    with pytest.raises(ValueError, match=match):
        ops.grouped_conv(x, kernel, **kwargs)


def test_shifted_does_not_apply_to_wide_groups():
    with pytest.raises(ValueError, match=r"impl 'shifted' does not apply to this call; applicable: \('lax', 'matmul', 'block_diagonal'\)"):
        ops.grouped_conv(normal(0, 1, 5, 5, 18), normal(1, 3, 3, 9, 4), groups=2, impl="shifted")


def test_kernel_that_does_not_fit_groups():
    with pytest.raises(ValueError, match=r"does not fit C_in=4 with groups=2"):
        ops.grouped_conv(normal(0, 1, 5, 5, 4), normal(1, 3, 3, 4, 4), groups=2)


@pytest.mark.parametrize("size,offset,stride,length", [
    (7, -2, 1, 7), (7, 1, 1, 7), (7, -1, 2, 4), (8, 0, 3, 3), (5, -4, 1, 9), (3, 5, 1, 2), (3, -6, 2, 2), (6, -3, 2, 5),
])
def test_axis_window_is_a_zero_padded_strided_slice(size, offset, stride, length):
    x = normal(0, 2, size, 3)
    expected = np.zeros((2, length, 3), np.float32)
    for t in range(length):
        if 0 <= offset + stride * t < size:
            expected[:, t] = x[:, offset + stride * t]
    np.testing.assert_array_equal(axis_window(x, 1, offset, stride, length), expected)
