"""Activations used by the model families, addressable by name from configs."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp


def relu6(x: jax.Array) -> jax.Array:
    return jnp.clip(x, 0, 6)


def hard_sigmoid(x: jax.Array) -> jax.Array:
    """relu6(x + 3) / 6 (MobileNet V3 §5.2)."""
    return relu6(x + 3.0) / 6.0


def hard_swish(x: jax.Array) -> jax.Array:
    """x · relu6(x + 3) / 6 (MobileNet V3 §5.2)."""
    return x * hard_sigmoid(x)


ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "identity": lambda x: x,
    "relu": jax.nn.relu,
    "relu6": relu6,
    "hard_sigmoid": hard_sigmoid,
    "hard_swish": hard_swish,
    "sigmoid": jax.nn.sigmoid,
    "swish": jax.nn.swish,
}


def activation(name: str) -> Callable[[jax.Array], jax.Array]:
    """The activation called ``name``; unknown names list the valid ones."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; valid: {', '.join(sorted(ACTIVATIONS))}") from None
