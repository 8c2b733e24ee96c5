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

from lightnets.ops.dispatch import register_op, resolve_impl
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
    chosen = resolve_impl("max_pool", impl, IMPLS, applicable=IMPLS, arrays=(x,),
                          options={"window": window, "strides": strides, "padding": pads})
    if chosen == "shifted":
        return _max_shifted(x, window, strides, pads)
    return nn.max_pool(x, window, strides, padding=pads)


register_op("max_pool", lambda x, **options: max_pool(x, **options))


def ceil_mode_size(size: int, window: int, stride: int, padding: int = 0) -> int:
    """Output length of a ceil-mode pool, exactly as PyTorch's ``ceil_mode=True`` and ONNX's ``ceil_mode=1``:
    ⌈(n + 2p − k) / s⌉ + 1, less one where that last window would start at or after the input's end (in
    the right padding or beyond it: (out − 1)·s ≥ n + p); every window then starts inside the input or its
    left padding, so holds at least one input value."""
    out = -(-(size + 2 * padding - window) // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def max_pool_ceil(
    x: jax.Array, window: int = 3, stride: int = 2, *, padding: int = 0, impl: str = "auto"
) -> jax.Array:
    """Ceil-mode max pooling of NHWC ``x`` (SqueezeNet, SqueezeNext): PyTorch's ``MaxPool2d(window, stride,
    padding, ceil_mode=True)`` / ONNX's ``MaxPool`` with ``ceil_mode=1``, output size per spatial axis as
    ``ceil_mode_size``. The last window may overhang the input; its missing rows/columns count as −∞, but
    it always holds at least one input value, so no −∞ ever reaches the output. Where window ≥ stride (the
    papers' 3×3/s2 pools), this is also Caffe's ceil mode; where window < stride, Caffe (without padding)
    keeps a window lying wholly outside the input, PyTorch/ONNX (and this) drop it. ``padding`` (0 ≤ p ≤
    window // 2, as PyTorch requires) is added on both sides; the overhang goes bottom/right."""
    if window < 1 or stride < 1 or not 0 <= padding <= window // 2:
        raise ValueError(f"max_pool_ceil: window {window} and stride {stride} must be positive and padding "
                         f"{padding} in [0, window // 2]")
    pads = []
    for size in x.shape[1:3]:
        out = ceil_mode_size(size, window, stride, padding)
        if out < 1:
            raise ValueError(f"max_pool_ceil: input size {size} is too small for window {window}, stride "
                             f"{stride}, padding {padding}: ceil mode gives no output")
        # Bottom/right padding that makes a floor-mode pool give exactly `out` windows; where the ceil
        # count's last window ends inside the input, the leftover rows are dropped (padding 0).
        pads.append((padding, max((out - 1) * stride + window - size - padding, 0)))
    return max_pool(x, (window, window), (stride, stride), tuple(pads), impl=impl)
