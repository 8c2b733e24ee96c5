"""The train state (params, optimizer state, BN statistics, optional EMA params), created directly sharded."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax.training import train_state
from jax.sharding import Mesh

from train_lib import partitioning


class TrainState(train_state.TrainState):
    """Flax's TrainState plus ``batch_stats`` and ``ema_params`` (EMA of params; None when EMA is off)."""

    batch_stats: Any
    ema_params: Any

    def apply_ema(self, decay: float) -> "TrainState":
        """Polyak/EMA averaging ``ema ← decay·ema + (1 − decay)·params`` (identity when EMA is off)."""
        if self.ema_params is None:
            return self
        ema = jax.tree.map(lambda e, p: decay * e + (1 - decay) * p, self.ema_params, self.params)
        return self.replace(ema_params=ema)

    @property
    def eval_params(self):
        """The parameters to evaluate: the EMA when kept, else the trained ones."""
        return self.params if self.ema_params is None else self.ema_params


def initial_variables(model: nn.Module, *, rng: jax.Array, image_size: int) -> dict[str, Any]:
    """``model.init`` on one zero image (float32)."""
    return model.init(rng, jnp.zeros((1, image_size, image_size, 3), jnp.float32), train=False)


def create_train_state(
    model: nn.Module, tx: optax.GradientTransformation, *, rng: jax.Array, image_size: int, mesh: Mesh,
    use_ema: bool,
) -> tuple[TrainState, Any]:
    """Initialises the state with every array created replicated on ``mesh``; returns (state, shardings).

    The shapes come from ``jax.eval_shape`` so nothing is materialised on the host first; the same
    shardings serve checkpoint restore.
    """

    def init(key: jax.Array) -> TrainState:
        variables = initial_variables(model, rng=key, image_size=image_size)
        return TrainState.create(
            apply_fn=model.apply, params=variables["params"], tx=tx,
            batch_stats=variables.get("batch_stats", {}), ema_params=variables["params"] if use_ema else None,
        )

    abstract = jax.eval_shape(init, rng)
    shardings = jax.tree.map(lambda _: partitioning.replicated(mesh), abstract)
    return jax.jit(init, out_shardings=shardings)(rng), shardings
