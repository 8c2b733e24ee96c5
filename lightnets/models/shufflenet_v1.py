"""ShuffleNet V1 (Zhang et al. 2017, arXiv:1707.01083, Table 1; docs/references.md#shufflenet-v1).

A 3×3/2 conv (24 ch) and a 3×3/2 max pool, three stages of ShuffleNet units (Fig. 2; repeats 4/8/4, the
first unit of each stage strided), global average pooling and an FC. Each unit is
1×1 GConv → BN → ReLU → channel shuffle → 3×3 DWConv → BN → 1×1 GConv → BN, added to the input (stride 1)
or concatenated with a 3×3/2 average pool of it (stride 2). Bottleneck width = ¼ of the stage's output
width; the first 1×1 of Stage2 is not grouped (§3.3).

* ``groups`` g ∈ {1, 2, 3, 4, 8}: stage widths of Table 1 (g=1: 144/288/576 … g=8: 384/768/1536).
* ``width_multiplier`` s (the paper's scale factor, "ShuffleNet s×", §4.1): stage widths ×s, rounded to
  multiples of 4g (so the bottleneck splits into g groups; exact for the official 0.5×/1×/1.5×/2×). The stem
  width follows the official megvii ``network.py`` table (0.5×: 12, or 16 for g=8; 1× and 1.5×: 24; 2×: 48),
  which is 24·2^⌊log₂ s⌋ rounded to a multiple of g; scaling the stem by s instead would miss the published
  292M for 1.5× by 4M.
* ``shuffle``: 'paper' (default) shuffles with the paper's (g, C/g)ᵀ reshape right after the first GConv
  (Fig. 2b); 'megvii' uses the official code's inverse (C/g, g)ᵀ permutation after the DWConv + BN, so that
  its weights load unpermuted. Both mix the groups completely; counts are identical.
* The FC has no bias (official code); there is no dropout (the paper and code use none).
* ``small_input`` (32–64 px): the stem conv gets stride 1 and the max pool is dropped (total stride 8).

Counts at 224 (paper Table 1 "Complexity", multiply-adds): g=1..8 at 1×: 143/140/137/133/137M;
g=3 1×: 1.865M params / 137.5M (official megvii models; docs/references.md#shufflenet-v1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from lightnets.layers import Block, ConvBnAct, ImageClassifier, global_avg_pool
from lightnets.ops import channel_shuffle, make_divisible, max_pool
from lightnets.registry import ReferenceCounts, register_model

# Table 1: Stage2 output width at 1× per number of groups g; Stage3/Stage4 double it.
STAGE2_WIDTHS = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}
DEPTHS = (4, 8, 4)
STEM_WIDTH = 24
SHUFFLE_MODES = ("paper", "megvii")


def stage_widths(groups: int, width_multiplier: float) -> tuple[int, int, int]:
    """Output widths of Stage2–4: Table 1 × s, rounded to multiples of 4g."""
    return tuple(make_divisible(STAGE2_WIDTHS[groups] * width_multiplier * 2**i, 4 * groups) for i in range(3))


def stem_width(groups: int, width_multiplier: float) -> int:
    """Conv1 width of the official models: 24·2^⌊log₂ s⌋, rounded to a multiple of g."""
    return make_divisible(STEM_WIDTH * 2 ** math.floor(math.log2(width_multiplier)), groups)


class ShuffleUnit(Block):
    """ShuffleNet unit (Fig. 2b stride 1, Fig. 2c stride 2).

    Attributes:
      out_features: unit output width (stride 2: the concat of the pooled input and the GConv branch).
      bottleneck_features: width of the DWConv (¼ of the stage's output width).
      groups: groups of the 1×1 GConvs and of the channel shuffle.
      first_groups: groups of the first 1×1 GConv (1 in the first unit of Stage2, §3.3).
      conv, norm: the network's factories.
      strides: (1, 1) (residual add) or (2, 2) (concatenation with the pooled input).
      shuffle: 'paper' or 'megvii' (see the module docstring).

    ``[N, H, W, C]`` → ``[N, H / s, W / s, out_features]``.
    """

    bottleneck_features: int
    groups: int
    first_groups: int
    strides: Sequence[int] = (1, 1)
    shuffle: str = "paper"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        c_in = x.shape[-1]
        downsample = tuple(self.strides) != (1, 1)
        branch_features = self.out_features - c_in if downsample else self.out_features
        shuffles = self.groups > 1
        h = ConvBnAct(self.bottleneck_features, groups=self.first_groups, act="relu", conv=self.conv, norm=self.norm,
                      name="gconv1")(x)
        if shuffles and self.shuffle == "paper":
            h = channel_shuffle(h, self.groups)
        h = ConvBnAct(self.bottleneck_features, (3, 3), self.strides, groups=self.bottleneck_features,
                      act="identity", conv=self.conv, norm=self.norm, name="depthwise")(h)
        if shuffles and self.shuffle == "megvii":
            h = channel_shuffle(h, self.groups, inverse=True)
        h = ConvBnAct(branch_features, groups=self.groups, act="identity", conv=self.conv, norm=self.norm,
                      name="gconv2")(h)
        if not downsample:
            return nn.relu(x + h)
        shortcut = nn.avg_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))
        return jnp.concatenate([shortcut, nn.relu(h)], axis=-1)


class ShuffleNetV1(ImageClassifier):
    """ShuffleNet V1 (Table 1).

    Attributes:
      groups: g ∈ {1, 2, 3, 4, 8}, the groups of the pointwise GConvs.
      width_multiplier: the paper's channel scale factor s (0.5, 1, 1.5, 2 in the paper).
      stem_features: Conv1 width; ``None`` uses the official table (see ``stem_width``).
      depths: units per stage (Table 1 "Repeat": 4, 8, 4).
      shuffle: 'paper' (Fig. 2) or 'megvii' (official code's inverse permutation, after the DWConv).
    """

    default_input_size: ClassVar[int] = 224

    groups: int = 3
    width_multiplier: float = 1.0
    stem_features: int | None = None
    depths: Sequence[int] = DEPTHS
    shuffle: str = "paper"

    def check_options(self) -> None:
        super().check_options()
        if self.groups not in STAGE2_WIDTHS:
            raise ValueError(f"ShuffleNetV1 groups={self.groups!r}; valid: {sorted(STAGE2_WIDTHS)} (Table 1)")
        if not self.width_multiplier > 0:
            raise ValueError(f"ShuffleNetV1 width_multiplier must be positive, got {self.width_multiplier!r}")
        if self.shuffle not in SHUFFLE_MODES:
            raise ValueError(f"ShuffleNetV1 shuffle={self.shuffle!r}; valid: {', '.join(SHUFFLE_MODES)}")
        if len(self.depths) != 3 or min(self.depths) < 1:
            raise ValueError(f"ShuffleNetV1 depths must be 3 positive unit counts, got {self.depths!r}")
        if self.stem_features is not None and (self.stem_features < 1 or self.stem_features % self.groups):
            raise ValueError(
                f"ShuffleNetV1 stem_features={self.stem_features!r} must be a positive multiple of groups={self.groups}"
            )

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
        self.check_options()
        stem = self.stem_features or stem_width(self.groups, self.width_multiplier)
        stride = 1 if self.small_input else 2
        x = self.conv_bn_act(train, stem, (3, 3), strides=(stride, stride), act="relu", name="stem")(x)
        if not self.small_input:
            x = max_pool(x, (3, 3), (2, 2), ((1, 1), (1, 1)))
        widths = stage_widths(self.groups, self.width_multiplier)
        for stage, (width, depth) in enumerate(zip(widths, self.depths), 2):
            for unit in range(depth):
                x = ShuffleUnit(
                    width, width // 4, self.groups, first_groups=1 if stage == 2 and unit == 0 else self.groups,
                    conv=self.conv(), norm=self.norm(train), strides=(2, 2) if unit == 0 else (1, 1),
                    shuffle=self.shuffle, name=f"stage{stage}_unit{unit + 1}",
                )(x)
        return self.classifier(global_avg_pool(x), use_bias=False)


_TABLE_1 = "ShuffleNet Table 1 complexity"
for _g, _madds in ((1, 143e6), (2, 140e6), (4, 133e6)):
    register_model(f"shufflenet_v1_g{_g}_100", ShuffleNetV1, groups=_g, width_multiplier=1.0,
                   reference=ReferenceCounts(None, _madds, _TABLE_1))
# Counts recomputed from the official megvii models; they match the megvii README and Table 1 / Table 5.
for _g, _scale, _params, _madds in (
    (3, 0.5, 0.717e6, 37.6e6), (3, 1.0, 1.865e6, 137.5e6), (3, 1.5, 3.441e6, 292.4e6), (3, 2.0, 5.450e6, 524.1e6),
    (8, 0.5, 1.010e6, 40.5e6), (8, 1.0, 2.434e6, 138.4e6), (8, 1.5, 4.269e6, 290.2e6), (8, 2.0, 6.521e6, 521.9e6),
):
    register_model(f"shufflenet_v1_g{_g}_{round(_scale * 100):03d}", ShuffleNetV1, groups=_g, width_multiplier=_scale,
                   reference=ReferenceCounts(_params, _madds, "megvii ShuffleNetV1 code (README; paper Tables 1, 5)"))
