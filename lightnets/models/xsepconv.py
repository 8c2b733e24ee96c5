"""MobileNet V3-Small with XSepConv (Chen, Lu, Xue, Liao 2020, arXiv:2002.12046, §4.2;
docs/references.md#xsepconv). The XSepConv op itself (§3.1, Fig. 1, the Fig. 6 arrangements) is
``lightnets.ops.XSepConv``.

``MobileNetV3SmallXSep`` (§4.2): MobileNet V3-Small (``lightnets.models.mobilenet_v3``) whose four stride-1 5×5
depthwise convs of the 40/48-channel stage become XSepConv(k=5) and whose two stride-1 5×5 convs of the
96-channel stage become XSepConv(k=3); stride-2 layers stay 5×5 depthwise. That gives N = 6 even-kernel
layers (N % 4 = 2, as §4.3 notes). Padding corners (§3.2, ``padding_strategy``):
  'improved'           layer i of the N 2×2 layers of the whole network pads ``improved_padding_schedule(N)[i]``:
                       right-bottom, left-top, left-bottom, right-top, right-bottom, left-top (default; the
                       paper's schedule is defined over "the N layers with even-sized kernels");
  'improved_per_stage' the schedule restarts in every stage (what the only unofficial code does; it never uses
                       C2SP). Identical to 'improved' for the default layout, different once stride-2 layers
                       are replaced too;
  'original'           Wu et al.'s C2SP in every 2×2 layer (Table 3's "Original-Padding").
Other options: ``middle_kernel_size=7`` (§4.2 "Larger Kernels", Fig. 5), ``downsample_kernel_size=7`` (§4.2
"Downsampling", Fig. 4: the first stride-2 5×5 depthwise becomes a downsampling XSepConv(k=7)).
``small_input`` is MobileNet V3-Small's: total stride 8, so CIFAR/SVHN (32 px) end on 4×4 and Tiny-ImageNet
(56 px crops) on 7×7. The one cost ratio the paper's text states (§4.2), the 4.75% MAdds saving on
Tiny-ImageNet, is reproduced by this geometry with 200 classes; Table 1's absolute counts are not checked here.
"""

from __future__ import annotations

from collections.abc import Sequence

from lightnets.blocks import SpatialFactory
from lightnets.models.mobilenet_v3 import V3_SMALL_BLOCKS, MobileNetV3Small, block_stages
from lightnets.ops import ARRANGEMENTS, C2SP, XSepConv, improved_padding_schedule
from lightnets.registry import register_model

PADDING_STRATEGIES = ("improved", "improved_per_stage", "original")
MIDDLE_STAGE, LAST_STAGE = 3, 4  # stage indices (``block_stages``) of the 40/48- and 96-channel stages
# "The first 5×5 depthwise convolution of stride 2" (§4.2 Downsampling): block4 (24 → 40).
FIRST_5X5_DOWNSAMPLING = next(
    index for index, spec in enumerate(V3_SMALL_BLOCKS) if spec.stride == 2 and spec.kernel_size == 5
)


class MobileNetV3SmallXSep(MobileNetV3Small):
    """MobileNet V3-Small with XSepConv (XSepConv §4.2); see the module docstring.

    Attributes:
      middle_kernel_size: k of the XSepConvs of the 40/48-channel stage (5; 7 for §4.2 "Larger Kernels").
      last_kernel_size: k of the XSepConvs of the 96-channel stage (3).
      downsample_kernel_size: 0 keeps the first stride-2 5×5 depthwise; an odd k replaces it by a
        downsampling XSepConv(k) (Fig. 1b; the paper uses 7).
      arrangement: 'front', 'none', 'behind' or 'parallel' (Fig. 6).
      padding_strategy: 'improved', 'improved_per_stage' or 'original' (§3.2, Table 3).
    """

    middle_kernel_size: int = 5
    last_kernel_size: int = 3
    downsample_kernel_size: int = 0
    arrangement: str = "front"
    padding_strategy: str = "improved"

    def check_options(self) -> None:
        super().check_options()
        for field in ("middle_kernel_size", "last_kernel_size"):
            size = getattr(self, field)
            if size < 1 or size % 2 == 0:
                raise ValueError(f"{field} must be a positive odd kernel size, got {size!r}")
        if self.downsample_kernel_size and (self.downsample_kernel_size < 1 or self.downsample_kernel_size % 2 == 0):
            raise ValueError(
                "downsample_kernel_size must be 0 (keep the depthwise conv) or a positive odd kernel size, "
                f"got {self.downsample_kernel_size!r}"
            )
        if self.arrangement not in ARRANGEMENTS:
            raise ValueError(f"unknown XSepConv arrangement {self.arrangement!r}; valid: {', '.join(ARRANGEMENTS)}")
        if self.padding_strategy not in PADDING_STRATEGIES:
            raise ValueError(
                f"unknown padding_strategy {self.padding_strategy!r}; valid: {', '.join(PADDING_STRATEGIES)}"
            )

    def xsep_kernel_sizes(self) -> dict[int, int]:
        """Block index → XSepConv kernel size, for every block whose depthwise stage XSepConv replaces."""
        stages = block_stages()
        sizes = {
            index: self.middle_kernel_size if stages[index] == MIDDLE_STAGE else self.last_kernel_size
            for index, spec in enumerate(V3_SMALL_BLOCKS)
            if spec.stride == 1 and stages[index] in (MIDDLE_STAGE, LAST_STAGE)
        }
        if self.downsample_kernel_size:
            sizes[FIRST_5X5_DOWNSAMPLING] = self.downsample_kernel_size
        return dict(sorted(sizes.items()))

    def padding_modes(self) -> dict[int, str]:
        """Block index → padding mode of its 2×2 depthwise layer (blocks with one, in network order)."""
        blocks = list(self.xsep_kernel_sizes()) if self.arrangement != "none" else []
        if self.padding_strategy == "original":
            return {index: C2SP for index in blocks}
        if self.padding_strategy == "improved":
            return dict(zip(blocks, improved_padding_schedule(len(blocks))))
        stages = block_stages()
        modes = {}
        for stage in sorted({stages[i] for i in blocks}):
            in_stage = [i for i in blocks if stages[i] == stage]
            modes.update(zip(in_stage, improved_padding_schedule(len(in_stage), last_layer_c2sp=False)))
        return modes

    def spatial_stage(self, index: int, train: bool) -> SpatialFactory | None:
        kernel_size = self.xsep_kernel_sizes().get(index)
        if kernel_size is None:
            return None
        padding_mode = self.padding_modes().get(index, C2SP)  # unused by arrangement 'none'
        act, norm = V3_SMALL_BLOCKS[index].act, self.norm(train)

        def xsep(features: int, strides: Sequence[int], name: str) -> XSepConv:
            del features  # XSepConv takes its width from its input
            return XSepConv(
                kernel_size, norm, padding_mode=padding_mode, strides=strides, arrangement=self.arrangement, act=act,
                padding=self.padding, dtype=self.dtype, param_dtype=self.param_dtype, name=name,
            )

        return xsep


mobilenet_v3_small_xsep = register_model("mobilenet_v3_small_xsep", MobileNetV3SmallXSep)
