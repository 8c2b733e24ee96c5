"""Spatially separable depthwise convolution (XSepConv, Chen et al. 2020, §3.1, Fig. 1).

A k×k depthwise kernel is replaced by a 1×k (width-wise) then a k×1 (height-wise) depthwise kernel.
Downsampling is split across the two: stride (1, s) on the 1×k, then (s, 1) on the k×1 (Fig. 1b).
"""

from __future__ import annotations

Stage = tuple[tuple[int, int], tuple[int, int]]


def separable_depthwise_stages(kernel_size: int, stride: int = 1) -> tuple[Stage, Stage]:
    """((kernel, strides) of the 1×k stage, (kernel, strides) of the k×1 stage)."""
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"spatially separable depthwise needs an odd kernel_size, got {kernel_size}")
    if stride not in (1, 2):
        raise ValueError(f"stride must be 1 or 2, got {stride}")
    return ((1, kernel_size), (1, stride)), ((kernel_size, 1), (stride, 1))
