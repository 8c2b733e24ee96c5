"""Spatial max pooling with explicit pads (SqueezeNet's ceil-mode pools, ShuffleNet V1/V2's stem pool).

Implementations (``impl``):
  lax      canonical: ``lax.reduce_window`` with −∞ padding (flax ``nn.max_pool``). Its gradient is XLA's
           select-and-scatter, which XLA:CPU runs as a reduce-window, an iota and a scatter.
  shifted  the maximum over the window's shifted views (``axis_window`` with −∞ fill), taken separably:
           over the k_w column views, then over the k_h row views. Its gradient is elementwise selects.
           Where a window holds several equal maxima, the gradient is split evenly among them (JAX's rule
           for ``max``) instead of going to the first; the outputs are identical.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

import flax.linen as nn
import jax
import jax.numpy as jnp

from lightnets.ops.dispatch import resolve_impl
from lightnets.ops.grouped import axis_window
from lightnets.ops.padding import Padding, PadPairs, explicit_padding, output_size

IMPLS = ("lax", "shifted")


def _max_shifted(x: jax.Array, window: Sequence[int], strides: Sequence[int], pads: PadPairs) -> jax.Array:
    (kh, kw), ((top, _), (left, _)) = window, pads
    ho, wo = output_size(x.shape[1:3], window, strides, pads)
    columns = reduce(jnp.maximum, [axis_window(x, 2, j - left, strides[1], wo, -jnp.inf) for j in range(kw)])
    return reduce(jnp.maximum, [axis_window(columns, 1, i - top, strides[0], ho, -jnp.inf) for i in range(kh)])


def max_pool(
    x: jax.Array, window: Sequence[int], strides: Sequence[int], padding: Padding | PadPairs = "VALID", *,
    impl: str = "auto",
) -> jax.Array:
    """Max over k_h×k_w windows of NHWC ``x`` at ``strides``, padded with −∞ by ``padding`` (a mode of
    ``lightnets.ops.padding`` or explicit ((top, bottom), (left, right)) pairs)."""
    window, strides = tuple(window), tuple(strides)
    if len(window) != 2 or len(strides) != 2 or min(window + strides) < 1:
        raise ValueError(f"max_pool: window {window} and strides {strides} must be two positive sizes")
    pads = explicit_padding(padding, window, strides, x.shape[1:3])
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"max_pool: needs a floating-point input (−∞ padding), got {x.dtype}")
    chosen = resolve_impl("max_pool", impl, IMPLS, applicable=IMPLS)
    if chosen == "shifted":
        return _max_shifted(x, window, strides, pads)
    return nn.max_pool(x, window, strides, padding=pads)


def max_pool_ceil(x: jax.Array, window: int = 3, stride: int = 2, *, impl: str = "auto") -> jax.Array:
    """Max pooling with Caffe's ceil-mode output size ⌈(n − window) / stride⌉ + 1 (SqueezeNet, SqueezeNext):
    the last window may overhang the input, whose missing rows/columns count as −∞."""
    pads = []
    for size in x.shape[1:3]:
        out = -(-(size - window) // stride) + 1
        pads.append((0, (out - 1) * stride + window - size))
    return max_pool(x, (window, window), (stride, stride), tuple(pads), impl=impl)
