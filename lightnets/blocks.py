"""Blocks shared across families.

``InvertedResidual`` is MobileNet V2's inverted residual with linear bottleneck (Sandler et al. 2018, §3.3,
Table 1), parameterised so that one implementation serves every family built on it:

* MobileNet V2: dense 1×1 expansion (skipped when t = 1), ReLU6, 3×3 depthwise, linear projection.
* MobileNet V3 (§5, TF-slim ``V3_SMALL``): k×k depthwise, SE on the expanded tensor after the depthwise
  activation, h-swish; expansion skipped when the expanded width equals the input width.
* IGCV3 / SeesawNet (docs/references.md#igcv3, #seesawnet): grouped or uneven 1×1 convs (``pointwise``), no activation
  after the expansion (``expand_act='identity'``), a 2-group channel shuffle after the expansion BN, and
  optionally the second permutation after the projection BN that some IGCV3 baselines keep
  (``project_shuffle_groups``; docs/references.md#igcv3).
* XSepConv (Chen et al. 2020): the depthwise stage replaced by another spatial module (``spatial``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from lightnets.layers import NormFactory
from lightnets.ops import GroupedConv, SqueezeExcite, activation, channel_shuffle, depthwise_conv
from lightnets.ops.padding import Padding

# (in_features, out_features, name) -> a linear 1×1 layer; the default is a dense GroupedConv.
PointwiseFactory = Callable[[int, int, str], nn.Module]
# (features, stride, name) -> spatial module incl. its own BN/activation (replaces depthwise + BN + act).
SpatialFactory = Callable[[int, int, str], nn.Module]


def dense_pointwise(in_features: int, out_features: int, name: str, **kwargs: Any) -> nn.Module:
    return GroupedConv(out_features, (1, 1), name=name, **kwargs)


class InvertedResidual(nn.Module):
    """expand 1×1 → BN → act → [shuffle] → depthwise k×k → BN → act → [SE] → project 1×1 → BN → [shuffle] → [+x]."""

    out_features: int
    expanded_features: int
    norm: NormFactory
    strides: int = 1
    kernel_size: int = 3
    act: str = "relu6"
    expand_act: str | None = None
    always_expand: bool = False
    squeeze_features: int = 0
    se_act: str = "relu"
    se_gate: str = "hard_sigmoid"
    shuffle_groups: int = 0
    project_shuffle_groups: int = 0
    pointwise: PointwiseFactory | None = None
    spatial: SpatialFactory | None = None
    use_residual: bool = True
    padding: Padding = "symmetric"
    dtype: Any = None
    param_dtype: Any = jnp.float32

    def _pointwise(self, in_features: int, out_features: int, name: str) -> nn.Module:
        if self.pointwise is not None:
            return self.pointwise(in_features, out_features, name)
        return dense_pointwise(in_features, out_features, name, dtype=self.dtype, param_dtype=self.param_dtype)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        c_in = x.shape[-1]
        e = self.expanded_features
        h = x
        if self.always_expand or e != c_in:
            h = self._pointwise(c_in, e, "expand")(h)
            h = self.norm(name="expand_bn")(h)
            h = activation(self.expand_act or self.act)(h)
        if self.shuffle_groups:
            h = channel_shuffle(h, self.shuffle_groups)
        if self.spatial is not None:
            h = self.spatial(e, self.strides, "spatial")(h)
        else:
            h = depthwise_conv(
                e, (self.kernel_size, self.kernel_size), strides=(self.strides, self.strides), padding=self.padding,
                dtype=self.dtype, param_dtype=self.param_dtype, name="depthwise",
            )(h)
            h = activation(self.act)(self.norm(name="depthwise_bn")(h))
        if self.squeeze_features:
            h = SqueezeExcite(
                self.squeeze_features, act=self.se_act, gate=self.se_gate, dtype=self.dtype,
                param_dtype=self.param_dtype, name="se",
            )(h)
        h = self._pointwise(e, self.out_features, "project")(h)
        h = self.norm(name="project_bn")(h)
        if self.project_shuffle_groups:
            h = channel_shuffle(h, self.project_shuffle_groups)
        if self.use_residual and self.strides == 1 and c_in == self.out_features:
            h = h + x
        return h
