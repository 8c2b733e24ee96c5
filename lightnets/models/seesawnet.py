"""SeesawNet (Jintao Zhang 2019, "SeesawNet: Convolution Neural Network With Uneven Group Convolution";
arXiv:1905.03672) as the reference PyTorch code ``cvtower/SeesawNet_pytorch`` builds it
(docs/references.md#seesawnet).

Seesaw block (§4.1, Table 1; ``lightnets.blocks.InvertedResidual``): uneven 1×1 group conv (input split
[C/4 | 3C/4] → [E/4 | 3E/4], one BN over all E channels, no activation) → even 2-group shuffle → 3×3
depthwise → BN → ReLU6 → uneven 1×1 group conv → BN (linear) → + x inside a stage. The shuffle does not
line up with the 1:3 group boundary. Blocks whose input has ``even_from_features`` (160) channels or more
are plain IGCV3 blocks (g=2 both 1×1s, shuffle(2)): the last five 160-channel blocks and the 320 block.
Network: IGCV3-D (Table 2, ``lightnets.models.igcv3``): stem 3×3/2 conv 32, (t, c, n, s) = (1,16,1,1)
(6,24,4,2) (6,32,6,2) (6,64,8,2) (6,96,6,1) (6,160,6,2) (6,320,1,1), the t=1 block expanding too; 1×1 conv
1280 head, FC with bias. 0.5D has MobileNet V2's depths (1,2,3,4,3,3,1).

Counts: seesaw_shuffle_d100 3.644M params / 360.95M MAdds at 224 px (Table 5: 3.6M / 361M); 0.5D 2.728M /
209.27M. With ``small_input`` at 32 px: 2.376M / 181.11M (CIFAR-10) and 2.491M / 181.22M (CIFAR-100),
Tables 3–4's 2.4M / 2.5M / 181M; 0.5D 1.460M / 108.21M and 1.575M / 108.33M (1.5M / 1.6M / 108M). The
paper's params include BN γβ (weights only: 2.31M).

Seesaw-share (§6.1, Fig. 1d): no classification code exists. Chosen by analogy (docs/references.md#seesawnet): the
split order of ``cvtower/seesawfacenet_pytorch``'s share net (the second 1×1 splits the other way round,
[3E/4 → 3C_out/4 | E/4 → C_out/4], so its big group reads the first layer's whole small group and half of
its big one) with the classification net's BN/activation placement, and no permutation anywhere (the
even blocks included: "Seesaw-shareNet does not include any channel permute/shuffle operation"). Its
counts equal Seesaw-shuffle's, so with the default 1:3 split and ``small_input`` ``seesaw_share_d100`` /
``_d050`` are meant to reproduce the "Seesaw-shareNet (v1 1.0D)" 2.4M / 181M and "(v1 0.5D)" 1.5M / 108M
rows of Table 3 (Table 4: 2.5M, 1.6M). The v0 rows and Table 6 (1:2 split, "channels minimally modified")
cannot be pinned: ``split_ratio=(1, 2), round_widths_to_split=True`` gives 2.322M / 174.03M (1.0D) and
1.429M / 104.61M (0.5D) on CIFAR-10, near the v0 rows' 2.3M / 175M and 1.4M / 104M; Table 6's < 60M
networks differ in ways the paper does not state.

Options (fields, besides IGCV3-D's ``depths``, ``permute``, ``small_input`` and ``dropout_rate``):
  width_multiplier: widths c·m truncated with int(), as the reference code; the head stays 1280 unless m > 1.
  split_ratio: (small, big) split of the uneven 1×1s, 1:3 in the code; every width an uneven conv sees
    must divide by small + big (a ValueError otherwise).
  share_channels: the share arrangement of the second uneven 1×1 (above).
  even_from_features: input width from which blocks are even IGCV3 blocks (the code's 160, not scaled).
  round_widths_to_split: rounds every width to the nearest multiple of lcm(small + big, 2) so that both the
    uneven split and the even g=2 blocks divide (the paper's "minimum modification" of channels for 1:2).
  small_input: CIFAR geometry of the reference code with ``downsampling: 4``: stem, 24- and 160-channel
    stages at stride 1, total stride 4, 8×8 final map at 32 px; dropout 0.5 before the FC.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import flax.linen as nn

from lightnets.blocks import PointwiseFactory
from lightnets.models.igcv3 import (
    D050_DEPTHS, POINTWISE_GROUPS, BlockSpec, GroupedInvertedResidualNet, grouped_pointwise, round_half_up,
)
from lightnets.ops import UnevenGroupConv, split_by_ratio
from lightnets.registry import ReferenceCounts, register_model

EVEN_FROM_FEATURES = 160


def uneven_pointwise(
    in_features: int, out_features: int, name: str, *, expand_ratio: Sequence[int], project_ratio: Sequence[int],
    **kwargs: Any,
) -> nn.Module:
    """The Seesaw uneven 1×1 (a ``PointwiseFactory``): ``expand_ratio`` for the block's 'expand' conv,
    ``project_ratio`` for its 'project' conv, each splitting input and output widths alike."""
    ratio = expand_ratio if name == "expand" else project_ratio
    return UnevenGroupConv(
        split_by_ratio(in_features, ratio), split_by_ratio(out_features, ratio), (1, 1), name=name, **kwargs
    )


class SeesawNet(GroupedInvertedResidualNet):
    """Seesaw-shuffle / Seesaw-share on IGCV3-D; see the module docstring for the options."""

    split_ratio: tuple[int, int] = (1, 3)
    share_channels: bool = False
    even_from_features: int = EVEN_FROM_FEATURES
    round_widths_to_split: bool = False

    def width_divisor(self) -> int:
        return math.lcm(sum(self.split_ratio), POINTWISE_GROUPS)

    def scaled_width(self, features: int) -> int:
        width = int(features * self.width_multiplier)
        if self.round_widths_to_split:
            divisor = self.width_divisor()
            width = max(divisor, round_half_up(width / divisor) * divisor)
        return width

    def check_options(self) -> None:
        super().check_options()
        ratio = tuple(self.split_ratio)
        if len(ratio) != 2 or not all(isinstance(r, int) and r >= 1 for r in ratio):
            raise ValueError(f"split_ratio must be two positive integers (small, big), e.g. (1, 3) or (1, 2); "
                             f"got {self.split_ratio!r}")

    def is_even(self, spec: BlockSpec) -> bool:
        return spec.in_features >= self.even_from_features

    def block_specs(self) -> tuple[BlockSpec, ...]:
        specs = super().block_specs()
        parts = sum(self.split_ratio)
        for spec in specs:
            widths = (spec.in_features, spec.expanded_features, spec.out_features)
            if not self.is_even(spec) and any(w % parts for w in widths):
                raise ValueError(
                    f"split_ratio {tuple(self.split_ratio)}: {spec.name} has widths {widths} "
                    f"(in, expanded, out); each must divide by {parts}. Choose a width_multiplier whose widths "
                    "divide, or set round_widths_to_split=True"
                )
        return specs

    def grouping(self, spec: BlockSpec) -> dict[str, Any]:
        pointwise: PointwiseFactory
        if self.is_even(spec):
            pointwise = functools.partial(grouped_pointwise, conv=self.conv(), groups=POINTWISE_GROUPS)
        else:
            ratio = tuple(self.split_ratio)
            pointwise = functools.partial(
                uneven_pointwise, expand_ratio=ratio, project_ratio=ratio[::-1] if self.share_channels else ratio,
                dtype=self.dtype, param_dtype=self.param_dtype,
            )
        return {"pointwise": pointwise, "shuffle_groups": POINTWISE_GROUPS if self.permute else 0}

    def grouping_note(self, spec: BlockSpec) -> str:
        small, big = self.split_ratio
        if self.is_even(spec):
            note = f"GC g={POINTWISE_GROUPS}"
        else:
            note = f"uneven {small}:{big}" + (f" → {big}:{small} (share)" if self.share_channels else "")
        return note + (f" + shuffle({POINTWISE_GROUPS})" if self.permute else "")


_TABLE_5 = "SeesawNet Table 5 (3.6M / 361M); cvtower/SeesawNet_pytorch seesaw.py (docs/references.md#seesawnet)"
seesaw_shuffle_d100 = register_model(
    "seesaw_shuffle_d100", SeesawNet, reference=ReferenceCounts(3.644e6, 360.95e6, _TABLE_5)
)
seesaw_shuffle_d050 = register_model(
    "seesaw_shuffle_d050", SeesawNet, depths=D050_DEPTHS,
    reference=ReferenceCounts(2.728e6, 209.27e6, "cvtower/SeesawNet_pytorch seesaw_half.py (not in the paper)"),
)
seesaw_share_d100 = register_model("seesaw_share_d100", SeesawNet, share_channels=True, permute=False)
seesaw_share_d050 = register_model(
    "seesaw_share_d050", SeesawNet, share_channels=True, permute=False, depths=D050_DEPTHS
)
