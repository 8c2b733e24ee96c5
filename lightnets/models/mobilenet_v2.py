"""MobileNet V2 (Sandler et al., CVPR 2018, arXiv:1801.04381, Tables 1–2; docs/references.md#mobilenet-v2).

A 3×3/2 conv (32), seven stages of inverted residual bottlenecks (Table 2 rows (t, c, n, s); the block is
``lightnets.blocks.InvertedResidual``: ReLU6, linear projection, no expansion conv when t = 1), a 1×1 conv
to 1280 + BN + ReLU6, global average pooling, dropout and a 1000-way FC. Counts at 224: 3,504,872
parameters with BN γβ (torchvision's total; 3.47M without, the TF-slim README) and 300.8M multiply-adds.

* ``width_mult``: every width is ``make_divisible(α·C, 8)`` as in TF-slim and torchvision; the 1280-wide
  last conv only grows (α > 1), never shrinks.
* ``dropout_rate``: 0.2 before the FC as torchvision (TF-slim keeps 0.8, i.e. also 0.2).
* ``small_input`` (32–64 px): the stem and stage 2 get stride 1, for a total stride of 8 (32 px → 4×4).
"""

from __future__ import annotations

import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from lightnets.blocks import InvertedResidual
from lightnets.layers import ImageClassifier, NormFactory, global_avg_pool
from lightnets.ops import make_divisible
from lightnets.registry import ReferenceCounts, register_model

STEM_WIDTH = 32
HEAD_WIDTH = 1280
# Table 2: (expansion t, output width c, repeats n, first stride s) of each stage.
STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
WIDTH_DIVISOR = 8


def scaled_width(width: int, *, width_mult: float) -> int:
    """α·C rounded as TF-slim and torchvision round MobileNet V2 widths: ``make_divisible(α·C, 8)``."""
    return make_divisible(width * width_mult, WIDTH_DIVISOR)


class BottleneckStage(nn.Module):
    """One row of Table 2: ``repeats`` inverted residuals, the first with stride ``strides``."""

    features: int
    expansion: int
    repeats: int
    norm: NormFactory
    strides: int = 1
    padding: str = "symmetric"
    dtype: Any = None
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for i in range(self.repeats):
            x = InvertedResidual(
                self.features, round(x.shape[-1] * self.expansion), self.norm, strides=self.strides if i == 0 else 1,
                act="relu6", padding=self.padding, dtype=self.dtype, param_dtype=self.param_dtype,
                name=f"block{i + 1}",
            )(x)
        return x


class MobileNetV2(ImageClassifier):
    """MobileNet V2 (Table 2).

    Attributes:
      width_mult: the width multiplier (§6.1: 0.35 to 1.4).
      dropout_rate: dropout before the FC.
    """

    width_mult: float = 1.0
    dropout_rate: float = 0.2

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
        if self.width_mult <= 0:
            raise ValueError(f"width_mult must be positive, got {self.width_mult!r}")
        width = functools.partial(scaled_width, width_mult=self.width_mult)
        x = self.conv_bn_act(train, width(STEM_WIDTH), (3, 3), strides=(1, 1) if self.small_input else (2, 2),
                             act="relu6", name="stem")(x)
        for i, (expansion, features, repeats, stride) in enumerate(STAGES, start=1):
            if self.small_input and i == 2:
                stride = 1
            x = BottleneckStage(
                width(features), expansion, repeats, self.norm(train), strides=stride, padding=self.padding,
                dtype=self.dtype, param_dtype=self.param_dtype, name=f"stage{i}",
            )(x)
        head = scaled_width(HEAD_WIDTH, width_mult=max(1.0, self.width_mult))
        x = self.conv_bn_act(train, head, (1, 1), act="relu6", name="head")(x)
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(global_avg_pool(x))
        return self.classifier(x)


_README = "TF-slim mobilenet README (params w/o BN; 1001 classes)"
register_model(
    "mobilenet_v2_100", MobileNetV2, width_mult=1.0,
    reference=ReferenceCounts(
        3_504_872, 300.77e6,
        "torchvision mobilenet_v2 total params incl. BN γβ; MAdds of TF-slim mobilenet_v2.py (paper Table 4: 300M)",
    ),
)
register_model("mobilenet_v2_140", MobileNetV2, width_mult=1.4, reference=ReferenceCounts(6.06e6, 582e6, _README))
register_model("mobilenet_v2_035", MobileNetV2, width_mult=0.35, reference=ReferenceCounts(1.66e6, 59e6, _README))
