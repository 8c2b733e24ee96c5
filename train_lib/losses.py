"""Softmax cross-entropy with label smoothing and the papers' coupled L2 weight decay."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

WEIGHT_DECAY_TARGETS = ("kernels", "kernels_except_depthwise", "all")


def cross_entropy(logits: jax.Array, labels: jax.Array, *, num_classes: int, label_smoothing: float) -> jax.Array:
    """Per-example softmax cross-entropy (float32) against one-hot labels smoothed by ``label_smoothing``."""
    targets = optax.smooth_labels(jax.nn.one_hot(labels, num_classes, dtype=jnp.float32), label_smoothing)
    return optax.softmax_cross_entropy(logits.astype(jnp.float32), targets)


def is_decayed(path: tuple[str, ...], leaf: jax.Array, *, target: str) -> bool:
    """Whether weight decay applies to the parameter at ``path`` under ``target``.

    'kernels': conv/FC weights (every ``kernel*`` leaf), not biases or BN γ/β — as the ShuffleNet reference
    code (megvii-model/ShuffleNet-Series utils.get_parameters) and TF-slim's l2 regularisers do.
    'kernels_except_depthwise': also skips depthwise kernels (HWIO with one input channel per group and a
    spatial window), as MobileNets §3.2 puts "very little or no weight decay" on them (TF-slim's MobileNet
    arg scopes leave separable_conv2d unregularised). 'all': every parameter, as Caffe solvers, Torch's
    optim.sgd and PyTorch's SGD over model.parameters() do (SqueezeNet, SqueezeNext, clcNet, SeesawNet).
    """
    if target == "all":
        return True
    if not path[-1].startswith("kernel"):
        return False
    if target == "kernels_except_depthwise":
        return not (leaf.ndim == 4 and leaf.shape[2] == 1 and leaf.shape[0] * leaf.shape[1] > 1)
    return True


def l2_penalty(params, *, weight_decay: float, target: str) -> jax.Array:
    """Coupled L2 term ``weight_decay/2 · Σ w²`` (TF ``l2_regularizer`` ≡ PyTorch/Caffe ``weight_decay``)."""
    if weight_decay == 0:
        return jnp.zeros((), jnp.float32)
    squares = [
        jnp.sum(jnp.square(leaf.astype(jnp.float32)))
        for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]
        if is_decayed(tuple(k.key for k in path), leaf, target=target)
    ]
    return 0.5 * weight_decay * sum(squares, jnp.zeros((), jnp.float32))
