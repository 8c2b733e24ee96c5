"""An independent dense reference for the structured ops: a plain convolution (feature_group_count=1)
whose kernel is the op's weights scattered into the positions its channel mask allows."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

TOLERANCE = dict(rtol=1e-5, atol=1e-4)


def dense_kernel(mask: np.ndarray, columns: Sequence[jax.Array]) -> jax.Array:
    """HWIO kernel with ``dense[:, :, r, o] = columns[o][:, :, n]`` for the n-th allowed input r of output o."""
    rows = [np.flatnonzero(mask[:, o]) for o in range(mask.shape[1])]
    assert [r.size for r in rows] == [c.shape[2] for c in columns], (rows, [c.shape for c in columns])
    longest = max(r.size for r in rows)
    stacked = jnp.stack([jnp.pad(c, ((0, 0), (0, 0), (0, longest - c.shape[2]))) for c in columns], axis=-1)
    position = np.zeros(mask.shape, int)
    for o, r in enumerate(rows):
        position[r, o] = np.arange(r.size)
    return jnp.where(mask, jnp.take_along_axis(stacked, position[None, None], axis=2), 0)


def dense_conv(x: jax.Array, kernel: jax.Array, strides: Sequence[int], pads) -> jax.Array:
    return jax.lax.conv_general_dilated(
        x, kernel, window_strides=tuple(strides), padding=pads, dimension_numbers=("NHWC", "HWIO", "NHWC")
    )


def _value_and_vjp(fn: Callable, cotangent: jax.Array, *args: jax.Array):
    y, vjp = jax.vjp(fn, *args)
    return y, vjp(cotangent)


def assert_same_function(ops: Sequence[Callable], reference: Callable, *args: jax.Array) -> None:
    """Each of ``ops`` equals ``reference`` at ``args``, outputs and gradients w.r.t. every argument.

    All of them are traced in one jit, so each new shape costs one compilation.
    """
    shape = jax.eval_shape(reference, *args).shape
    cotangent = jax.random.normal(jax.random.key(7), shape)
    expected, *actual = jax.jit(lambda *a: [_value_and_vjp(f, cotangent, *a) for f in (reference, *ops)])(*args)
    for index, (value, grads) in enumerate(actual):
        assert value.shape == shape, (index, value.shape, shape)
        np.testing.assert_allclose(value, expected[0], err_msg=f"output of op #{index}", **TOLERANCE)
        for got, want in zip(grads, expected[1], strict=True):
            np.testing.assert_allclose(got, want, err_msg=f"gradient of op #{index}", **TOLERANCE)


def normal(seed: int, *shape: int) -> jax.Array:
    return jax.random.normal(jax.random.key(seed), shape, jnp.float32)


def jacobian_channel_mask(apply: Callable[[jax.Array], jax.Array], x: jax.Array) -> np.ndarray:
    """[C_in, C_out]: True where some output channel's value depends on some input channel anywhere."""
    jac = jax.jacfwd(lambda v: apply(v[None])[0])(x[0])  # (H', W', C_out, H, W, C_in)
    return np.asarray(jnp.any(jac != 0, axis=(0, 1, 3, 4))).T
