"""SqueezeNext (Gholami et al. 2018, arXiv:1803.10615, Figs. 1–3, the v1–v5 table; docs/references.md#squeezenext).

A 7×7/2 conv (64 ch) and a 3×3/2 max pool (Caffe ceil mode), four stages of SqueezeNext blocks at widths
32/64/128/256 (×``width_multiplier``; strides 1, 2, 2, 2), a 1×1 "bottleneck" conv to 128 channels, global average
pooling and an FC with bias (Fig. 3). Block (Fig. 1, right; official Caffe prototxt):
1×1 → C/2, 1×1 → C/4, 3×1 → C/2, 1×3 → C/2, 1×1 → C, every conv followed by BN + ReLU (the last one
too), added to the input and ReLU'd. The order of the two separable convs alternates block by block across
the whole network (3×1 first in even blocks). In the first block of every stage the shortcut is a 1×1 conv +
BN + ReLU, even where the width does not change (stage 1 at 2.0×, as in the official prototxt). In v1 it runs
in parallel with the bottleneck chain (whose first 1×1 strides); in v2–v5 it runs first and feeds both the
shortcut and the chain (the v5 prototxt of ``amirgholami/SqueezeNext``; docs/references.md#squeezenext).

* ``version`` 1–5 (the paper's table of the 1.0-SqNxt-23 v1–v5 variants): v1 = 7×7 stem, depth
  [6, 6, 8, 1]; v2–v5 = 5×5 stem with depths [6, 6, 8, 1], [4, 8, 8, 1], [2, 10, 8, 1], [2, 4, 14, 1]. Only
  v1 and v5 have reference code; v2–v4 use v5's transition, which reproduces the table's 0.74M for v2 (v1's
  would give 0.71M).
* ``depths`` overrides the version's blocks per stage. The 34- and 44-layer models (Table: 1.0/1.5/2.0-SqNxt-34
  1.0/2.1/3.8M, -44 1.2/2.6/4.4M) have no reference code and the paper does not list their depths; we use
  [7, 7, 17, 1] and [10, 10, 21, 1] (32 and 42 blocks, stage 4 kept at one block as in every listed
  variant): the equal-first-stages split that fits those six published param counts best (within 7% and 5%).
  [6, 6, 16, 6] / [8, 8, 20, 8] would give 1.76M / 2.24M at 1.0.
* ``width_multiplier``: "1.0-/1.5-/2.0-SqNxt" multiply the block widths; the stem (64) and the final 1×1 (128) stay
  (the official 2.0-SqNxt-23 prototxt; reproduces 2.36M).
* ``groups``: 2 gives G-SqNxt (the first 1×1 and both separable convs grouped; official prototxt).
* ``caffe_stem``: False (default) pads the stem conv "same" (224 → 112 → pool → 56), the geometry that
  reproduces the paper's 282M; True leaves it unpadded as the official prototxt does, meant for a 227 crop
  (227 → 111 → pool → 55; 278.0M). See docs/references.md#squeezenext.
* ``small_input`` (32–64 px): the stem conv gets stride 1 and the max pool is dropped (total stride 8).
* No dropout (none in the official prototxts).

Counts (docs/references.md#squeezenext, params incl. BN γβ): 1.0-SqNxt-23 0.718M / 281.9M at 224;
v5 0.931M / 224.9M; 1.0-G-SqNxt-23 0.544M / 227.5M; 2.0-SqNxt-23 2.363M / 750.8M.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import ClassVar

import flax.linen as nn
import jax

from lightnets.layers import Block, ConvBnAct, ImageClassifier, global_avg_pool
from lightnets.ops import max_pool_ceil
from lightnets.registry import ReferenceCounts, register_model

STAGE_WIDTHS = (32, 64, 128, 256)
STAGE_STRIDES = (1, 2, 2, 2)
STEM_WIDTH = 64
HEAD_WIDTH = 128
# version -> (stem kernel size, blocks per stage), the paper's v1–v5 table.
VERSIONS = {
    1: (7, (6, 6, 8, 1)),
    2: (5, (6, 6, 8, 1)),
    3: (5, (4, 8, 8, 1)),
    4: (5, (2, 10, 8, 1)),
    5: (5, (2, 4, 14, 1)),
}


class SqueezeNextBlock(Block):
    """SqueezeNext block (Fig. 1 right; official prototxts, docs/references.md#squeezenext).

    Attributes:
      out_features: C, the block's output width.
      conv, norm: the network's factories.
      strides: (height, width) strides of the block (on the projection and, in v1, on the first 1×1).
      projection: the shortcut is a 1×1 conv + BN + ReLU (first block of a stage) instead of the identity.
      height_first: the 3×1 conv comes before the 1×3 one.
      groups: groups of the first 1×1 and of both separable convs (G-SqNxt: 2).
      pre_projection: v2–v5 transition: the projection's output feeds both the shortcut and the chain.
    """

    strides: Sequence[int] = (1, 1)
    projection: bool = False
    height_first: bool = True
    groups: int = 1
    pre_projection: bool = False

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        conv = functools.partial(ConvBnAct, act="relu", conv=self.conv, norm=self.norm)
        c = self.out_features
        strides = tuple(self.strides)
        shortcut = x
        if self.projection:
            shortcut = conv(c, (1, 1), strides, name="projection")(x)
            if self.pre_projection:
                x, strides = shortcut, (1, 1)
        separable = [(3, 1), (1, 3)] if self.height_first else [(1, 3), (3, 1)]
        h = conv(c // 2, (1, 1), strides, groups=self.groups, name="squeeze1")(x)
        h = conv(c // 4, (1, 1), name="squeeze2")(h)
        h = conv(c // 2, separable[0], groups=self.groups, name="separable1")(h)
        h = conv(c // 2, separable[1], groups=self.groups, name="separable2")(h)
        h = conv(c, (1, 1), name="expand")(h)
        return nn.relu(h + shortcut)


class SqueezeNext(ImageClassifier):
    """SqueezeNext (Fig. 3; v1–v5 table).

    Attributes:
      width_multiplier: block width multiplier ("1.0-", "1.5-", "2.0-SqNxt").
      version: 1–5, the stem kernel, depth and transition of the paper's v1–v5 table.
      depths: blocks per stage, overriding the version's (34/44-layer models).
      groups: 1, or 2 for G-SqNxt.
      caffe_stem: unpadded stem conv of the official prototxt (227 crop) instead of "same" padding.
    """

    default_input_size: ClassVar[int] = 224

    width_multiplier: float = 1.0
    version: int = 1
    depths: Sequence[int] | None = None
    groups: int = 1
    caffe_stem: bool = False

    def stage_depths(self) -> Sequence[int]:
        """Blocks per stage: ``depths``, or the version's."""
        return VERSIONS[self.version][1] if self.depths is None else self.depths

    def check_options(self) -> None:
        super().check_options()
        if self.version not in VERSIONS:
            raise ValueError(f"SqueezeNext version={self.version!r}; valid: {', '.join(map(str, VERSIONS))}")
        depths = self.stage_depths()
        if len(depths) != 4 or min(depths) < 1:
            raise ValueError(f"SqueezeNext depths must be 4 positive block counts, got {depths!r}")
        if not self.width_multiplier > 0:
            raise ValueError(f"SqueezeNext width_multiplier must be positive, got {self.width_multiplier!r}")
        narrowest = int(STAGE_WIDTHS[0] * self.width_multiplier) // 4
        if self.groups < 1 or narrowest < 1 or narrowest % self.groups:
            raise ValueError(
                f"SqueezeNext groups={self.groups!r} must be positive and divide the narrowest squeezed width "
                f"{narrowest} (width_multiplier={self.width_multiplier}); the paper's G-SqNxt uses 2"
            )

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
        self.check_options()
        stem_kernel, depths = VERSIONS[self.version][0], self.stage_depths()
        stride = 1 if self.small_input else 2
        x = self.conv_bn_act(
            train, STEM_WIDTH, (stem_kernel, stem_kernel), strides=(stride, stride), act="relu",
            padding="VALID" if self.caffe_stem else self.padding, name="stem",
        )(x)
        if not self.small_input:
            x = max_pool_ceil(x)
        block = 0
        for stage, (base, stage_stride, depth) in enumerate(zip(STAGE_WIDTHS, STAGE_STRIDES, depths), 1):
            for unit in range(depth):
                stride = stage_stride if unit == 0 else 1
                x = SqueezeNextBlock(
                    int(base * self.width_multiplier), conv=self.conv(), norm=self.norm(train),
                    strides=(stride, stride), projection=unit == 0, height_first=block % 2 == 0, groups=self.groups,
                    pre_projection=self.version > 1, name=f"stage{stage}_unit{unit + 1}",
                )(x)
                block += 1
        x = self.conv_bn_act(train, HEAD_WIDTH, (1, 1), act="relu", name="head")(x)
        return self.classifier(global_avg_pool(x))


_REF = "amirgholami/SqueezeNext prototxt at 224, 'same' stem"
_TABLE = "SqueezeNext paper, v1–v5 table"
register_model("sqnxt23_100", SqueezeNext, reference=ReferenceCounts(0.718e6, 281.9e6, f"{_REF}; paper 0.72M / 282M"))
register_model("sqnxt23_200", SqueezeNext, width_multiplier=2.0,
               reference=ReferenceCounts(2.363e6, 750.8e6, f"{_REF}; paper 2.4M / 749M"))
register_model("g_sqnxt23_100", SqueezeNext, groups=2,
               reference=ReferenceCounts(0.544e6, 227.5e6, f"{_REF}; paper 0.54M"))
for _version, _params in ((2, 0.74e6), (3, 0.74e6), (4, 0.77e6)):
    register_model(f"sqnxt23v{_version}_100", SqueezeNext, version=_version,
                   reference=ReferenceCounts(_params, 228e6, _TABLE))
register_model("sqnxt23v5_100", SqueezeNext, version=5,
               reference=ReferenceCounts(0.931e6, 224.9e6, f"{_REF}; paper 0.94M / 228M"))
register_model("sqnxt34_100", SqueezeNext, depths=(7, 7, 17, 1),
               reference=ReferenceCounts(1.0e6, None, "SqueezeNext paper: 1.0-SqNxt-34 1.0M"))
register_model("sqnxt44_100", SqueezeNext, depths=(10, 10, 21, 1),
               reference=ReferenceCounts(1.2e6, None, "SqueezeNext paper: 1.0-SqNxt-44 1.2M"))
