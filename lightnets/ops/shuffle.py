"""Channel shuffle (ShuffleNet V1 §3.1, Fig. 1c): lets information cross the groups of grouped convs.

Paper direction: reshape the C channels to (g, C/g), transpose, flatten; output channel j·g + i is input
channel i·(C/g) + j. The official megvii code reshapes to (C/g, g) instead, which is the inverse
permutation (docs/references.md#shufflenet-v1); both mix the groups completely. ``inverse=True`` selects it.

Implementations: ``reshape`` (canonical: reshape-transpose-reshape) and ``gather`` (one take along C).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from lightnets.ops.dispatch import register_op, resolve_impl

IMPLS = ("reshape", "gather")


def shuffle_permutation(channels: int, groups: int, *, inverse: bool = False) -> np.ndarray:
    """Index array ``p`` with ``shuffled[..., k] = x[..., p[k]]``."""
    if groups < 1 or channels % groups:
        raise ValueError(f"channel shuffle: groups={groups} must divide channels={channels}")
    shape = (channels // groups, groups) if inverse else (groups, channels // groups)
    return np.arange(channels).reshape(shape).T.reshape(-1)


def channel_shuffle(x: jax.Array, groups: int, *, inverse: bool = False, impl: str = "auto") -> jax.Array:
    """Shuffles the last (channel) axis of ``x`` across ``groups`` groups."""
    channels = x.shape[-1]
    perm = shuffle_permutation(channels, groups, inverse=inverse)
    chosen = resolve_impl(
        "channel_shuffle", impl, IMPLS, applicable=IMPLS, arrays=(x,), options={"groups": groups, "inverse": inverse})
    if chosen == "gather":
        return jnp.take(x, perm, axis=-1)
    rows = (channels // groups, groups) if inverse else (groups, channels // groups)
    y = x.reshape(*x.shape[:-1], *rows)
    return jnp.swapaxes(y, -1, -2).reshape(x.shape)


register_op("channel_shuffle", lambda x, **options: channel_shuffle(x, **options))


def permutation_mask(perm: np.ndarray) -> np.ndarray:
    """Boolean [C_in, C_out] channel dependency graph of ``y[..., k] = x[..., perm[k]]``."""
    mask = np.zeros((perm.size, perm.size), dtype=bool)
    mask[perm, np.arange(perm.size)] = True
    return mask
