"""Explicit padding: output sizes of 'symmetric', 'SAME', 'VALID' and explicit pairs."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightnets.ops.padding import explicit_padding


@settings(max_examples=25, deadline=None)
@given(size=st.integers(1, 40), kernel=st.sampled_from([1, 2, 3, 5, 7]), stride=st.sampled_from([1, 2, 3]))
def test_output_sizes(size, kernel, stride):
    ((top, bottom),) = explicit_padding("SAME", (kernel,), (stride,), (size,))
    assert (size + top + bottom - kernel) // stride + 1 == -(-size // stride)
    assert bottom - top in (0, 1)  # TF puts the odd extra row after
    if kernel % 2:
        ((a, b),) = explicit_padding("symmetric", (kernel,), (stride,), (size,))
        assert a == b == kernel // 2
        assert (size + 2 * a - kernel) // stride + 1 == -(-size // stride)
    assert explicit_padding("VALID", (kernel, kernel), (stride, stride), (size, size)) == ((0, 0), (0, 0))


def test_same_and_symmetric_differ_at_stride_two_on_even_inputs():
    assert explicit_padding("SAME", (3, 3), (2, 2), (8, 8)) == ((0, 1), (0, 1))
    assert explicit_padding("symmetric", (3, 3), (2, 2), (8, 8)) == ((1, 1), (1, 1))
    assert explicit_padding([[0, 1], (2, 0)], (3, 3), (1, 1), (8, 8)) == ((0, 1), (2, 0))


@pytest.mark.parametrize(
    "padding,kernel,match",
    [
        ("symmetric", (2, 2), "needs odd kernels, got \\(2, 2\\)"),
        ("same", (3, 3), "unknown padding 'same'; valid: symmetric, SAME, VALID"),
        (((1, 1),), (3, 3), "two non-negative"),
        (((1, -1), (0, 0)), (3, 3), "two non-negative"),
    ],
)
def test_errors(padding, kernel, match):
    with pytest.raises(ValueError, match=match):
        explicit_padding(padding, kernel, (1, 1), (8, 8))
