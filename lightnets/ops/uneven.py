"""Uneven group convolution (SeesawNet, Zhang 2019, §4.1, §6.1; docs/references.md#seesawnet).

Input channels are cut into contiguous groups of sizes ``in_splits`` and output channels into
``out_splits``; output group j is a dense convolution of input group j. SeesawNet's 1:3 split is
``in_splits=(C//4, C - C//4)``. Its "share" arrangement is the same op with the second layer's splits in
the opposite order (big group first), so adjacent layers' group boundaries straddle each other.

Implementations: ``split`` (canonical: slice, convolve each group, concatenate) and ``masked`` (one dense
convolution whose kernel is the block-diagonal assembly of the group kernels; more multiply-adds, one op).
``AUTO_CHOICES`` keys them by case 'pointwise' (1×1 kernels) or 'spatial'.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from lightnets.ops.dispatch import register_op, resolve_impl
from lightnets.ops.grouped import ConvOp, block_diagonal_kernel, grouped_conv
from lightnets.ops.padding import Padding

IMPLS = ("split", "masked")


def check_splits(in_features: int, in_splits: Sequence[int], out_features: int, out_splits: Sequence[int]) -> None:
    if len(in_splits) != len(out_splits) or not in_splits:
        raise ValueError(f"uneven group conv: in_splits {tuple(in_splits)} and out_splits {tuple(out_splits)} "
                         "must list the same (non-zero) number of groups")
    if min(in_splits) < 1 or min(out_splits) < 1:
        raise ValueError(f"uneven group conv: empty group in {tuple(in_splits)} / {tuple(out_splits)}")
    if sum(in_splits) != in_features:
        raise ValueError(f"uneven group conv: in_splits {tuple(in_splits)} sum to {sum(in_splits)}, "
                         f"but the input has {in_features} channels")
    if sum(out_splits) != out_features:
        raise ValueError(f"uneven group conv: out_splits {tuple(out_splits)} sum to {sum(out_splits)}, "
                         f"expected {out_features}")


def uneven_channel_mask(in_splits: Sequence[int], out_splits: Sequence[int]) -> np.ndarray:
    """Boolean [C_in, C_out]: block diagonal with blocks in_splits[j] × out_splits[j]."""
    in_group = np.repeat(np.arange(len(in_splits)), in_splits)
    out_group = np.repeat(np.arange(len(out_splits)), out_splits)
    return in_group[:, None] == out_group[None, :]


def uneven_group_conv(
    x: jax.Array, kernels: Sequence[jax.Array], *, strides: Sequence[int] = (1, 1),
    padding: Padding = "symmetric", impl: str = "auto",
) -> jax.Array:
    """Applies ``kernels[j]`` (HWIO, dense) to the j-th contiguous input group and concatenates."""
    in_splits = [k.shape[2] for k in kernels]
    out_splits = [k.shape[3] for k in kernels]
    check_splits(x.shape[-1], in_splits, sum(out_splits), out_splits)
    if len({k.shape[:2] for k in kernels}) != 1:
        raise ValueError(f"uneven group conv: kernels differ in size: {[k.shape[:2] for k in kernels]}")
    case = "pointwise" if kernels[0].shape[:2] == (1, 1) else "spatial"
    chosen = resolve_impl(
        "uneven_group_conv", impl, IMPLS, applicable=IMPLS, case=case, arrays=(x, *kernels),
        options={"strides": tuple(strides), "padding": padding},
    )
    if chosen == "masked":
        return grouped_conv(x, block_diagonal_kernel(kernels), strides=strides, padding=padding)
    bounds = np.cumsum(in_splits)[:-1]
    parts = jnp.split(x, bounds, axis=-1)
    return jnp.concatenate(
        [grouped_conv(p, k, strides=strides, padding=padding) for p, k in zip(parts, kernels)], axis=-1
    )


register_op("uneven_group_conv", lambda x, *kernels, **options: uneven_group_conv(x, kernels, **options))


class UnevenGroupConv(ConvOp):
    """Group convolution with arbitrary contiguous group sizes; params ``kernel_0 … kernel_{G-1}``."""

    in_splits: Sequence[int]
    out_splits: Sequence[int]
    kernel_size: Sequence[int] = (1, 1)
    strides: Sequence[int] = (1, 1)
    padding: Padding = "symmetric"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        check_splits(x.shape[-1], self.in_splits, sum(self.out_splits), self.out_splits)
        kh, kw = self.kernel_size
        dtype = self.dtype or x.dtype
        kernels = [
            self.param(f"kernel_{j}", self.kernel_init, (kh, kw, ci, co), self.param_dtype).astype(dtype)
            for j, (ci, co) in enumerate(zip(self.in_splits, self.out_splits))
        ]
        return uneven_group_conv(x.astype(dtype), kernels, strides=self.strides, padding=self.padding, impl=self.impl)

    def channel_mask(self, in_features: int) -> np.ndarray:
        check_splits(in_features, self.in_splits, sum(self.out_splits), self.out_splits)
        return uneven_channel_mask(self.in_splits, self.out_splits)
