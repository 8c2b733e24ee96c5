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
    """Flax's TrainState plus ``batch_stats`` and ``ema``: the exponential moving average of the model
    variables ``{'params', 'batch_stats'}`` (None when EMA is off)."""

    batch_stats: Any
    ema: Any

    @property
    def variables(self) -> dict[str, Any]:
        """The trained model variables ``{'params', 'batch_stats'}``."""
        return {"params": self.params, "batch_stats": self.batch_stats}

    def apply_ema(self, decay: float, *, warmup: bool) -> "TrainState":
        """One update of the moving average of the model variables (identity when EMA is off).

        ``ema ← d·ema + (1 − d)·variables`` over the params *and* the BN moving statistics, with
        ``d = min(decay, (1 + t)/(10 + t))`` when ``warmup`` (t = updates before this one, i.e. the step
        count before this step) — TensorFlow's ``tf.train.ExponentialMovingAverage(decay,
        num_updates=global_step)`` over the model variables, as TF-slim's ``train_image_classifier.py``
        averages them — or ``d = decay`` when not. Call after ``apply_gradients`` (``self.step`` is t + 1).
        """
        if self.ema is None:
            return self
        if warmup:
            updates = jnp.asarray(self.step - 1, jnp.float32)
            decay = jnp.minimum(decay, (1.0 + updates) / (10.0 + updates))
        ema = jax.tree.map(lambda e, v: decay * e + (1 - decay) * v, self.ema, self.variables)
        return self.replace(ema=ema)

    @property
    def eval_variables(self) -> dict[str, Any]:
        """The variables to evaluate: the moving average when kept, else the trained ones."""
        return self.variables if self.ema is None else self.ema


def initial_variables(
    model: nn.Module, *, rng: jax.Array, image_size: int, capture_intermediates: bool = False,
) -> dict[str, Any]:
    """``model.init`` on one zero image (float32); ``capture_intermediates`` adds every module's output."""
    return model.init(rng, jnp.zeros((1, image_size, image_size, 3), jnp.float32), train=False,
                      capture_intermediates=capture_intermediates)


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
            batch_stats=variables.get("batch_stats", {}),
            ema={"params": variables["params"], "batch_stats": variables.get("batch_stats", {})} if use_ema else None,
        )

    abstract = jax.eval_shape(init, rng)
    shardings = jax.tree.map(lambda _: partitioning.replicated(mesh), abstract)
    return jax.jit(init, out_shardings=shardings)(rng), shardings
