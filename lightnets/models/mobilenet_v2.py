"""MobileNet V2 (Sandler et al., CVPR 2018, arXiv:1801.04381, Tables 1–2; docs/references.md#mobilenet-v2).

A 3×3/2 conv (32), seven stages of inverted residual bottlenecks (Table 2 rows (t, c, n, s); the block is
``lightnets.blocks.InvertedResidual``: ReLU6, linear projection, no expansion conv when t = 1), a 1×1 conv
to 1280 + BN + ReLU6, global average pooling, dropout and a 1000-way FC. Counts at 224: 3,504,872
parameters with BN γβ (torchvision's total; 3.47M without, the TF-slim README) and 300.8M multiply-adds.

* ``width_multiplier``: every width is ``make_divisible(α·C, 8)`` as in TF-slim and torchvision; the 1280-wide
  last conv only grows (α > 1), never shrinks.
* ``dropout_rate``: 0.2 before the FC as torchvision (TF-slim keeps 0.8, i.e. also 0.2).
* ``small_input`` (32–64 px): the stem and stage 2 get stride 1, for a total stride of 8 (32 px → 4×4).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import flax.linen as nn
import jax

from lightnets.blocks import InvertedResidual
from lightnets.layers import Block, ImageClassifier, global_avg_pool
from lightnets.ops import make_divisible
from lightnets.registry import ReferenceCounts, register_model

STEM_WIDTH = 32
HEAD_WIDTH = 1280
# Table 2: (expansion t, output width c, repeats n, first stride s) of each stage.
STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
WIDTH_DIVISOR = 8


def scaled_width(width: int, *, width_multiplier: float) -> int:
    """α·C rounded as TF-slim and torchvision round MobileNet V2 widths: ``make_divisible(α·C, 8)``."""
    return make_divisible(width * width_multiplier, WIDTH_DIVISOR)


class BottleneckStage(Block):
    """One row (t, c, n, s) of Table 2: ``depth`` (n) inverted residuals of expansion t, the first with ``strides``."""

    expansion: int
    depth: int
    strides: Sequence[int] = (1, 1)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for i in range(self.depth):
            x = InvertedResidual(
                self.out_features, round(x.shape[-1] * self.expansion), conv=self.conv, norm=self.norm,
                strides=self.strides if i == 0 else (1, 1), act="relu6", name=f"block{i + 1}",
            )(x)
        return x


class MobileNetV2(ImageClassifier):
    """MobileNet V2 (Table 2).

    Attributes:
      width_multiplier: the width multiplier (§6.1: 0.35 to 1.4).
      dropout_rate: dropout before the FC.
    """

    width_multiplier: float = 1.0
    dropout_rate: float = 0.2

    def check_options(self) -> None:
        super().check_options()
        if not self.width_multiplier > 0:  # also refuses NaN
            raise ValueError(f"width_multiplier must be positive, got {self.width_multiplier!r}")

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
        self.check_options()
        width = functools.partial(scaled_width, width_multiplier=self.width_multiplier)
        x = self.conv_bn_act(train, width(STEM_WIDTH), (3, 3), strides=(1, 1) if self.small_input else (2, 2),
                             act="relu6", name="stem")(x)
        for i, (expansion, features, depth, stride) in enumerate(STAGES, start=1):
            if self.small_input and i == 2:
                stride = 1
            x = BottleneckStage(
                width(features), expansion, depth, conv=self.conv(), norm=self.norm(train), strides=(stride, stride),
                name=f"stage{i}",
            )(x)
        head = scaled_width(HEAD_WIDTH, width_multiplier=max(1.0, self.width_multiplier))
        x = self.conv_bn_act(train, head, (1, 1), act="relu6", name="head")(x)
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(global_avg_pool(x))
        return self.classifier(x)


_README = "TF-slim mobilenet README (params w/o BN; 1001 classes)"
register_model(
    "mobilenet_v2_100", MobileNetV2, width_multiplier=1.0, aliases=("mobilenetv2_100", "mobilenet_v2"),
    reference=ReferenceCounts(
        3_504_872, 300.77e6,
        "torchvision mobilenet_v2 total params incl. BN γβ; MAdds of TF-slim mobilenet_v2.py (paper Table 4: 300M)",
    ),
)
for _multiplier, _params, _madds in ((1.4, 6.06e6, 582e6), (0.35, 1.66e6, 59e6)):
    _suffix = f"{round(_multiplier * 100):03d}"
    register_model(f"mobilenet_v2_{_suffix}", MobileNetV2, width_multiplier=_multiplier,
                   aliases=(f"mobilenetv2_{_suffix}",), reference=ReferenceCounts(_params, _madds, _README))
