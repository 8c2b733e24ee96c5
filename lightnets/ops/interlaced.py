"""Interlaced grouped convolution, IGC (clcNet, Zhang 2018, §3.2; docs/references.md#clcnet).

IGC keeps a grouped convolution's connectivity but interlaces its output channels into "fields": with
``g`` groups of ``L/g`` outputs each, output position ``j·g + i`` holds output j of group i. In clcnet.torch
this is a contiguous grouped conv followed by ``ChannelInterlace(x, L, g)``, ``out[i + j·g] = x[i·M + j]``
with M = L/g — exactly ShuffleNet's paper-direction ``channel_shuffle(x, g)``. A following contiguous
grouped 1×1 (the CLC block's GC) then reads every IGC group as long as g1·g2 ≤ L (clcNet eq. 1).

Implementations of ``interlaced_group_conv`` (``impl``):
  lax      canonical: ``grouped_conv(impl='lax')`` then ``interlace``.
  einsum   1×1 kernels: ``grouped_conv(impl='einsum')`` then ``interlace``.
  matmul   at most 8 groups: ``grouped_conv(impl='matmul')`` then ``interlace``.
  shifted  narrow groups: the shifted multiply-adds of ``grouped_conv`` laid out interlaced, so no
           separate permutation is traced.
  depthwise_sum, block_diagonal
           ``grouped_conv``'s forms with the views / the dense kernel's columns laid out interlaced: the
           permutation is folded into the weights, no separate pass over the output.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from lightnets.ops.dispatch import register_op
from lightnets.ops.grouped import (
    ConvOp, check_groups, conv_block_diagonal, conv_depthwise_sum, conv_shifted, grouped_channel_mask, grouped_conv,
    resolve_grouped_call,
)
from lightnets.ops.padding import Padding, PadPairs
from lightnets.ops.shuffle import channel_shuffle, permutation_mask, shuffle_permutation


def interlace(x: jax.Array, groups: int, *, impl: str = "auto") -> jax.Array:
    """clcNet's ChannelInterlace: output j·groups + i ← input i·(C/groups) + j."""
    return channel_shuffle(x, groups, impl=impl)


def interlace_permutation(channels: int, groups: int) -> np.ndarray:
    """Index array ``p`` with ``interlace(x)[..., k] = x[..., p[k]]``."""
    return shuffle_permutation(channels, groups)


def interlaced_channel_mask(in_features: int, out_features: int, groups: int) -> np.ndarray:
    """Boolean [C_in, C_out] channel dependency graph of IGC: the grouped mask with interlaced columns."""
    grouped = grouped_channel_mask(in_features, out_features, groups)
    return grouped @ permutation_mask(interlace_permutation(out_features, groups))


def interlaced_group_conv(
    x: jax.Array, kernel: jax.Array, *, strides: Sequence[int] = (1, 1), padding: Padding | PadPairs = "symmetric",
    groups: int = 1, impl: str = "auto",
) -> jax.Array:
    """``interlace(grouped_conv(x, kernel, groups=groups), groups)``; ``kernel`` is the contiguous grouped one."""
    strides, pads, chosen = resolve_grouped_call(
        "interlaced_group_conv", x, kernel, strides=strides, padding=padding, groups=groups, impl=impl)
    folded = {"shifted": conv_shifted, "depthwise_sum": conv_depthwise_sum, "block_diagonal": conv_block_diagonal}
    if chosen in folded:
        y = folded[chosen](x, kernel, strides, pads, groups, interlace_outputs=True)
        return y.astype(jnp.result_type(x, kernel))
    return interlace(grouped_conv(x, kernel, strides=strides, padding=pads, groups=groups, impl=chosen), groups)


register_op("interlaced_group_conv", lambda x, kernel, **options: interlaced_group_conv(x, kernel, **options))


class InterlacedGroupConv(ConvOp):
    """Grouped convolution with ``groups`` contiguous groups whose outputs are interlaced."""

    features: int
    kernel_size: Sequence[int] = (3, 3)
    strides: Sequence[int] = (1, 1)
    padding: Padding = "symmetric"
    groups: int = 1

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        c_in = x.shape[-1]
        check_groups(c_in, self.features, self.groups, what="interlaced group conv")
        kh, kw = self.kernel_size
        kernel = self.param("kernel", self.kernel_init, (kh, kw, c_in // self.groups, self.features), self.param_dtype)
        dtype = self.dtype or x.dtype
        return interlaced_group_conv(
            x.astype(dtype), kernel.astype(dtype), strides=self.strides, padding=self.padding,
            groups=self.groups, impl=self.impl,
        )

    def channel_mask(self, in_features: int) -> np.ndarray:
        return interlaced_channel_mask(in_features, self.features, self.groups)
