"""Xception (Chollet, CVPR 2017, arXiv:1610.02357): Inception modules replaced by depthwise separable convs.

Architecture of the paper's Fig. 5 (entry flow, middle flow repeated eight times, exit flow), as the Keras
reference ``keras.applications.Xception`` builds it (docs/references.md#xception):

* a separable conv is a 3×3 depthwise conv then a 1×1 pointwise conv, no bias, **no BN or ReLU between**
  them; BN follows the pair (§4.2, §4.7: no intermediate non-linearity works best);
* the stem's two 3×3 convs (32 s2, 64) are unpadded (299 → 149 → 147);
* strided blocks end in a 3×3/2 max pool ('SAME') and take a 1×1/2 conv + BN shortcut; the other blocks
  are identity residuals; every block but the first starts with a ReLU;
* after the exit flow: global average pooling, dropout 0.5 (§4.3: ImageNet models have a dropout of rate
  0.5 before the logistic regression; the Keras inference graph omits it), then the 1000-way FC.

Counts at 299 px: 22,855,952 parameters with BN γβ (the paper's Table 3 figure and Keras's trainable
count), 8.36G multiply-adds.

``small_input`` (32–64 px): the first stem conv has stride 1 and both stem convs are padded, so a 32 px
input reaches the middle flow at 4×4 and the exit flow's pooled output at 2×2.
``depths`` (entry, middle, exit flow blocks; (3, 8, 1) in the paper): the middle flow's can change, for tests
and ablations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import flax.linen as nn
import jax

from lightnets.layers import Block, ImageClassifier, global_avg_pool
from lightnets.ops import activation, max_pool
from lightnets.registry import ReferenceCounts, register_model

# Fig. 5: output widths of the entry-flow blocks (two separable convs each, strided: max pool + 1×1/2 shortcut),
# the middle-flow width (three separable convs per block), the exit block's (first conv, output) widths and
# the two separable convs after it.
ENTRY_FLOW = (128, 256, 728)
MIDDLE_FLOW_WIDTH = 728
EXIT_BLOCK = (728, 1024)
EXIT_CONVS = (1536, 2048)
DEPTHS = (len(ENTRY_FLOW), 8, 1)  # blocks in the entry, middle and exit flows


class SeparableConvBn(Block):
    """3×3 depthwise → 1×1 pointwise (no bias, nothing in between) → BN (§3, Fig. 4; §4.2).

    ``[N, H, W, C]`` → ``[N, H, W, out_features]``.
    """

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = self.conv(x.shape[-1], (3, 3), groups=x.shape[-1], name="depthwise")(x)
        x = self.conv(self.out_features, (1, 1), name="pointwise")(x)
        return self.norm(name="bn")(x)


class XceptionBlock(Block):
    """[ReLU →] SepConv → BN (→ ReLU → SepConv → BN)… [→ max pool 3×3/2], plus a shortcut (Fig. 5).

    Strided blocks pool and take a 1×1/2 conv + BN shortcut; the others add the input unchanged.

    Attributes:
      out_features: output width (the last separable conv's).
      conv, norm: the network's factories.
      separable_convs: number of separable convs (2 in the entry and exit flows, 3 in the middle flow).
      mid_features: width of every separable conv but the last; ``None``: ``out_features``.
      strided: end in a 3×3/2 max pool with a 1×1/2 conv + BN shortcut.
      start_with_relu: a ReLU before the first separable conv (every block but the first).

    ``[N, H, W, C]`` → ``[N, H / s, W / s, out_features]`` (s = 2 when strided).
    """

    separable_convs: int = 2
    mid_features: int | None = None
    strided: bool = False
    start_with_relu: bool = True

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        mid = self.out_features if self.mid_features is None else self.mid_features
        h = x
        for i in range(1, self.separable_convs + 1):
            if i > 1 or self.start_with_relu:
                h = activation("relu")(h)
            width = self.out_features if i == self.separable_convs else mid
            h = SeparableConvBn(width, conv=self.conv, norm=self.norm, name=f"sepconv{i}")(h)
        if not self.strided:
            return h + x
        h = max_pool(h, (3, 3), (2, 2), "SAME")
        shortcut = self.conv(self.out_features, (1, 1), (2, 2), name="shortcut")(x)
        return h + self.norm(name="shortcut_bn")(shortcut)


class Xception(ImageClassifier):
    """Xception (Fig. 5) with a 299 px default input.

    Attributes:
      dropout_rate: dropout before the classifier (0.5 for ImageNet, §4.3).
      depths: blocks in the entry, middle and exit flows, (3, 8, 1) in Fig. 5; only the middle flow's
        depth can change (for tests and ablations).

    BN momentum 0.99 and epsilon 1e-3 are the Keras reference's (the paper does not give them).
    """

    default_input_size: ClassVar[int] = 299

    bn_momentum: float = 0.99
    bn_epsilon: float = 1e-3
    dropout_rate: float = 0.5
    depths: Sequence[int] = DEPTHS

    def check_options(self) -> None:
        super().check_options()
        depths = tuple(self.depths)
        if len(depths) != 3 or depths[0] != DEPTHS[0] or depths[2] != DEPTHS[2] or depths[1] < 1:
            raise ValueError(f"Xception depths={depths!r}; valid: ({DEPTHS[0]}, n, {DEPTHS[2]}) with n ≥ 1 middle-flow "
                             f"blocks (Fig. 5: {DEPTHS}); the entry and exit flows are fixed")

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
        self.check_options()
        stem_padding = self.padding if self.small_input else "VALID"
        x = self.conv_bn_act(train, 32, (3, 3), strides=(1, 1) if self.small_input else (2, 2),
                             padding=stem_padding, name="stem_conv1")(x)
        x = self.conv_bn_act(train, 64, (3, 3), padding=stem_padding, name="stem_conv2")(x)
        factories = dict(conv=self.conv(), norm=self.norm(train))
        for i, width in enumerate(ENTRY_FLOW, start=1):
            x = XceptionBlock(width, strided=True, start_with_relu=i > 1, name=f"entry_block{i}", **factories)(x)
        for i in range(1, self.depths[1] + 1):
            x = XceptionBlock(MIDDLE_FLOW_WIDTH, separable_convs=3, name=f"middle_block{i}", **factories)(x)
        mid, out = EXIT_BLOCK
        x = XceptionBlock(out, mid_features=mid, strided=True, name="exit_block", **factories)(x)
        for i, width in enumerate(EXIT_CONVS, start=1):
            x = activation("relu")(SeparableConvBn(width, name=f"exit_sepconv{i}", **factories)(x))
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(global_avg_pool(x))
        return self.classifier(x)


register_model(
    "xception", Xception, aliases=("legacy_xception",),
    reference=ReferenceCounts(22_855_952, 8.4e9, "Xception Table 3 (params incl. BN γβ); MAdds: commonly quoted "
                              "~8.4G, not in the paper", input_size=299),
)
