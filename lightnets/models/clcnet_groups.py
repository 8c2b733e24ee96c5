"""clcNet's cost minimisation for a CLC block (clcNet, Zhang 2018, §3.3, eq. 2; Table 1).

A CLC block stacks a 3×3 IGC (M → L channels, g1 groups) and a 1×1 GC (L → N, g2 groups). Its cost per
output location (equal to its parameter count) is C(g1, g2) = A·L·M/g1 + N·L/g2, minimised over integer
group counts dividing the channel counts, subject to the FCRF rule g1·g2 ≤ L (eq. 1). The space is small,
so it is solved by enumeration, as the paper does.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, order=True)
class ClcGroups:
    cost: int
    g1: int
    g2: int


def clc_block_cost(m: int, l: int, n: int, g1: int, g2: int, *, kernel_area: int = 9) -> int:  # noqa: E741
    """Eq. 2: multiply-adds per location of IGC(M→L, g1, A taps) + GC(L→N, g2)."""
    return kernel_area * l * m // g1 + n * l // g2


def feasible_groups(m: int, l: int, n: int, *, g2: int | None = None) -> list[tuple[int, int]]:  # noqa: E741
    """All (g1, g2) satisfying eq. 2's constraints: g1 | M, L; g2 | L, N; g1·g2 ≤ L (FCRF, eq. 1)."""
    g2_choices = [g2] if g2 is not None else range(1, min(l, n) + 1)
    return [
        (a, b)
        for a in range(1, min(m, l) + 1) if m % a == 0 and l % a == 0
        for b in g2_choices if l % b == 0 and n % b == 0 and a * b <= l
    ]


def minimize_clc_cost(m: int, l: int, n: int, *, kernel_area: int = 9, g2: int | None = None) -> ClcGroups:  # noqa: E741
    """The (g1, g2) of least cost (clcNet Table 1); ``g2`` fixes the GC groups as clcNet §4.1 does (g2=2).

    Ties (none occur in Table 1) go to the larger g1, i.e. fewer channels per IGC group.
    """
    candidates = feasible_groups(m, l, n, g2=g2)
    if not candidates:
        raise ValueError(f"no feasible CLC groups for M={m}, L={l}, N={n}, g2={g2}")
    return min(
        (ClcGroups(clc_block_cost(m, l, n, a, b, kernel_area=kernel_area), a, b) for a, b in candidates),
        key=lambda c: (c.cost, -c.g1),
    )
