"""Even-sized (2×2) depthwise convolution with symmetric padding.

An even kernel needs k-1 padding per axis, which cannot be split evenly; padding one corner shifts
features towards the opposite corner (the "shift problem", Wu et al. 2019, arXiv 1903.08385).

* ``'c2sp'``: Wu et al.'s symmetric padding within one layer (official ``boluoweifenda/CNN``,
  ``symmetric_padding``; docs/references.md#c2sp): channels in 4 near-equal contiguous groups (the first
  C%4 get one extra), padded bottom-right, top-left, bottom-left, top-right respectively.
* a corner (``'right_bottom'``, ``'left_top'``, ``'left_bottom'``, ``'right_top'``): the whole tensor is
  padded on that corner. XSepConv's improved strategy (XSepConv §3.2) gives the i-th of N successive
  even-kernel layers the corner ``IMPROVED_ORDER[i % 4]``; see ``improved_padding_schedule``.
"""

from __future__ import annotations


import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from lightnets.ops.grouped import ConvOp, grouped_channel_mask, grouped_conv

# Corner -> which side of each axis takes the extra zero: ((top, bottom), (left, right)) in units of k/2.
CORNERS = {
    "right_bottom": ((0, 1), (0, 1)),
    "left_top": ((1, 0), (1, 0)),
    "left_bottom": ((0, 1), (1, 0)),
    "right_top": ((1, 0), (0, 1)),
}
IMPROVED_ORDER = ("right_bottom", "left_top", "left_bottom", "right_top")
C2SP = "c2sp"
PADDING_MODES = tuple(CORNERS) + (C2SP,)


def corner_pads(corner: str, kernel_size: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Explicit pads for an even ``kernel_size``: k/2 on the corner's sides, k/2 - 1 on the others."""
    if corner not in CORNERS:
        raise ValueError(f"unknown padding corner {corner!r}; valid: {', '.join(CORNERS)}")
    half = kernel_size // 2
    return tuple((half - 1 + a, half - 1 + b) for a, b in CORNERS[corner])  # type: ignore[return-value]


def c2sp_group_sizes(channels: int) -> tuple[int, int, int, int]:
    """Wu et al.'s four near-equal channel groups; the first ``channels % 4`` get one extra channel."""
    base, extra = divmod(channels, 4)
    return tuple(base + (g < extra) for g in range(4))  # type: ignore[return-value]


def symmetric_pad(x: jax.Array, mode: str, kernel_size: int = 2) -> jax.Array:
    """Pads NHWC ``x`` for a 'VALID' even-kernel convolution that keeps the spatial size."""
    if kernel_size % 2:
        raise ValueError(f"symmetric padding is for even kernels, got kernel_size={kernel_size}")
    if mode == C2SP:
        bounds = np.cumsum(c2sp_group_sizes(x.shape[-1]))[:-1]
        parts = jnp.split(x, bounds, axis=-1)
        return jnp.concatenate(
            [symmetric_pad(p, corner, kernel_size) for p, corner in zip(parts, IMPROVED_ORDER)], axis=-1
        )
    (top, bottom), (left, right) = corner_pads(mode, kernel_size)
    return jnp.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))


def improved_padding_schedule(num_layers: int, *, last_layer_c2sp: bool = True) -> tuple[str, ...]:
    """Padding modes for N successive even-kernel layers (XSepConv §3.2).

    Layer i pads ``IMPROVED_ORDER[i % 4]``: for N % 4 == 0 the shifts cancel exactly; for N % 4 == 2 the
    last two layers are opposite corners (right-bottom, left-top). For N % 4 == 1 the paper lets the last
    layer use the original C2SP padding (``last_layer_c2sp``).
    """
    if num_layers < 0:
        raise ValueError(f"num_layers must be >= 0, got {num_layers}")
    modes = [IMPROVED_ORDER[i % 4] for i in range(num_layers)]
    if last_layer_c2sp and num_layers % 4 == 1:
        modes[-1] = C2SP
    return tuple(modes)


class EvenDepthwiseConv(ConvOp):
    """Depthwise k×k convolution (k even, default 2) whose output keeps the input size via ``padding_mode``."""

    padding_mode: str
    kernel_size: int = 2

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if self.padding_mode not in PADDING_MODES:
            raise ValueError(f"unknown padding_mode {self.padding_mode!r}; valid: {', '.join(PADDING_MODES)}")
        c = x.shape[-1]
        k = self.kernel_size
        kernel = self.param("kernel", self.kernel_init, (k, k, 1, c), self.param_dtype)
        dtype = self.dtype or x.dtype
        padded = symmetric_pad(x.astype(dtype), self.padding_mode, k)
        return grouped_conv(padded, kernel.astype(dtype), padding="VALID", groups=c, impl=self.impl)

    def channel_mask(self, in_features: int) -> np.ndarray:
        return grouped_channel_mask(in_features, in_features, in_features)
