"""Channel-count arithmetic shared by the model families."""

from __future__ import annotations

from collections.abc import Sequence


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None, round_limit: float = 0.9) -> int:
    """Rounds ``value`` to a multiple of ``divisor``, never below ``round_limit`` of it.

    TF-slim ``_make_divisible`` (MobileNet V2/V3 reference code), used for widths and SE squeeze sizes.
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < round_limit * value:
        rounded += divisor
    return rounded


def split_by_ratio(channels: int, ratio: Sequence[int]) -> tuple[int, ...]:
    """Contiguous group sizes in proportion ``ratio``, each ``channels·r // sum(ratio)``, the last taking the rest.

    ``split_by_ratio(C, (1, 3))`` is SeesawNet's [C//4 | C - C//4] (docs/references.md#seesawnet).
    """
    if not ratio or min(ratio) < 1:
        raise ValueError(f"split ratio must be positive integers, got {tuple(ratio)}")
    total = sum(ratio)
    sizes = [channels * r // total for r in ratio[:-1]]
    sizes.append(channels - sum(sizes))
    if min(sizes) < 1:
        raise ValueError(f"cannot split {channels} channels in ratio {tuple(ratio)}: a group would be empty")
    return tuple(sizes)
