"""Explicit spatial padding for convolutions.

Reference codes differ: PyTorch/Caffe/Torch pad ``k // 2`` on every side ("symmetric"), TF-slim uses
``'SAME'`` (the extra row/column of an even total goes bottom/right). Both give the same output size for
odd kernels; at stride 2 they sample different pixels. Models expose the choice as ``padding``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

PadPairs = tuple[tuple[int, int], tuple[int, int]]
Padding = Union[str, Sequence[tuple[int, int]]]

PADDINGS = ("symmetric", "SAME", "VALID")


def explicit_padding(
    padding: Padding, kernel_size: Sequence[int], strides: Sequence[int], input_hw: Sequence[int]
) -> PadPairs:
    """Returns ``((top, bottom), (left, right))`` for a padding mode or explicit pairs."""
    if not isinstance(padding, str):
        pairs = tuple((int(a), int(b)) for a, b in padding)
        if len(pairs) != 2 or min(min(p) for p in pairs) < 0:
            raise ValueError(f"explicit padding must be two non-negative (before, after) pairs, got {padding!r}")
        return pairs  # type: ignore[return-value]
    if padding == "VALID":
        return ((0, 0), (0, 0))
    if padding == "symmetric":
        if any(k % 2 == 0 for k in kernel_size):
            raise ValueError(
                f"padding='symmetric' needs odd kernels, got {tuple(kernel_size)}; even kernels need an "
                "explicit corner (see lightnets.ops.even_kernel)"
            )
        return tuple((k // 2, k // 2) for k in kernel_size)  # type: ignore[return-value]
    if padding == "SAME":
        pairs = []
        for size, k, s in zip(input_hw, kernel_size, strides):
            out = -(-size // s)
            total = max((out - 1) * s + k - size, 0)
            pairs.append((total // 2, total - total // 2))
        return tuple(pairs)  # type: ignore[return-value]
    raise ValueError(f"unknown padding {padding!r}; valid: {', '.join(PADDINGS)} or explicit pairs")


def output_size(
    input_hw: Sequence[int], window: Sequence[int], strides: Sequence[int], pads: PadPairs
) -> tuple[int, int]:
    """(H_out, W_out) of a k_h×k_w window sliding at ``strides`` over an input padded by ``pads``."""
    return tuple((size + before + after - k) // s + 1  # type: ignore[return-value]
                 for size, k, s, (before, after) in zip(input_hw, window, strides, pads))
