"""XSepConv, the extremely separated depthwise convolution (Chen, Lu, Xue, Liao 2020, arXiv:2002.12046, §3.1,
Fig. 1; docs/references.md#xsepconv), and the spatially separable depthwise pair it is built from.

Spatially separable depthwise: a k×k depthwise kernel replaced by a 1×k (width-wise) then a k×1
(height-wise) depthwise kernel; downsampling is split across the two, stride (1, s) on the 1×k then (s, 1)
on the k×1 (Fig. 1b).

``XSepConv`` puts a 2×2 depthwise conv (``EvenDepthwiseConv``, whose ``padding_mode`` corner keeps the
spatial size) before that pair, each of the three followed by BN and the block's nonlinearity: 4hwc + 2khwc
multiply-adds and 4c + 2kc weights at stride 1; 4hwc + khwc/2 + khwc/4 when downsampling. Ablation
arrangements (§4.3, Fig. 6, all with the same params and MAdds except 'none'):

  'front'    2×2 → 1×k → k×1 (Fig. 6a, the standard block);
  'none'     1×k → k×1 only (Fig. 6b);
  'behind'   1×k → k×1 → 2×2 (XSepConv-B, Fig. 6c);
  'parallel' (2×2 → BN → act) + (1×k → BN → act → k×1 → BN → act) (XSepConv-P, Fig. 6d). The figure's BN and
             activation placement is not recoverable from the text; we keep "every conv followed by BN and the
             nonlinearity" per branch and sum the branches, which keeps the params equal to 'front' as Table 3
             states. Stride 1 only (the paper uses it for stride-1 blocks only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from lightnets.ops.activations import activation
from lightnets.ops.even_kernel import EvenDepthwiseConv
from lightnets.ops.grouped import depthwise_conv
from lightnets.ops.padding import Padding

Stage = tuple[tuple[int, int], tuple[int, int]]
ARRANGEMENTS = ("front", "none", "behind", "parallel")


def separable_depthwise_stages(kernel_size: int, strides: Sequence[int] = (1, 1)) -> tuple[Stage, Stage]:
    """((kernel, strides) of the 1×k stage, (kernel, strides) of the k×1 stage) for square ``strides`` (s, s).

    Raises ValueError for an even ``kernel_size`` or strides other than (1, 1) and (2, 2).
    """
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"spatially separable depthwise needs an odd kernel_size, got {kernel_size}")
    if tuple(strides) not in ((1, 1), (2, 2)):
        raise ValueError(f"strides must be (1, 1) or (2, 2), got {tuple(strides)}")
    stride = strides[0]
    return ((1, kernel_size), (1, stride)), ((kernel_size, 1), (stride, 1))


class XSepConv(nn.Module):
    """2×2 depthwise (``padding_mode``) and 1×k → k×1 depthwise, each + ``norm`` + ``act``, per ``arrangement``.

    Replaces an inverted residual's depthwise + BN + act (a ``lightnets.blocks.SpatialFactory`` product).

    Attributes:
      kernel_size: k, odd.
      norm: BatchNorm factory (the network's).
      padding_mode: corner or 'c2sp' of the 2×2 layer (``lightnets.ops.even_kernel.PADDING_MODES``).
      strides: (1, 1), or (2, 2) for the downsampling form (Fig. 1b; not with 'parallel').
      arrangement: one of ``ARRANGEMENTS``.
      act: activation name.
      padding, dtype, param_dtype: as ``GroupedConv``'s.

    ``[N, H, W, C]`` → ``[N, H / s, W / s, C]``. Raises ValueError for an unknown arrangement or a strided
    'parallel'.
    """

    kernel_size: int
    norm: Callable[..., nn.Module]
    padding_mode: str = "right_bottom"
    strides: Sequence[int] = (1, 1)
    arrangement: str = "front"
    act: str = "hard_swish"
    padding: Padding = "symmetric"
    dtype: Any = None
    param_dtype: Any = jnp.float32

    def _norm_act(self, x: jax.Array, conv: nn.Module, name: str) -> jax.Array:
        return activation(self.act)(self.norm(name=f"{name}_bn")(conv(x)))

    def even(self, x: jax.Array) -> jax.Array:
        conv = EvenDepthwiseConv(self.padding_mode, dtype=self.dtype, param_dtype=self.param_dtype, name="even")
        return self._norm_act(x, conv, "even")

    def separable(self, x: jax.Array) -> jax.Array:
        channels = x.shape[-1]
        for name, (kernel, strides) in zip(("width", "height"),
                                           separable_depthwise_stages(self.kernel_size, self.strides)):
            conv = depthwise_conv(
                channels, kernel, strides=strides, padding=self.padding, dtype=self.dtype,
                param_dtype=self.param_dtype, name=name,
            )
            x = self._norm_act(x, conv, name)
        return x

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if self.arrangement not in ARRANGEMENTS:
            raise ValueError(f"unknown XSepConv arrangement {self.arrangement!r}; valid: {', '.join(ARRANGEMENTS)}")
        if self.arrangement == "parallel" and tuple(self.strides) != (1, 1):
            raise ValueError(f"arrangement='parallel' is stride-1 only, got strides={tuple(self.strides)}")
        if self.arrangement == "front":
            return self.separable(self.even(x))
        if self.arrangement == "behind":
            return self.even(self.separable(x))
        if self.arrangement == "none":
            return self.separable(x)
        return self.even(x) + self.separable(x)
