"""MobileNet V3-Small (Howard et al. 2019, "Searching for MobileNetV3", Table 2), as the official TF-slim
``V3_SMALL`` definition builds it (``tensorflow/models`` ``research/slim/nets/mobilenet/mobilenet_v3.py``;
docs/references.md#mobilenet-v3).

Stem 3×3/2 conv (16, h-swish); eleven inverted residuals (``V3_SMALL_BLOCKS``): the expanded width is
``make_divisible(C_in · ef, 8)`` and the expansion conv is skipped when it equals C_in; SE (squeeze
``make_divisible(E / 4, 8)``, 1×1 convs with bias, ReLU, hard-sigmoid gate) acts on the expanded tensor after
the depthwise activation; the projection is linear. Head: 1×1 conv 576 + BN + h-swish → global average pool →
1×1 conv 1024 with bias, no BN (a ``Dense`` on the pooled vector) + h-swish → dropout → logits.
With 1000 classes at 224 px: 2,542,856 params (torchvision's count) and 56.51M MAdds.

Options (fields):
  width_multiplier: multiplies every width incl. the head (rounded by ``make_divisible``, TF-slim's default
    ``finegrain_classification_mode=False``); expansions follow from the rounded input widths.
  head_features: 1024 (code, default) or 1280, the only way to reproduce the "2.9M params" figure
    (2.947M / 56.9M MAdds; docs/references.md#mobilenet-v3).
  head_se: SE on the last 576-wide conv, as the paper's Table 2 draws it (the code has none; 2.71M / 56.7M).
  dropout_rate: before the logits (0.2, as torchvision; TF-slim keeps 0.8).
  small_input: the 32–64 px geometry: stem and first block at stride 1 (total stride 8), so a 32 px image
    (CIFAR, SVHN) ends on a 4×4 map and a 56 px crop (Tiny-ImageNet) on 7×7, every stage after the first
    block seeing the resolution it sees at 224 px on ImageNet. With 200 classes this geometry reproduces
    the 4.75% MAdds saving that the XSepConv paper (§4.2) reports on Tiny-ImageNet.

BN uses TF-slim/torchvision's epsilon 1e-3 and torchvision's momentum 0.01 (Flax decay 0.99).
"""

from __future__ import annotations

import functools
from typing import ClassVar, NamedTuple

import flax.linen as nn
import jax

from lightnets.blocks import InvertedResidual, SpatialFactory
from lightnets.layers import ImageClassifier, global_avg_pool
from lightnets.ops import SqueezeExcite, activation, make_divisible
from lightnets.registry import ReferenceCounts, register_model


class BlockSpec(NamedTuple):
    """One ``V3_SMALL`` inverted residual: TF-slim's ``mbv3_op``/``mbv3_op_se`` arguments."""

    kernel_size: int
    expansion: float  # ef: expanded width = make_divisible(C_in · ef)
    out_features: int
    stride: int
    squeeze_excite: bool
    act: str


# Paper Table 2 / TF-slim V3_SMALL: expanded widths 16, 72, 88, 96, 240, 240, 120, 144, 288, 576, 576 at 1.0.
V3_SMALL_BLOCKS = (
    BlockSpec(3, 1, 16, 2, True, "relu"),
    BlockSpec(3, 72 / 16, 24, 2, False, "relu"),
    BlockSpec(3, 88 / 24, 24, 1, False, "relu"),
    BlockSpec(5, 4, 40, 2, True, "hard_swish"),
    BlockSpec(5, 6, 40, 1, True, "hard_swish"),
    BlockSpec(5, 6, 40, 1, True, "hard_swish"),
    BlockSpec(5, 3, 48, 1, True, "hard_swish"),
    BlockSpec(5, 3, 48, 1, True, "hard_swish"),
    BlockSpec(5, 6, 96, 2, True, "hard_swish"),
    BlockSpec(5, 6, 96, 1, True, "hard_swish"),
    BlockSpec(5, 6, 96, 1, True, "hard_swish"),
)
STEM_FEATURES = 16
HEAD_CONV_FEATURES = 576
SE_REDUCTION = 4


def squeeze_width(features: int) -> int:
    """SE squeeze width: ``make_divisible(features / 4, 8)`` (TF-slim ``squeeze_excite``)."""
    return make_divisible(features / SE_REDUCTION)


def block_stages(blocks: tuple[BlockSpec, ...] = V3_SMALL_BLOCKS) -> tuple[int, ...]:
    """Stage index of every block: a stride-2 block opens a new stage (the stem's stride counts as stage 0)."""
    stages, stage = [], 0
    for spec in blocks:
        stage += spec.stride == 2
        stages.append(stage)
    return tuple(stages)


class MobileNetV3Small(ImageClassifier):
    """MobileNet V3-Small; see the module docstring for the options.

    Attributes:
      width_multiplier: width multiplier (> 0).
      head_features: width of the last (BN-free) 1×1 conv before the logits, before ``width_multiplier``.
      head_se: SE on the last 576-wide conv (paper Table 2).
      dropout_rate: dropout before the logits, in [0, 1).
    """

    default_input_size: ClassVar[int] = 224

    bn_momentum: float = 0.99
    bn_epsilon: float = 1e-3
    width_multiplier: float = 1.0
    head_features: int = 1024
    head_se: bool = False
    dropout_rate: float = 0.2

    def scaled(self, features: int) -> int:
        """A table width times ``width_multiplier``, rounded to a multiple of 8."""
        return make_divisible(features * self.width_multiplier)

    def block_strides(self) -> tuple[int, ...]:
        """Depthwise strides of the eleven blocks (the first is 1 under ``small_input``)."""
        return tuple(1 if self.small_input and i == 0 else spec.stride for i, spec in enumerate(V3_SMALL_BLOCKS))

    def spatial_stage(self, index: int, train: bool) -> SpatialFactory | None:
        """The module replacing block ``index``'s depthwise stage; None keeps the k×k depthwise conv."""
        del index, train
        return None

    def check_options(self) -> None:
        super().check_options()
        if not self.width_multiplier > 0:
            raise ValueError(f"width_multiplier must be > 0, got {self.width_multiplier!r}")
        if self.head_features < 1:
            raise ValueError(f"head_features must be a positive width (1024 or 1280), got {self.head_features!r}")
        if not 0 <= self.dropout_rate < 1:
            raise ValueError(f"dropout_rate must be in [0, 1), got {self.dropout_rate!r}")

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
        self.check_options()
        stem_stride = 1 if self.small_input else 2
        x = self.conv_bn_act(
            train, self.scaled(STEM_FEATURES), (3, 3), strides=(stem_stride, stem_stride), act="hard_swish",
            name="stem",
        )(x)
        for index, (spec, stride) in enumerate(zip(V3_SMALL_BLOCKS, self.block_strides())):
            expanded = make_divisible(x.shape[-1] * spec.expansion)
            squeeze_excite = functools.partial(
                SqueezeExcite, squeeze_width(expanded), dtype=self.dtype, param_dtype=self.param_dtype
            ) if spec.squeeze_excite else None
            x = InvertedResidual(
                self.scaled(spec.out_features), expanded, conv=self.conv(), norm=self.norm(train),
                strides=(stride, stride), kernel_size=spec.kernel_size, act=spec.act, squeeze_excite=squeeze_excite,
                spatial=self.spatial_stage(index, train), name=f"block{index + 1}",
            )(x)
        x = self.conv_bn_act(train, self.scaled(HEAD_CONV_FEATURES), act="hard_swish", name="head_conv")(x)
        if self.head_se:
            x = SqueezeExcite(
                squeeze_width(x.shape[-1]), dtype=self.dtype, param_dtype=self.param_dtype, name="head_se"
            )(x)
        x = global_avg_pool(x)
        x = nn.Dense(
            self.scaled(self.head_features), dtype=self.dtype, param_dtype=self.param_dtype,
            kernel_init=nn.initializers.normal(0.01), name="head_fc",
        )(x)
        x = activation("hard_swish")(x)
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
        return self.classifier(x)


_V3_SMALL_REFERENCE = ReferenceCounts(
    2_542_856, 56.51e6,
    "torchvision mobilenet_v3_small params; TF-slim V3_SMALL MAdds (docs/references.md#mobilenet-v3)",
)
mobilenet_v3_small_100 = register_model(
    "mobilenet_v3_small_100", MobileNetV3Small, reference=_V3_SMALL_REFERENCE,
    aliases=("mobilenetv3_small_100", "mobilenet_v3_small"),
)
mobilenet_v3_small_075 = register_model(
    "mobilenet_v3_small_075", MobileNetV3Small, width_multiplier=0.75, aliases=("mobilenetv3_small_075",)
)
mobilenet_v3_small_050 = register_model(
    "mobilenet_v3_small_050", MobileNetV3Small, width_multiplier=0.5, aliases=("mobilenetv3_small_050",)
)
