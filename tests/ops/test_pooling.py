"""max_pool / max_pool_ceil: every impl equals a max over explicitly −∞-padded strided slices."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lightnets import ops
from lightnets.ops.pooling import IMPLS

from .reference import assert_same_function, normal


def _reference(window, strides, pads):
    def reference(x):
        padded = jnp.pad(x, ((0, 0), *pads, (0, 0)), constant_values=-jnp.inf)
        ho = (padded.shape[1] - window[0]) // strides[0] + 1
        wo = (padded.shape[2] - window[1]) // strides[1] + 1
        views = [padded[:, i:i + (ho - 1) * strides[0] + 1:strides[0], j:j + (wo - 1) * strides[1] + 1:strides[1]]
                 for i in range(window[0]) for j in range(window[1])]
        return jnp.max(jnp.stack(views), axis=0)
    return reference


@pytest.mark.parametrize("hw,window,strides,pads", [
    ((9, 8), (3, 3), (2, 2), ((1, 1), (1, 1))),  # ShuffleNet's stem pool
    ((7, 7), (3, 3), (2, 2), ((0, 0), (0, 0))),
    ((8, 9), (3, 2), (1, 2), ((0, 2), (1, 0))),
    ((5, 6), (1, 3), (2, 1), ((0, 0), (1, 1))),
])
def test_every_impl_equals_padded_slices(hw, window, strides, pads):
    x = normal(0, 2, *hw, 5)
    assert_same_function(
        [lambda v, impl=impl: ops.max_pool(v, window, strides, pads, impl=impl) for impl in IMPLS],
        _reference(window, strides, pads), x,
    )


@pytest.mark.parametrize("size,expected", [(109, 54), (111, 55), (13, 6), (14, 7)])
def test_ceil_mode_output_size_and_values(size, expected):
    x = normal(1, 1, size, size, 2)
    for impl in IMPLS:
        y = ops.max_pool_ceil(x, impl=impl)
        assert y.shape == (1, expected, expected, 2)
        last = x[:, 2 * (expected - 1):, 2 * (expected - 1):].max(axis=(1, 2))  # the overhanging window
        np.testing.assert_array_equal(y[:, -1, -1], last)


def test_ties_give_equal_outputs_and_the_same_gradient_per_window():
    x = jnp.zeros((1, 6, 6, 1))  # every window is a tie (as after a ReLU)
    grads = {}
    for impl in IMPLS:
        y, vjp = jax.vjp(lambda v, impl=impl: ops.max_pool(v, (2, 2), (2, 2), impl=impl), x)
        np.testing.assert_array_equal(y, 0.0)
        (grads[impl],) = vjp(jnp.ones_like(y))
    for grad in grads.values():  # each non-overlapping 2×2 window passes on its whole cotangent
        np.testing.assert_allclose(grad.reshape(3, 2, 3, 2).sum(axis=(1, 3)), 1.0)
    np.testing.assert_allclose(grads["shifted"], 0.25)  # split evenly, where select-and-scatter picks one


@pytest.mark.parametrize("kwargs,match", [
    (dict(window=(3, 0)), "must be two positive sizes"),
    (dict(pads=((1, -1), (0, 0))), "non-negative"),
    (dict(pads="same"), "unknown padding 'same'"),
    (dict(impl="fast"), "unknown impl 'fast'; valid: 'auto', 'lax', 'shifted'"),
])
def test_clear_errors(kwargs, match):
    args = dict(window=(3, 3), strides=(2, 2), pads=((1, 1), (1, 1))) | kwargs
    impl = args.pop("impl", "auto")
    with pytest.raises(ValueError, match=match):
        ops.max_pool(normal(0, 1, 5, 5, 2), args["window"], args["strides"], args["pads"], impl=impl)


def test_integer_input_is_refused():
    with pytest.raises(ValueError, match="needs a floating-point input"):
        ops.max_pool(jnp.zeros((1, 4, 4, 1), jnp.int32), (2, 2), (2, 2))


def test_ceil_mode_drops_a_last_window_that_starts_past_the_input():
    """window < stride: PyTorch/ONNX give ⌈(6 − 1)/2⌉ + 1 − 1 = 3, not 4 (a 4th window would start at 6)."""
    x = jnp.arange(36.0).reshape(1, 6, 6, 1)
    for impl in IMPLS:
        y = ops.max_pool_ceil(x, window=1, stride=2, impl=impl)
        np.testing.assert_array_equal(y, x[:, ::2, ::2])


def _torch_ceil_size(n, k, s, p):
    """PyTorch's pooling_output_shape (ceil_mode=True, dilation 1), written out as in ATen."""
    out = (n + 2 * p - k + (s - 1)) // s + 1
    if (out - 1) * s >= n + p:
        out -= 1
    return out


def _brute_force_ceil_pool(x, k, s, p):
    """Ceil mode from its definition: windows at −p, −p + s, … until one reaches the end of the padded
    input, less those that start at or after the input's end; each the max of the input values it covers."""
    def windows(n):
        starts = [-p]
        while starts[-1] + k < n + p:
            starts.append(starts[-1] + s)
        return [range(max(t, 0), min(t + k, n)) for t in starts if t < n]
    rows, cols = windows(x.shape[1]), windows(x.shape[2])
    y = np.empty((x.shape[0], len(rows), len(cols), x.shape[3]), x.dtype)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            y[:, i, j] = x[:, r.start:r.stop, c.start:c.stop].max(axis=(1, 2))
    return y


_SWEEP = [(n, k, s, p) for n in range(1, 12) for k in range(1, 5) for s in range(1, 5) for p in range(k // 2 + 1)
          if _torch_ceil_size(n, k, s, p) >= 1]


def test_ceil_mode_size_follows_pytorch_for_a_sweep():
    from lightnets.ops.pooling import ceil_mode_size
    assert any(k < s for _, k, s, _ in _SWEEP)
    for n, k, s, p in _SWEEP:
        assert ceil_mode_size(n, k, s, p) == _torch_ceil_size(n, k, s, p), (n, k, s, p)
        for impl in IMPLS:
            shape = jax.eval_shape(lambda v, k=k, s=s, p=p, impl=impl: ops.max_pool_ceil(
                v, k, s, padding=p, impl=impl), jax.ShapeDtypeStruct((1, n, n + 1, 1), jnp.float32)).shape
            assert shape == (1, _torch_ceil_size(n, k, s, p), _torch_ceil_size(n + 1, k, s, p), 1), (n, k, s, p)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("k,s,p", [(1, 2, 0), (1, 3, 0), (2, 3, 0), (2, 3, 1), (3, 2, 0), (3, 2, 1), (2, 2, 0),
                                   (3, 3, 1), (4, 3, 2), (2, 4, 1)])
def test_ceil_mode_equals_brute_force_numpy(k, s, p, impl):
    x = np.asarray(normal(3, 2, 11, 12, 3))
    for h, w in [(11, 12), (7, 5), (4, 9), (max(k - 2 * p, 1), 6)]:
        v = x[:, :h, :w]
        want = _brute_force_ceil_pool(v, k, s, p)
        got = np.asarray(ops.max_pool_ceil(jnp.asarray(v), k, s, padding=p, impl=impl))
        assert np.isfinite(got).all(), (h, w)
        np.testing.assert_array_equal(got, want, err_msg=f"{(h, w, k, s, p, impl)}")


@pytest.mark.parametrize("kwargs,match", [
    ({"window": 0}, "must be positive"),
    ({"stride": 0}, "must be positive"),
    ({"window": 3, "padding": 2}, r"padding 2 in \[0, window // 2\]"),
    ({"window": 4, "stride": 3}, "too small"),
])
def test_ceil_mode_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ops.max_pool_ceil(normal(0, 1, 1, 1, 2), **kwargs)
