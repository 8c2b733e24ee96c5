"""Autotuning a model's structured ops before its train step is traced (``config.ops_autotune``).

``lightnets.ops.autotune`` does the measuring; this module gives it a model's train-mode forward pass at
the batch shape the train step traces (keys of the tuned choices include it). The eval step (train=False,
eval batch) traces other calls and keeps the static table.
"""

from __future__ import annotations

import os

import flax.linen as nn
import jax
import jax.numpy as jnp

from lightnets import ops


def autotune_model(
    model: nn.Module, image_shape: tuple[int, int, int, int], *, cache_dir: str | os.PathLike | None,
    time_budget_s: float,
) -> ops.AutotuneResult:
    """Tunes every structured-op call of ``model``'s train-mode forward on ``image_shape`` ([N, H, W, C]
    float32 images, N the batch the train step traces the model at) and makes ``impl='auto'`` use the winners (see
    ``lightnets.ops.autotune`` for ``cache_dir`` and ``time_budget_s``). Nothing is run but the ops' timings.
    """
    images = jax.ShapeDtypeStruct(image_shape, jnp.float32)
    variables = jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), images)

    def forward(variables, images):
        return model.apply(variables, images, train=True, mutable=["batch_stats"], rngs={"dropout": jax.random.key(0)})

    return ops.autotune(forward, variables, images, cache_dir=cache_dir, time_budget_s=time_budget_s)


def describe(result: ops.AutotuneResult) -> str:
    """One line: how many calls were measured, loaded from the cache or left to the static table, how many
    tuned choices are in use and how many were rejected in context, and where the cache is."""
    where = f"cache {result.cache_file}" if result.cache_file else "no cache"
    return (f"{len(result.timings)} op calls measured, {len(result.cached)} from cache, {len(result.skipped)} left "
            f"to the static table (time budget); {len(result.choices)} tuned choices in use, "
            f"{len(result.rejected)} per-call winners rejected in context; {result.seconds:.1f} s; {where}")
