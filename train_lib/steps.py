"""The jitted train and eval steps on a data-parallel mesh.

BatchNorm across devices (``bn_mode``):
  global      the model sees the whole global batch; under ``jit`` XLA all-reduces every BN layer's
              moments, so statistics are those of the global batch and the result does not depend on
              the device count.
  per_device  "ghost" BatchNorm: the forward/backward runs under ``shard_map`` over ``data``, each device
              normalising with its own shard's moments (zero BN all-reduces), as the papers' multi-GPU
              PyTorch/Torch/Caffe runs did. Gradients, the new running statistics and the metrics are
              averaged once per step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax.sharding import Mesh, PartitionSpec as P

from train_lib import losses, partitioning
from train_lib.state import TrainState

BN_MODES = ("global", "per_device")
Batch = dict[str, jax.Array]
Metrics = dict[str, jax.Array]
Preprocess = Callable[[jax.Array, jax.Array], jax.Array]  # (images, key) -> network input


def make_train_step(
    model: nn.Module, *, mesh: Mesh, state_shardings: Any, num_classes: int, label_smoothing: float,
    weight_decay: float, weight_decay_params: str, bn_mode: str, ema_decay: float, ema_warmup: bool = True,
    preprocess: Preprocess | None = None,
) -> Callable[[TrainState, Batch, jax.Array], tuple[TrainState, Metrics]]:
    """``train_step(state, batch, rng) -> (state, metrics)``; the state is donated.

    ``preprocess(images, key)`` turns the host's batch images into network input on the device
    (``train_lib.device_preprocessing.train_preprocessing``); ``None`` feeds them as they are. A step's
    keys come from ``fold_in(rng, state.step)``: one for the preprocessing, one for dropout (folded with the
    device index under ``per_device``), so a resumed run draws exactly what an uninterrupted one would.
    Metrics are the step's mean cross-entropy ``loss``, the coupled ``l2`` term and training ``accuracy``.
    """

    def loss_and_grads(params, batch_stats, images, labels, key):
        def loss_fn(p):
            logits, updates = model.apply(
                {"params": p, "batch_stats": batch_stats}, images, train=True, mutable=["batch_stats"],
                rngs={"dropout": key},
            )
            ce = losses.cross_entropy(logits, labels, num_classes=num_classes, label_smoothing=label_smoothing)
            l2 = losses.l2_penalty(p, weight_decay=weight_decay, target=weight_decay_params)
            return jnp.mean(ce) + l2, (updates.get("batch_stats", {}), logits, jnp.mean(ce), l2)

        grads, (new_stats, logits, ce, l2) = jax.grad(loss_fn, has_aux=True)(params)
        metrics = {"loss": ce, "l2": l2, "accuracy": jnp.mean(jnp.argmax(logits, -1) == labels)}
        return grads, new_stats, metrics

    if bn_mode == "global":
        compute = loss_and_grads
    elif bn_mode == "per_device":
        def per_device(params, batch_stats, images, labels, key):
            key = jax.random.fold_in(key, jax.lax.axis_index(partitioning.DATA_AXIS))
            outputs = loss_and_grads(params, batch_stats, images, labels, key)
            return jax.lax.pmean(outputs, partitioning.DATA_AXIS)

        data = P(partitioning.DATA_AXIS)
        compute = jax.shard_map(
            per_device, mesh=mesh, in_specs=(P(), P(), data, data, P()), out_specs=P(), check_vma=False
        )
    else:
        raise ValueError(f"bn_mode={bn_mode!r}; valid: {', '.join(BN_MODES)}")

    def train_step(state: TrainState, batch: Batch, rng: jax.Array) -> tuple[TrainState, Metrics]:
        preprocess_key, dropout_key = jax.random.split(jax.random.fold_in(rng, state.step))
        images = batch["image"] if preprocess is None else preprocess(batch["image"], preprocess_key)
        grads, new_stats, metrics = compute(state.params, state.batch_stats, images, batch["label"], dropout_key)
        state = state.apply_gradients(grads=grads, batch_stats=new_stats)
        return state.apply_ema(ema_decay, warmup=ema_warmup), metrics

    replicated = partitioning.replicated(mesh)
    return jax.jit(
        train_step,
        in_shardings=(state_shardings, partitioning.batch_sharded(mesh), replicated),
        out_shardings=(state_shardings, replicated),
        donate_argnums=0,
    )


def make_eval_step(
    model: nn.Module, *, mesh: Mesh, preprocess: Callable[[jax.Array], jax.Array] | None = None
) -> Callable[[dict[str, Any], Batch], Metrics]:
    """``eval_step(variables, batch) -> sums`` over the examples whose ``mask`` is set (padding excluded);
    ``preprocess(images)`` (``device_preprocessing.eval_preprocessing``) runs first on the device.

    ``variables`` are the model variables to evaluate (``TrainState.eval_variables``: the moving average
    when kept). Sums: ``top1``/``top5`` correct counts, cross-entropy ``loss`` (no smoothing), ``examples``.
    """

    def eval_step(variables: dict[str, Any], batch: Batch) -> Metrics:
        images = batch["image"] if preprocess is None else preprocess(batch["image"])
        logits = model.apply(variables, images, train=False)
        labels, mask = batch["label"], batch["mask"].astype(jnp.float32)
        ce = losses.cross_entropy(logits, labels, num_classes=logits.shape[-1], label_smoothing=0.0)
        top5 = jax.lax.top_k(logits, min(5, logits.shape[-1]))[1]
        return {
            "top1": jnp.sum((jnp.argmax(logits, -1) == labels) * mask),
            "top5": jnp.sum(jnp.any(top5 == labels[:, None], axis=-1) * mask),
            "loss": jnp.sum(ce * mask),
            "examples": jnp.sum(mask),
        }

    replicated = partitioning.replicated(mesh)
    return jax.jit(eval_step, in_shardings=(replicated, partitioning.batch_sharded(mesh)), out_shardings=replicated)
