"""IGCV3 (Sun et al., BMVC 2018, "IGCV3: Interleaved Low-Rank Group Convolutions") as the official MXNet
``symbols/igcv3.py`` and the released ``igcv3-symbol.json`` build it (``homles11/IGCV3``;
docs/references.md#igcv3), and the IGCV3-D macro-architecture that SeesawNet reuses (SeesawNet Table 2;
``lightnets.models.seesawnet``).

Block (docs/references.md#igcv3; ``lightnets.blocks.InvertedResidual``): 1×1 GC g=2 (C_in → E = round(C_in·t)) →
BN, no activation → channel shuffle(2) → 3×3 depthwise → BN → ReLU6 → 1×1 GC g=2 (E → C_out) → BN (linear)
→ + x for every block of a stage but the first. The t=1 first block expands too (32 → 32, g=2). One permutation
per block, after the first GC: the released graph has exactly one reshape/swapaxes/reshape per block.

Network, "IGCV3-D": MobileNet V2 with doubled depth, (t, c, n, s) = (1,16,1,1) (6,24,4,2) (6,32,6,2)
(6,64,8,2) (6,96,6,1) (6,160,6,2) (6,320,1,1); stem 3×3/2 conv 32 + BN + ReLU6; head 1×1 conv 1280 + BN +
ReLU6 → global average pool → FC with bias. ``igcv3_d050`` has MobileNet V2's depths n = (1,2,3,4,3,3,1).

Counts (1000 classes, 224 px): igcv3_d100 3.492M params (3.426M without BN γβ), 312.97M MAdds. The paper
(and SeesawNet Table 5) print 318M, which the authors' own code does not reproduce: no reading of the
official graph closes the ≈5M gap (a dense t=1 expansion would give 319.4M), so this module matches the code.

Options (fields):
  depths: blocks per stage (n above).
  width_multiplier: widths c·m rounded half up and bumped to even, as the official code. The head stays 1280
    unless m > 1 (then int(1280·m)).
  official_width_quirks: the official arithmetic's slips. After each stage the code recomputes
    ``in_c = round(c_m·m)`` (bumped to c_m + 1 if odd) from the already scaled c_m and uses it only as the
    next stage's first expansion input, E = round(in_c·t), while the conv still reads c_m channels; and for
    m > 1 the head gets one extra channel. At m = 0.7: 2.447M / 167.73M with the quirks, 2.503M / 174.57M
    without (docs/references.md#igcv3); at m = 1 both agree.
  permute: the shuffle(2) after the expansion BN (off: the "permute N" rows of SeesawNet Table 6).
  second_permute: also the inverse interleave ``shuffle(C_out/2)`` after the projection BN that the first
    official version and SeesawNet's CIFAR IGCV3 baselines keep (docs/references.md#igcv3, #seesawnet).
  small_input: CIFAR geometry, SeesawNet's (which "keeps the same hyper parameters as IGCV3"; the official
    repo has no CIFAR code): stem, 24- and 160-channel stages at stride 1, total stride 4 (8×8 final map at 32 px).
  dropout_rate: before the FC; None = 0.5 with ``small_input`` (the CIFAR code's ``nn.Dropout()``), else 0.
"""

from __future__ import annotations

import functools
import math
from typing import Any, ClassVar, NamedTuple

import flax.linen as nn
import jax

from lightnets.blocks import BlockDescription, InvertedResidual, PointwiseFactory
from lightnets.layers import ConvFactory, ImageClassifier, global_avg_pool
from lightnets.registry import ReferenceCounts, register_model

# (t, c, s) of the seven stages (MobileNet V2 Table 2 widths and strides).
IGCV3_STAGES = ((1, 16, 1), (6, 24, 2), (6, 32, 2), (6, 64, 2), (6, 96, 1), (6, 160, 2), (6, 320, 1))
SMALL_INPUT_STRIDES = (1, 1, 2, 2, 1, 1, 1)
D100_DEPTHS = (1, 4, 6, 8, 6, 6, 1)
D050_DEPTHS = (1, 2, 3, 4, 3, 3, 1)
STEM_FEATURES = 32
HEAD_FEATURES = 1280
SMALL_INPUT_DROPOUT = 0.5
POINTWISE_GROUPS = 2


class BlockSpec(NamedTuple):
    """One inverted residual of an IGCV3-D network, widths already scaled."""

    name: str
    in_features: int
    out_features: int
    expanded_features: int
    stride: int
    residual: bool


def round_half_up(value: float) -> int:
    """The Python 2 ``round`` of the reference codes: halves go up (Python 3 rounds them to even)."""
    return math.floor(value + 0.5)


def grouped_pointwise(in_features: int, out_features: int, name: str, *, conv: ConvFactory, groups: int) -> nn.Module:
    """A 1×1 GC with ``groups`` contiguous groups (a ``lightnets.blocks.PointwiseFactory``)."""
    del in_features
    return conv(out_features, (1, 1), groups=groups, name=name)


class GroupedInvertedResidualNet(ImageClassifier):
    """Stem → the seven IGCV3-D stages of grouped inverted residuals → 1×1 head → pool → [dropout] → FC.

    Subclasses define how widths are scaled (``scaled_width``) and how each block groups its channels
    (``grouping`` → ``InvertedResidual`` keyword arguments, ``grouping_note`` → its summary text).
    """

    default_input_size: ClassVar[int] = 224

    depths: tuple[int, ...] = D100_DEPTHS
    width_multiplier: float = 1.0
    permute: bool = True
    dropout_rate: float | None = None

    def scaled_width(self, features: int) -> int:
        raise NotImplementedError

    def grouping(self, spec: BlockSpec) -> dict[str, Any]:
        raise NotImplementedError

    def grouping_note(self, spec: BlockSpec) -> str:
        raise NotImplementedError

    def next_expansion_input(self, out_features: int) -> int:
        """The width the next stage's first block expands from (its actual input width)."""
        return out_features

    def head_features(self) -> int:
        return HEAD_FEATURES if self.width_multiplier <= 1 else int(HEAD_FEATURES * self.width_multiplier)

    def head_dropout(self) -> float:
        if self.dropout_rate is not None:
            return self.dropout_rate
        return SMALL_INPUT_DROPOUT if self.small_input else 0.0

    def check_options(self) -> None:
        super().check_options()
        depths = tuple(self.depths)
        if len(depths) != len(IGCV3_STAGES) or min(depths) < 1:
            raise ValueError(f"depths must be {len(IGCV3_STAGES)} positive block counts, e.g. "
                             f"{D100_DEPTHS} (1.0D) or {D050_DEPTHS} (0.5D); got {self.depths!r}")
        if not self.width_multiplier > 0:
            raise ValueError(f"width_multiplier must be > 0, got {self.width_multiplier!r}")
        if self.dropout_rate is not None and not 0 <= self.dropout_rate < 1:
            raise ValueError(f"dropout_rate must be None or in [0, 1), got {self.dropout_rate!r}")

    def block_specs(self) -> tuple[BlockSpec, ...]:
        """Every block in order, from the stage table, ``depths``, the widths and ``small_input``."""
        self.check_options()
        strides = SMALL_INPUT_STRIDES if self.small_input else tuple(s for _, _, s in IGCV3_STAGES)
        in_features = expansion_input = self.scaled_width(STEM_FEATURES)
        specs = []
        for stage, ((t, c, _), depth, stride) in enumerate(zip(IGCV3_STAGES, self.depths, strides), 1):
            out_features = self.scaled_width(c)
            for index in range(depth):
                first = index == 0
                specs.append(BlockSpec(
                    f"stage{stage}_block{index + 1}", in_features, out_features,
                    round_half_up((expansion_input if first else in_features) * t), stride if first else 1,
                    residual=not first,
                ))
                in_features = out_features
            expansion_input = self.next_expansion_input(out_features)
        return tuple(specs)

    def block(self, spec: BlockSpec, train: bool, **module_kwargs: Any) -> InvertedResidual:
        """The ``InvertedResidual`` for ``spec`` (``module_kwargs``: its ``name`` or ``parent``)."""
        return InvertedResidual(
            spec.out_features, spec.expanded_features, conv=self.conv(), norm=self.norm(train),
            strides=(spec.stride,) * 2, act="relu6", expand_act="identity", always_expand=True,
            use_residual=spec.residual, **self.grouping(spec), **module_kwargs,
        )

    def describe_blocks(self) -> dict[str, BlockDescription]:
        """Every block as a standalone module with its input width and grouping pattern
        (``lightnets.blocks.DescribesBlocks``; the analysis adds FCRF, clcNet §3.3)."""
        return {
            spec.name: BlockDescription(
                self.block(spec, False, parent=None), spec.in_features, self.grouping_note(spec)
            )
            for spec in self.block_specs()
        }

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
        specs = self.block_specs()
        stem_stride = 1 if self.small_input else 2
        x = self.conv_bn_act(
            train, specs[0].in_features, (3, 3), strides=(stem_stride, stem_stride), act="relu6", name="stem"
        )(x)
        for spec in specs:
            x = self.block(spec, train, name=spec.name)(x)
        x = self.conv_bn_act(train, self.head_features(), act="relu6", name="head")(x)
        x = nn.Dropout(self.head_dropout(), deterministic=not train)(global_avg_pool(x))
        return self.classifier(x)


class IGCV3(GroupedInvertedResidualNet):
    """IGCV3-D; see the module docstring for the options."""

    official_width_quirks: bool = False
    second_permute: bool = False

    def scaled_width(self, features: int) -> int:
        width = round_half_up(features * self.width_multiplier)
        return width + width % 2

    def next_expansion_input(self, out_features: int) -> int:
        if not self.official_width_quirks:
            return out_features
        in_c = round_half_up(out_features * self.width_multiplier)
        return in_c if in_c % 2 == 0 else out_features + 1

    def head_features(self) -> int:
        quirk = self.official_width_quirks and self.width_multiplier > 1
        return super().head_features() + quirk

    def grouping(self, spec: BlockSpec) -> dict[str, Any]:
        pointwise: PointwiseFactory = functools.partial(grouped_pointwise, conv=self.conv(), groups=POINTWISE_GROUPS)
        return {
            "pointwise": pointwise,
            "shuffle_groups": POINTWISE_GROUPS if self.permute else 0,
            "project_shuffle_groups": spec.out_features // 2 if self.second_permute else 0,
        }

    def grouping_note(self, spec: BlockSpec) -> str:
        note = f"GC g={POINTWISE_GROUPS}"
        if self.permute:
            note += f" + shuffle({POINTWISE_GROUPS})"
        if self.second_permute:
            note += f" + shuffle({spec.out_features // 2}) after project"
        return note


igcv3_d100 = register_model(
    "igcv3_d100", IGCV3,
    reference=ReferenceCounts(3.492e6, 312.97e6, "official MXNet igcv3.py graph (docs/references.md#igcv3; the paper "
                              "prints 3.5M / 318M, not reproduced by its own code)"),
)
igcv3_d050 = register_model("igcv3_d050", IGCV3, depths=D050_DEPTHS)
