"""ShuffleNet V2 (Ma et al. 2018, arXiv:1807.11164, Table 5, Fig. 3; docs/references.md#shufflenet-v2).

A 3×3/2 conv (24 ch) and a 3×3/2 max pool, three stages of units (repeats 4/8/4, the first strided),
Conv5 (1×1 + BN + ReLU), global average pooling and an FC without bias. A stride-1 unit splits its input
into halves; one passes unchanged, the other goes through 1×1 → BN → ReLU → 3×3 DWConv → BN → 1×1 → BN →
ReLU; the halves are concatenated and shuffled (Fig. 3c). A stride-2 unit feeds the whole input to both
branches, the "projection" one being 3×3/2 DWConv → BN → 1×1 → BN → ReLU (Fig. 3d).

* ``width_multiplier`` ∈ {0.5, 1, 1.5, 2} (Table 5's "0.5×" … "2×" columns): Table 5's widths (Stage2
  48/116/176/244, doubled per stage; Conv5 1024, or 2048 at 2×). Dropout 0.2 before the FC at 2× only (official code).
* ``layout``: 'megvii' (default; the official code, which reproduces Table 5 and the README exactly) or
  'torchvision'. They differ in two places, neither of which changes what the network can compute:
  (1) the first unit of Stage2: megvii's projection branch keeps the C_in = 24 input channels and the main
  branch produces C_out − 24 (24 + 92 = 116 at 1×), torchvision makes both branches C_out/2 (58 + 58);
  (2) where the shuffle sits: megvii fuses it with the split at the start of a stride-1 unit (even channels
  pass, odd channels enter the branch: the (C/2, 2)ᵀ permutation, then halves), torchvision concatenates and
  shuffles at the end of every unit (Fig. 3's (2, C/2)ᵀ). At 0.5× (1) is moot (24 = 48/2).
* ``classifier_bias``: the official FC has none; torchvision's has one. torchvision's totals
  (x0_5 1,366,792, x1_0 2,278,604, x1_5 3,503,624, x2_0 7,393,996) are ``layout='torchvision',
  classifier_bias=True``, registered under torchvision's names (``shufflenet_v2_x0_5`` … ``_x2_0``; no
  dropout): its 2× also has the 2048-wide Conv5; it is 8,604 smaller than megvii's 7,402,600
  because of (1) (−9,604) and the bias (+1,000).
* ``se_ratio``: > 0 adds a squeeze-and-excitation (ReLU, sigmoid gate; squeeze = ratio × width) to the end
  of each unit's main branch, before the concat. The paper reports a 2× "with SE" model (597M) but gives no
  placement; this one is our choice and does not reproduce 597M.
* ``small_input`` (32–64 px): the stem conv gets stride 1 and the max pool is dropped (total stride 8).

Counts at 224 (Table 5, "FLOPs" = multiply-adds, docs/references.md#shufflenet-v2): 0.5×/1×/1.5×/2×:
1.366/2.279/3.507/7.403M params, 40.5/145.8/299.0/590.8M MAdds.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from lightnets.layers import Block, ConvBnAct, ImageClassifier, ModuleFactory, global_avg_pool
from lightnets.ops import SqueezeExcite, channel_shuffle, max_pool
from lightnets.registry import ReferenceCounts, register_model

# Table 5: width multiplier -> (Stage2, Stage3, Stage4 output widths, Conv5 width).
WIDTHS = {
    0.5: ((48, 96, 192), 1024),
    1.0: ((116, 232, 464), 1024),
    1.5: ((176, 352, 704), 1024),
    2.0: ((244, 488, 976), 2048),
}
DEPTHS = (4, 8, 4)
STEM_WIDTH = 24
LAYOUTS = ("megvii", "torchvision")


class ShuffleV2Unit(Block):
    """ShuffleNet V2 unit (Fig. 3c stride 1, Fig. 3d stride 2).

    Attributes:
      out_features: unit output width (both branches together).
      proj_features: output width of the stride-2 projection branch (unused at stride 1).
      layout: 'megvii' or 'torchvision' (see the module docstring).
      conv, norm: the network's factories.
      strides: (1, 1) (split, Fig. 3c) or (2, 2) (both branches see the whole input, Fig. 3d).
      squeeze_excite: SE factory applied to the end of the main branch (``name='se'``); ``None`` for none.

    ``[N, H, W, C]`` → ``[N, H / s, W / s, out_features]``.
    """

    strides: Sequence[int] = (1, 1)
    proj_features: int = 0
    layout: str = "megvii"
    squeeze_excite: ModuleFactory | None = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        conv = functools.partial(ConvBnAct, conv=self.conv, norm=self.norm)
        mid = self.out_features // 2
        strides = tuple(self.strides)
        if strides == (1, 1):
            if self.layout == "megvii":
                x = channel_shuffle(x, 2, inverse=True)
            passed, x = jnp.split(x, 2, axis=-1)
        else:
            passed = conv(x.shape[-1], (3, 3), strides, groups=x.shape[-1], act="identity", name="proj_depthwise")(x)
            passed = conv(self.proj_features, (1, 1), act="relu", name="proj_pointwise")(passed)
        h = conv(mid, (1, 1), act="relu", name="pointwise1")(x)
        h = conv(mid, (3, 3), strides, groups=mid, act="identity", name="depthwise")(h)
        h = conv(self.out_features - passed.shape[-1], (1, 1), act="relu", name="pointwise2")(h)
        if self.squeeze_excite is not None:
            h = self.squeeze_excite(name="se")(h)
        y = jnp.concatenate([passed, h], axis=-1)
        return channel_shuffle(y, 2) if self.layout == "torchvision" else y


class ShuffleNetV2(ImageClassifier):
    """ShuffleNet V2 (Table 5).

    Attributes:
      width_multiplier: 0.5, 1, 1.5 or 2 (Table 5 columns).
      depths: units per stage (Table 5 "Repeat": 4, 8, 4).
      layout: 'megvii' (official code, default) or 'torchvision'.
      classifier_bias: FC bias (official: none; torchvision: yes).
      se_ratio: SE squeeze width as a fraction of the main branch width; 0 disables SE.
      dropout_rate: dropout before the FC (official: 0.2 at 2×, else 0; set by the registered variants).
    """

    default_input_size: ClassVar[int] = 224

    width_multiplier: float = 1.0
    depths: Sequence[int] = DEPTHS
    layout: str = "megvii"
    classifier_bias: bool = False
    se_ratio: float = 0.0
    dropout_rate: float = 0.0

    def check_options(self) -> None:
        super().check_options()
        if self.width_multiplier not in WIDTHS:
            raise ValueError(f"ShuffleNetV2 width_multiplier={self.width_multiplier!r}; valid: "
                             f"{', '.join(map(str, WIDTHS))} (Table 5)")
        if self.layout not in LAYOUTS:
            raise ValueError(f"ShuffleNetV2 layout={self.layout!r}; valid: {', '.join(LAYOUTS)}")
        if not 0 <= self.se_ratio <= 1:
            raise ValueError(f"ShuffleNetV2 se_ratio={self.se_ratio!r} must lie in [0, 1]")
        if len(self.depths) != 3 or min(self.depths) < 1:
            raise ValueError(f"ShuffleNetV2 depths must be 3 positive unit counts, got {self.depths!r}")

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
        self.check_options()
        stage_widths, head_width = WIDTHS[self.width_multiplier]
        stride = 1 if self.small_input else 2
        x = self.conv_bn_act(train, STEM_WIDTH, (3, 3), strides=(stride, stride), act="relu", name="stem")(x)
        if not self.small_input:
            x = max_pool(x, (3, 3), (2, 2), ((1, 1), (1, 1)))
        for stage, (width, depth) in enumerate(zip(stage_widths, self.depths), 2):
            for unit in range(depth):
                c_in = x.shape[-1]
                proj = c_in if self.layout == "megvii" else width // 2
                main = width - proj if unit == 0 else width // 2
                squeeze_excite = functools.partial(
                    SqueezeExcite, max(1, int(main * self.se_ratio)), act="relu", gate="sigmoid", dtype=self.dtype,
                    param_dtype=self.param_dtype,
                ) if self.se_ratio else None
                x = ShuffleV2Unit(
                    width, conv=self.conv(), norm=self.norm(train), strides=(2, 2) if unit == 0 else (1, 1),
                    proj_features=proj, layout=self.layout, squeeze_excite=squeeze_excite,
                    name=f"stage{stage}_unit{unit + 1}",
                )(x)
        x = self.conv_bn_act(train, head_width, (1, 1), act="relu", name="head")(x)
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(global_avg_pool(x))
        return self.classifier(x, use_bias=self.classifier_bias)


_SOURCE = "official megvii ShuffleNetV2 code; Table 5 '1.4/2.3/3.5/7.4M, 41/146/299/591M'"
for _scale, _params, _madds in ((0.5, 1.366e6, 40.5e6), (1.0, 2.279e6, 145.8e6), (1.5, 3.507e6, 299.0e6),
                                (2.0, 7.403e6, 590.8e6)):
    register_model(f"shufflenet_v2_{round(_scale * 100):03d}", ShuffleNetV2, width_multiplier=_scale,
                   dropout_rate=0.2 if _scale == 2.0 else 0.0, reference=ReferenceCounts(_params, _madds, _SOURCE))
# torchvision's ShuffleNet V2 under its own names: its layout, an FC bias, no dropout (see the module docstring).
for _scale, _params in ((0.5, 1_366_792), (1.0, 2_278_604), (1.5, 3_503_624), (2.0, 7_393_996)):
    register_model(f"shufflenet_v2_x{_scale:.1f}".replace(".", "_"), ShuffleNetV2, width_multiplier=_scale,
                   layout="torchvision", classifier_bias=True,
                   reference=ReferenceCounts(_params, None, "torchvision shufflenet_v2 total params"))
