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

from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol, runtime_checkable

import flax.linen as nn
import jax

from lightnets.layers import Block, ModuleFactory
from lightnets.ops import activation, channel_shuffle

# (in_features, out_features, name) -> a linear 1×1 layer; the default is the block's dense ``conv``.
PointwiseFactory = Callable[[int, int, str], nn.Module]
# (features, strides, name) -> spatial module incl. its own BN/activation (replaces depthwise + BN + act).
SpatialFactory = Callable[[int, Sequence[int], str], nn.Module]


class BlockDescription(NamedTuple):
    """One block of a network as the analysis reads it (``lightnets.analysis.block_notes``).

    ``module`` is the block as a standalone module (``parent=None``, eval mode), ``in_features`` its input
    width and ``note`` its channel-grouping pattern in the paper's terms.
    """

    module: nn.Module
    in_features: int
    note: str


@runtime_checkable
class DescribesBlocks(Protocol):
    """Networks whose blocks the analysis probes (channel dependency, FCRF; clcNet §3.3)."""

    def describe_blocks(self) -> dict[str, BlockDescription]:
        """{block name as in the parameter tree: its description}, in network order."""
        ...


class InvertedResidual(Block):
    """expand 1×1 → BN → act → [shuffle] → depthwise k×k → BN → act → [SE] → project 1×1 → BN → [shuffle] → [+x].

    Attributes:
      out_features: output width C_out.
      expanded_features: the expanded width E (MobileNet V2's t·C_in).
      conv: the network's ``ConvFactory`` (dense 1×1s and the depthwise conv).
      norm: the network's ``NormFactory``.
      strides: (height, width) strides of the depthwise conv.
      kernel_size: k of the k×k depthwise conv.
      act: activation after the depthwise BN (and after the expansion BN unless ``expand_act`` is set).
      expand_act: activation after the expansion BN when it differs from ``act`` ('identity' for IGCV3).
      always_expand: expand even when E equals C_in (IGCV3's t = 1 block).
      squeeze_excite: SE factory called as ``squeeze_excite(name='se')``; ``None`` for no SE.
      shuffle_groups: channel shuffle after the expansion BN (0: none).
      project_shuffle_groups: channel shuffle after the projection BN (0: none).
      pointwise: factory of the two 1×1 layers (grouped or uneven); ``None``: dense ``conv``.
      spatial: replaces depthwise + BN + act (XSepConv); ``None``: the k×k depthwise conv.
      use_residual: add the input when the strides are 1 and the widths match.

    Input ``[N, H, W, C_in]``; output ``[N, H / s, W / s, out_features]``.
    """

    expanded_features: int
    strides: Sequence[int] = (1, 1)
    kernel_size: int = 3
    act: str = "relu6"
    expand_act: str | None = None
    always_expand: bool = False
    squeeze_excite: ModuleFactory | None = None
    shuffle_groups: int = 0
    project_shuffle_groups: int = 0
    pointwise: PointwiseFactory | None = None
    spatial: SpatialFactory | None = None
    use_residual: bool = True

    def _pointwise(self, in_features: int, out_features: int, name: str) -> nn.Module:
        if self.pointwise is not None:
            return self.pointwise(in_features, out_features, name)
        return self.conv(out_features, (1, 1), name=name)

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
            h = self.conv(e, (self.kernel_size,) * 2, tuple(self.strides), groups=e, name="depthwise")(h)
            h = activation(self.act)(self.norm(name="depthwise_bn")(h))
        if self.squeeze_excite is not None:
            h = self.squeeze_excite(name="se")(h)
        h = self._pointwise(e, self.out_features, "project")(h)
        h = self.norm(name="project_bn")(h)
        if self.project_shuffle_groups:
            h = channel_shuffle(h, self.project_shuffle_groups)
        if self.use_residual and tuple(self.strides) == (1, 1) and c_in == self.out_features:
            h = h + x
        return h
