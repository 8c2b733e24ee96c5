"""clcNet's cost minimisation (clcNet, Zhang 2018, eq. 2; ``lightnets.models.clcnet_groups``) and FCRF rule (eq. 1)
against the CDG of real modules."""

import flax.linen as nn
import numpy as np
import pytest

from lightnets.analysis import channel_dependency, compose, has_full_channel_receptive_field
from lightnets.models.clcnet_groups import clc_block_cost, feasible_groups, minimize_clc_cost
from lightnets.ops import GroupedConv, InterlacedGroupConv

# clcNet Table 1: (M, L, N) -> (g1, g2).
TABLE_1 = {
    (32, 32, 64): (16, 2), (64, 64, 128): (16, 4), (128, 128, 256): (32, 4), (256, 256, 512): (32, 8),
    (512, 512, 1024): (64, 8), (64, 64, 64): (32, 2), (128, 128, 128): (32, 4), (256, 256, 256): (64, 4),
    (512, 512, 512): (64, 8), (1024, 1024, 1024): (128, 8),
}


@pytest.mark.parametrize("mln,expected", TABLE_1.items())
def test_reproduces_table_1(mln, expected):
    best = minimize_clc_cost(*mln)
    assert (best.g1, best.g2) == expected
    assert best.cost == clc_block_cost(*mln, *expected)


def test_fixed_g2_picks_two_channels_per_igc_group():
    # clcNet §4.1 / Table 2: g2 = 2 and L = M give g1 = M / 2.
    for m, n in [(32, 64), (64, 128), (128, 128), (256, 512), (1024, 1024)]:
        assert minimize_clc_cost(m, m, n, g2=2).g1 == m // 2


def test_every_feasible_pair_obeys_the_constraints():
    for g1, g2 in feasible_groups(48, 24, 36):
        assert 48 % g1 == 0 and 24 % g1 == 0 and 24 % g2 == 0 and 36 % g2 == 0 and g1 * g2 <= 24


def test_infeasible_raises():
    with pytest.raises(ValueError, match="no feasible"):
        minimize_clc_cost(3, 3, 5, g2=2)


class ClcPair(nn.Module):
    """IGC (or plain GC) 3×3 then GC 1×1, as in clcNet Fig. 6."""

    l: int
    n: int
    g1: int
    g2: int
    interlaced: bool = True

    @nn.compact
    def __call__(self, x):
        first = InterlacedGroupConv if self.interlaced else GroupedConv
        x = first(self.l, (3, 3), groups=self.g1)(x)
        return GroupedConv(self.n, groups=self.g2)(x)


def _random_clc_shapes(rng, count):
    shapes = []
    while len(shapes) < count:
        g1, g2 = rng.integers(1, 7, size=2)
        m = g1 * rng.integers(1, 4)
        l_ = int(np.lcm(g1, g2) * rng.integers(1, 4))
        n = g2 * rng.integers(1, 4)
        shapes.append((int(m), l_, int(n), int(g1), int(g2)))
    return shapes


@pytest.mark.parametrize("m,l_,n,g1,g2", _random_clc_shapes(np.random.default_rng(0), 40))
def test_fcrf_rule_agrees_with_the_channel_dependency_graph(m, l_, n, g1, g2):
    igc, gc = InterlacedGroupConv(l_, groups=g1), GroupedConv(n, groups=g2)
    composed = compose(igc.channel_mask(m), gc.channel_mask(l_))
    assert has_full_channel_receptive_field(composed) == (g1 * g2 <= l_)


@pytest.mark.parametrize("m,l_,n,g1,g2", [(8, 8, 16, 4, 2), (8, 8, 16, 4, 4), (12, 12, 6, 6, 2), (6, 12, 6, 3, 3)])
def test_probed_graph_equals_composed_masks(m, l_, n, g1, g2):
    probed = channel_dependency(ClcPair(l_, n, g1, g2), m)
    composed = compose(InterlacedGroupConv(l_, groups=g1).channel_mask(m), GroupedConv(n, groups=g2).channel_mask(l_))
    np.testing.assert_array_equal(probed, composed)
    assert has_full_channel_receptive_field(probed) == (g1 * g2 <= l_)


def test_plain_gc_pair_lacks_fcrf_where_igc_has_it():
    # clcNet-Ap (clcNet Table 4): replacing IGC by GC loses the full channel receptive field.
    assert has_full_channel_receptive_field(channel_dependency(ClcPair(8, 16, 4, 2), 8))
    assert not has_full_channel_receptive_field(channel_dependency(ClcPair(8, 16, 4, 2, interlaced=False), 8))
