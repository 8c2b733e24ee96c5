"""clcNet (Dong-Qing Zhang, CVPR 2018, "clcNet: Improving the Efficiency of Convolutional Neural Network
using Channel Local Convolutions", arXiv:1712.06145) as the official Torch code builds it
(``dqzhang17/clcnet.torch``, ``models/clcnet.lua``; docs/references.md#clcnet).

CLC block (§3.2, Fig. 6; docs/references.md#clcnet): 3×3 interlaced grouped conv, IGC (M → M, g1 groups, the
contiguous grouped conv whose outputs are interlaced, = clcnet.torch's ChannelInterlace) → BN, no ReLU (as
Xception) → 1×1 grouped conv, GC (M → N, g2 groups) → BN → ReLU. No residual connections; no conv biases.
The group parameters are not typed in: g2 is fixed (2, §4.1) and g1 minimises eq. 2 with L = M under the
FCRF rule g1·g2 ≤ L (eq. 1; ``lightnets.analysis.minimize_clc_cost``), which gives Table 2's column
(g1 = M/2: two channels per IGC group).

Network (Table 2): stem 3×3/2 conv 32 + BN + ReLU; CLC blocks 32→64 (s1); 64→128 (s2) + a×128;
128→256 (s2) + b×256; 256→512 (s2) + c×512; 512→1024 (s2) + d×1024; global average pool; FC with bias.

Counts (1000 classes, 224 px): clcnet_a (1,1,5,2) 3.254M / 342.97M, clcnet_b (1,1,7,3) 4.085M / 424.56M,
Table 5's 3.25M / 343M and 4.1M / 425M (the params need BN γβ and the FC bias; weights only give 3.227M).
clcnet_ap (§5.2, Table 4): clcNet-A with every IGC replaced by a plain GC of the same groups; same counts,
but no block has the full channel receptive field (``clcnet_block_fcrf``).

Options (fields):
  stage_repeats: (a, b, c, d), the repetitions of Table 2 (each ≥ 0).
  interlace: IGC (True) or plain GC (False, clcNet-Ap) for the 3×3.
  gc_groups: g2 of every block (2 in the paper); g1 follows from eq. 2.
  small_input: stem at stride 1, total stride 16 (2×2 final map at 32 px). The paper defines no small-input
    geometry; this is ours.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from lightnets.analysis.channel_graph import blocks_fcrf
from lightnets.analysis.clc_cost import minimize_clc_cost
from lightnets.layers import ImageClassifier, NormFactory, global_avg_pool
from lightnets.ops import GroupedConv, InterlacedGroupConv, activation
from lightnets.ops.padding import Padding
from lightnets.registry import ReferenceCounts, register_model

STEM_FEATURES = 32
# (output width, stride) of each stage's first CLC block (Table 2); stages 2–5 repeat their last block.
CLC_STAGES = ((64, 1), (128, 2), (256, 2), (512, 2), (1024, 2))
CLCNET_A_REPEATS = (1, 1, 5, 2)
CLCNET_B_REPEATS = (1, 1, 7, 3)


class ClcBlock(nn.Module):
    """3×3 IGC (g1) → BN → 1×1 GC (g2) → BN → ReLU (clcNet §3.2); ``interlace=False``: plain 3×3 GC."""

    out_features: int
    igc_groups: int
    norm: NormFactory
    gc_groups: int = 2
    strides: int = 1
    interlace: bool = True
    padding: Padding = "symmetric"
    dtype: Any = None
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        spatial_conv = InterlacedGroupConv if self.interlace else GroupedConv
        x = spatial_conv(
            x.shape[-1], (3, 3), (self.strides, self.strides), self.padding, groups=self.igc_groups,
            dtype=self.dtype, param_dtype=self.param_dtype, name="spatial",
        )(x)
        x = self.norm(name="spatial_bn")(x)
        x = GroupedConv(
            self.out_features, (1, 1), groups=self.gc_groups, dtype=self.dtype, param_dtype=self.param_dtype,
            name="pointwise",
        )(x)
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

    stage_repeats: tuple[int, int, int, int] = CLCNET_A_REPEATS
    interlace: bool = True
    gc_groups: int = 2

    def check_options(self) -> None:
        repeats = tuple(self.stage_repeats)
        if len(repeats) != len(CLC_STAGES) - 1 or min(repeats) < 0:
            raise ValueError(f"stage_repeats must be four block counts (a, b, c, d) ≥ 0, e.g. {CLCNET_A_REPEATS} "
                             f"(clcNet-A) or {CLCNET_B_REPEATS} (clcNet-B); got {self.stage_repeats!r}")
        if self.gc_groups < 1:
            raise ValueError(f"gc_groups must be a positive group count (2 in the paper), got {self.gc_groups!r}")

    def block_specs(self) -> tuple[ClcBlockSpec, ...]:
        """Every CLC block in order, g1 from eq. 2 (L = M, g2 = ``gc_groups``)."""
        self.check_options()
        specs, in_features = [], STEM_FEATURES
        for stage, ((out_features, stride), extra) in enumerate(zip(CLC_STAGES, (0, *self.stage_repeats)), 1):
            for index in range(1 + extra):
                groups = minimize_clc_cost(in_features, in_features, out_features, g2=self.gc_groups)
                specs.append(ClcBlockSpec(
                    f"stage{stage}_block{index + 1}", in_features, out_features, stride if index == 0 else 1,
                    groups.g1, groups.g2,
                ))
                in_features = out_features
        return tuple(specs)

    def block(self, spec: ClcBlockSpec, train: bool, **module_kwargs: Any) -> ClcBlock:
        """The ``ClcBlock`` for ``spec`` (``module_kwargs``: its ``name`` or ``parent``)."""
        return ClcBlock(
            spec.out_features, spec.igc_groups, self.norm(train), gc_groups=spec.gc_groups, strides=spec.stride,
            interlace=self.interlace, padding=self.padding, dtype=self.dtype, param_dtype=self.param_dtype,
            **module_kwargs,
        )

    def block_modules(self) -> dict[str, tuple[nn.Module, int]]:
        """{block name: (the block as a standalone module, its input width)}, e.g. for ``blocks_fcrf``."""
        return {spec.name: (self.block(spec, False, parent=None), spec.in_features) for spec in self.block_specs()}

    def block_notes(self) -> dict[str, str]:
        """Per block: IGC/GC groups and whether the real block module has FCRF (clcNet §3.3)."""
        fcrf = clcnet_block_fcrf(self)
        spatial = "IGC" if self.interlace else "GC"
        return {
            spec.name: f"{spatial} 3×3 g1={spec.igc_groups} → GC 1×1 g2={spec.gc_groups}, "
                       f"{'FCRF' if fcrf[spec.name] else 'no FCRF'}"
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


def clcnet_block_fcrf(model: ClcNet) -> dict[str, bool]:
    """{block name: FCRF}, from ``channel_dependency`` of every real CLC block module (clcNet §3.3, §5.2)."""
    return blocks_fcrf(model.block_modules())


_TABLE_5 = "clcNet Table 5 ({}); dqzhang17/clcnet.torch models/clcnet.lua (docs/references.md#clcnet)"
clcnet_a = register_model(
    "clcnet_a", ClcNet, stage_repeats=CLCNET_A_REPEATS,
    reference=ReferenceCounts(3.254e6, 342.97e6, _TABLE_5.format("3.25M / 343M")),
)
clcnet_b = register_model(
    "clcnet_b", ClcNet, stage_repeats=CLCNET_B_REPEATS,
    reference=ReferenceCounts(4.085e6, 424.56e6, _TABLE_5.format("4.1M / 425M")),
)
clcnet_ap = register_model("clcnet_ap", ClcNet, stage_repeats=CLCNET_A_REPEATS, interlace=False)
