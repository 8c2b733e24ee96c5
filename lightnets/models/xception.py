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
``middle_flow_repeats`` (8 in the paper) exists for tests and ablations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from lightnets.layers import ImageClassifier, NormFactory, global_avg_pool
from lightnets.ops import GroupedConv, activation, depthwise_conv, max_pool
from lightnets.registry import ReferenceCounts, register_model

# Entry-flow blocks (Fig. 5): separable widths per block; each is strided (max pool + 1×1/2 shortcut).
ENTRY_FLOW = ((128, 128), (256, 256), (728, 728))
MIDDLE_FLOW_WIDTH = 728
EXIT_BLOCK = (728, 1024)
EXIT_CONVS = (1536, 2048)


class SeparableConvBn(nn.Module):
    """3×3 depthwise → 1×1 pointwise (no bias, nothing in between) → BN (§3, Fig. 4; §4.2)."""

    features: int
    norm: NormFactory
    padding: str = "symmetric"
    dtype: Any = None
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kwargs = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        x = depthwise_conv(x.shape[-1], (3, 3), padding=self.padding, name="depthwise", **kwargs)(x)
        x = GroupedConv(self.features, (1, 1), name="pointwise", **kwargs)(x)
        return self.norm(name="bn")(x)


class XceptionBlock(nn.Module):
    """[ReLU →] SepConv → BN (→ ReLU → SepConv → BN)… [→ max pool 3×3/2], plus a shortcut (Fig. 5).

    Strided blocks pool and take a 1×1/2 conv + BN shortcut; the others add the input unchanged.
    """

    widths: Sequence[int]
    norm: NormFactory
    strided: bool = False
    start_with_relu: bool = True
    padding: str = "symmetric"
    dtype: Any = None
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kwargs = dict(padding=self.padding, dtype=self.dtype, param_dtype=self.param_dtype)
        h = x
        for i, width in enumerate(self.widths, start=1):
            if i > 1 or self.start_with_relu:
                h = activation("relu")(h)
            h = SeparableConvBn(width, self.norm, name=f"sepconv{i}", **kwargs)(h)
        if not self.strided:
            return h + x
        h = max_pool(h, (3, 3), (2, 2), "SAME")
        shortcut = GroupedConv(
            self.widths[-1], (1, 1), (2, 2), dtype=self.dtype, param_dtype=self.param_dtype, name="shortcut"
        )(x)
        return h + self.norm(name="shortcut_bn")(shortcut)


class Xception(ImageClassifier):
    """Xception (Fig. 5) with a 299 px default input.

    Attributes:
      dropout_rate: dropout before the classifier (0.5 for ImageNet, §4.3).
      middle_flow_repeats: middle-flow blocks (8 in Fig. 5).

    BN momentum 0.99 and epsilon 1e-3 are the Keras reference's (the paper does not give them).
    """

    default_input_size: ClassVar[int] = 299

    bn_momentum: float = 0.99
    bn_epsilon: float = 1e-3
    dropout_rate: float = 0.5
    middle_flow_repeats: int = 8

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
        if self.middle_flow_repeats < 1:
            raise ValueError(f"middle_flow_repeats must be at least 1, got {self.middle_flow_repeats!r}")
        norm = self.norm(train)
        stem_padding = self.padding if self.small_input else "VALID"
        x = self.conv_bn_act(train, 32, (3, 3), strides=(1, 1) if self.small_input else (2, 2),
                             padding=stem_padding, name="stem_conv1")(x)
        x = self.conv_bn_act(train, 64, (3, 3), padding=stem_padding, name="stem_conv2")(x)
        kwargs = dict(norm=norm, padding=self.padding, dtype=self.dtype, param_dtype=self.param_dtype)
        for i, widths in enumerate(ENTRY_FLOW, start=1):
            x = XceptionBlock(widths, strided=True, start_with_relu=i > 1, name=f"entry_block{i}", **kwargs)(x)
        for i in range(1, self.middle_flow_repeats + 1):
            x = XceptionBlock((MIDDLE_FLOW_WIDTH,) * 3, name=f"middle_block{i}", **kwargs)(x)
        x = XceptionBlock(EXIT_BLOCK, strided=True, name="exit_block", **kwargs)(x)
        for i, width in enumerate(EXIT_CONVS, start=1):
            x = activation("relu")(SeparableConvBn(width, name=f"exit_sepconv{i}", **kwargs)(x))
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(global_avg_pool(x))
        return self.classifier(x)


register_model(
    "xception", Xception,
    reference=ReferenceCounts(22_855_952, 8.4e9, "Xception Table 3 (params incl. BN γβ); MAdds: commonly quoted "
                              "~8.4G, not in the paper", input_size=299),
)
