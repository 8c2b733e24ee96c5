"""MobileNet V1 (Howard et al. 2017, "MobileNets", arXiv:1704.04861, Table 1; docs/references.md#mobilenet-v1).

A 3×3/2 conv, then 13 depthwise separable layers (3×3 depthwise → BN → ReLU, 1×1 pointwise → BN → ReLU;
Fig. 3), global average pooling and a 1000-way FC (Table 1). Counts: 4.21M weights (4.23M with BN γβ) and
568.7M multiply-adds at 224 (Tables 4, 6, 7 "569M / 4.2M").

* ``width_multiplier`` α (§3.3): every layer's width becomes max(int(α·C), 8), as TF-slim's ``mobilenet_v1.py``
  computes it (exact for α ∈ {1, 0.75, 0.5, 0.25}: Table 6).
* Resolution multiplier ρ (§3.4): any input size works; the average pool is global (Table 7 counts at
  224/192/160/128 px).
* ``act``: the paper's ReLU; 'relu6' gives the TF-slim reference code's activation.
* ``small_input`` (32–64 px): the stem conv and the first strided depthwise layer get stride 1, for a total
  stride of 8 (32 px → 4×4 before pooling).
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax

from lightnets.layers import Block, ConvBnAct, ImageClassifier, global_avg_pool
from lightnets.registry import ReferenceCounts, register_model

STEM_WIDTH = 32
# Table 1: (pointwise output width, depthwise stride) of the 13 depthwise separable layers.
LAYERS = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
)
MIN_WIDTH = 8


def scaled_width(width: int, width_multiplier: float) -> int:
    """α·C as TF-slim's MobileNet V1 rounds it: max(int(α·C), 8)."""
    return max(int(width * width_multiplier), MIN_WIDTH)


class DepthwiseSeparable(Block):
    """3×3 depthwise → BN → act → 1×1 pointwise → BN → act (Fig. 3, right).

    ``[N, H, W, C]`` → ``[N, H / s, W / s, out_features]``.
    """

    strides: Sequence[int] = (1, 1)
    act: str = "relu"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        channels = x.shape[-1]
        x = ConvBnAct(channels, (3, 3), self.strides, groups=channels, act=self.act, conv=self.conv, norm=self.norm,
                      name="depthwise")(x)
        return ConvBnAct(self.out_features, act=self.act, conv=self.conv, norm=self.norm, name="pointwise")(x)


class MobileNetV1(ImageClassifier):
    """MobileNet V1 (Table 1).

    Attributes:
      width_multiplier: the width multiplier α (§3.3).
      act: 'relu' (paper) or 'relu6' (TF-slim).
      dropout_rate: dropout before the FC (the paper uses none; TF-slim keeps 0.999).
    """

    width_multiplier: float = 1.0
    act: str = "relu"
    dropout_rate: float = 0.0

    def check_options(self) -> None:
        super().check_options()
        if not self.width_multiplier > 0:  # also refuses NaN
            raise ValueError(f"width_multiplier must be positive, got {self.width_multiplier!r}")
        if self.act not in ("relu", "relu6"):
            raise ValueError(f"MobileNetV1 act {self.act!r}; valid: 'relu' (paper), 'relu6' (TF-slim)")

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
        self.check_options()
        stem_stride = 1 if self.small_input else 2
        x = self.conv_bn_act(train, scaled_width(STEM_WIDTH, self.width_multiplier), (3, 3),
                             strides=(stem_stride,) * 2, act=self.act, name="stem")(x)
        strides = [stride for _, stride in LAYERS]
        if self.small_input:
            strides[strides.index(2)] = 1
        for i, ((width, _), stride) in enumerate(zip(LAYERS, strides), start=1):
            x = DepthwiseSeparable(
                scaled_width(width, self.width_multiplier), conv=self.conv(), norm=self.norm(train),
                strides=(stride, stride), act=self.act, name=f"block{i}",
            )(x)
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(global_avg_pool(x))
        return self.classifier(x)


_TABLE_6 = "MobileNets Table 6 (params w/o BN, rounded to 0.1M)"
register_model(
    "mobilenet_v1_100", MobileNetV1, width_multiplier=1.0, aliases=("mobilenetv1_100",),
    reference=ReferenceCounts(4.21e6, 568.7e6,
                              "TF-slim mobilenet_v1.py (params w/o BN); MobileNets Table 6 '569M / 4.2M'"),
)
for _multiplier, _params, _madds in ((0.75, 2.6e6, 325e6), (0.5, 1.3e6, 149e6), (0.25, 0.5e6, 41e6)):
    register_model(f"mobilenet_v1_{round(_multiplier * 100):03d}", MobileNetV1, width_multiplier=_multiplier,
                   reference=ReferenceCounts(_params, _madds, _TABLE_6))
