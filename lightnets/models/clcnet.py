"""clcNet (Dong-Qing Zhang, CVPR 2018, "clcNet: Improving the Efficiency of Convolutional Neural Network
using Channel Local Convolutions", arXiv:1712.06145) as the official Torch code builds it
(``dqzhang17/clcnet.torch``, ``models/clcnet.lua``; docs/references.md#clcnet).

CLC block (§3.2, Fig. 6; docs/references.md#clcnet): 3×3 interlaced grouped conv, IGC (M → M, g1 groups, the
contiguous grouped conv whose outputs are interlaced, = clcnet.torch's ChannelInterlace) → BN, no ReLU (as
Xception) → 1×1 grouped conv, GC (M → N, g2 groups) → BN → ReLU. No residual connections; no conv biases.
The group parameters are not typed in: g2 is fixed (2, §4.1) and g1 minimises eq. 2 with L = M under the
FCRF rule g1·g2 ≤ L (eq. 1; ``lightnets.models.clcnet_groups.minimize_clc_cost``), which gives Table 2's column
(g1 = M/2: two channels per IGC group).

Network (Table 2): stem 3×3/2 conv 32 + BN + ReLU; CLC blocks 32→64 (s1); 64→128 (s2) + a×128;
128→256 (s2) + b×256; 256→512 (s2) + c×512; 512→1024 (s2) + d×1024; global average pool; FC with bias.

Counts (1000 classes, 224 px): clcnet_a (a, b, c, d) = (1,1,5,2) 3.254M / 342.97M, clcnet_b (1,1,7,3) 4.085M / 424.56M,
Table 5's 3.25M / 343M and 4.1M / 425M (the params need BN γβ and the FC bias; weights only give 3.227M).
clcnet_ap (§5.2, Table 4): clcNet-A with every IGC replaced by a plain GC of the same groups; same counts,
but no block has the full channel receptive field (``lightnets.analysis.block_fcrf``).

Options (fields):
  depths: blocks per stage, (1, 1 + a, 1 + b, 1 + c, 1 + d) for Table 2's repetitions (a, b, c, d); each ≥ 1.
  interlace: IGC (True) or plain GC (False, clcNet-Ap) for the 3×3.
  gc_groups: g2 of every block (2 in the paper); g1 follows from eq. 2.
  small_input: stem at stride 1, total stride 16 (2×2 final map at 32 px). The paper defines no small-input
    geometry; this is ours.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

import flax.linen as nn
import jax

from lightnets.blocks import BlockDescription
from lightnets.layers import Block, ConvFactory, ImageClassifier, global_avg_pool
from lightnets.models.clcnet_groups import minimize_clc_cost
from lightnets.ops import GroupedConv, InterlacedGroupConv, activation
from lightnets.registry import ReferenceCounts, register_model

STEM_FEATURES = 32
# (output width, stride) of each stage's first CLC block (Table 2); stages 2–5 repeat their last block.
CLC_STAGES = ((64, 1), (128, 2), (256, 2), (512, 2), (1024, 2))
# Blocks per stage: Table 2's (a, b, c, d) repetitions plus each stage's first block.
CLCNET_A_DEPTHS = (1, 2, 2, 6, 3)
CLCNET_B_DEPTHS = (1, 2, 2, 8, 4)


class ClcBlock(Block):
    """3×3 IGC (g1) → BN → 1×1 GC (g2) → BN → ReLU (clcNet §3.2); a plain 3×3 GC for clcNet-Ap.

    Attributes:
      out_features: N, the block's output width.
      igc_groups: g1 of the 3×3 (interlaced) grouped conv.
      spatial_conv: factory of the 3×3 conv (``InterlacedGroupConv``, or ``GroupedConv`` for clcNet-Ap).
      conv: the network's ``ConvFactory`` (the 1×1 GC).
      norm: the network's ``NormFactory``.
      gc_groups: g2 of the 1×1 GC.
      strides: (height, width) strides of the 3×3.

    ``[N, H, W, M]`` → ``[N, H / s, W / s, out_features]``.
    """

    igc_groups: int
    spatial_conv: ConvFactory
    gc_groups: int = 2
    strides: Sequence[int] = (1, 1)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = self.spatial_conv(x.shape[-1], (3, 3), self.strides, groups=self.igc_groups, name="spatial")(x)
        x = self.norm(name="spatial_bn")(x)
        x = self.conv(self.out_features, (1, 1), groups=self.gc_groups, name="pointwise")(x)
        return activation("relu")(self.norm(name="pointwise_bn")(x))


class ClcBlockSpec(NamedTuple):
    name: str
    in_features: int
    out_features: int
    stride: int
    igc_groups: int
    gc_groups: int


class ClcNet(ImageClassifier):
    """clcNet; see the module docstring for the options."""

    default_input_size: ClassVar[int] = 224

    depths: tuple[int, ...] = CLCNET_A_DEPTHS
    interlace: bool = True
    gc_groups: int = 2

    def check_options(self) -> None:
        super().check_options()
        depths = tuple(self.depths)
        if len(depths) != len(CLC_STAGES) or min(depths) < 1:
            raise ValueError(f"depths must be {len(CLC_STAGES)} positive block counts, e.g. {CLCNET_A_DEPTHS} "
                             f"(clcNet-A) or {CLCNET_B_DEPTHS} (clcNet-B); got {self.depths!r}")
        if self.gc_groups < 1:
            raise ValueError(f"gc_groups must be a positive group count (2 in the paper), got {self.gc_groups!r}")

    def block_specs(self) -> tuple[ClcBlockSpec, ...]:
        """Every CLC block in order, g1 from eq. 2 (L = M, g2 = ``gc_groups``)."""
        self.check_options()
        specs, in_features = [], STEM_FEATURES
        for stage, ((out_features, stride), depth) in enumerate(zip(CLC_STAGES, self.depths), 1):
            for index in range(depth):
                groups = minimize_clc_cost(in_features, in_features, out_features, g2=self.gc_groups)
                specs.append(ClcBlockSpec(
                    f"stage{stage}_block{index + 1}", in_features, out_features, stride if index == 0 else 1,
                    groups.g1, groups.g2,
                ))
                in_features = out_features
        return tuple(specs)

    def spatial_conv(self) -> ConvFactory:
        """The 3×3 conv factory: interlaced (IGC) or, for clcNet-Ap, plain grouped (GC)."""
        return functools.partial(
            InterlacedGroupConv if self.interlace else GroupedConv, padding=self.padding, dtype=self.dtype,
            param_dtype=self.param_dtype,
        )

    def block(self, spec: ClcBlockSpec, train: bool, **module_kwargs: Any) -> ClcBlock:
        """The ``ClcBlock`` for ``spec`` (``module_kwargs``: its ``name`` or ``parent``)."""
        return ClcBlock(
            spec.out_features, spec.igc_groups, self.spatial_conv(), conv=self.conv(), norm=self.norm(train),
            gc_groups=spec.gc_groups, strides=(spec.stride,) * 2, **module_kwargs,
        )

    def describe_blocks(self) -> dict[str, BlockDescription]:
        """Every CLC block as a standalone module with its input width and IGC/GC groups
        (``lightnets.blocks.DescribesBlocks``; the analysis adds FCRF, clcNet §3.3)."""
        spatial = "IGC" if self.interlace else "GC"
        return {
            spec.name: BlockDescription(
                self.block(spec, False, parent=None), spec.in_features,
                f"{spatial} 3×3 g1={spec.igc_groups} → GC 1×1 g2={spec.gc_groups}",
            )
            for spec in self.block_specs()
        }

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
        stem_stride = 1 if self.small_input else 2
        x = self.conv_bn_act(
            train, STEM_FEATURES, (3, 3), strides=(stem_stride, stem_stride), act="relu", name="stem"
        )(x)
        for spec in self.block_specs():
            x = self.block(spec, train, name=spec.name)(x)
        return self.classifier(global_avg_pool(x))


_TABLE_5 = "clcNet Table 5 ({}); dqzhang17/clcnet.torch models/clcnet.lua (docs/references.md#clcnet)"
clcnet_a = register_model(
    "clcnet_a", ClcNet, depths=CLCNET_A_DEPTHS,
    reference=ReferenceCounts(3.254e6, 342.97e6, _TABLE_5.format("3.25M / 343M")),
)
clcnet_b = register_model(
    "clcnet_b", ClcNet, depths=CLCNET_B_DEPTHS,
    reference=ReferenceCounts(4.085e6, 424.56e6, _TABLE_5.format("4.1M / 425M")),
)
clcnet_ap = register_model("clcnet_ap", ClcNet, depths=CLCNET_A_DEPTHS, interlace=False)
