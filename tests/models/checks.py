"""Checks shared by the model tests: traced variables and logits, one compiled training step, cached counts."""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from lightnets import create_model
from lightnets.analysis import ModelCounts, count_model
from lightnets.ops import canonical_only


def init_and_apply_shapes(model: nn.Module, input_size: int, *, batch: int = 2):
    """(variables, logits) as ``jax.ShapeDtypeStruct`` trees, traced by ``eval_shape`` (nothing compiled)."""
    images = jax.ShapeDtypeStruct((batch, input_size, input_size, 3), jnp.float32)

    def init_and_apply(x):
        variables = model.init(jax.random.key(0), x, train=False)
        return variables, model.apply(variables, x, train=False)

    return jax.eval_shape(init_and_apply, images)


def random_variables(model: nn.Module, input_size: int, *, seed: int = 0) -> dict:
    """Variables shaped like ``model.init``'s, drawn with NumPy (compiling an init costs more than the step).

    Kernels are He-normal over their fan-in, BN scales 1 and running variances 1, running means 0, other
    vectors (biases, BN shifts) small normals.
    """
    shapes, _ = init_and_apply_shapes(model, input_size, batch=1)
    rng = np.random.default_rng(seed)

    def draw(path, leaf):
        name = path[-1].key
        if name in ("scale", "var"):
            value = np.ones(leaf.shape)
        elif name == "mean":
            value = np.zeros(leaf.shape)
        elif leaf.ndim >= 2:
            value = rng.normal(size=leaf.shape) * np.sqrt(2.0 / np.prod(leaf.shape[:-1]))
        else:
            value = rng.normal(size=leaf.shape) * 0.1
        return jnp.asarray(value, leaf.dtype)

    return jax.tree_util.tree_map_with_path(draw, shapes)


def assert_one_train_step_updates_everything(model: nn.Module, input_size: int, *, batch: int = 2) -> None:
    """One compiled gradient step in training mode: every parameter leaf gets a non-zero gradient, every
    ``batch_stats`` leaf moves, and the loss is finite.

    Traced under ``canonical_only()`` and compiled without LLVM optimisation: this checks the model's wiring,
    and both roughly halve the compile time, which dominates (tests/ops checks the fast paths against the
    canonical ops, gradients included).
    """
    rng = np.random.default_rng(1)
    images = jnp.asarray(rng.normal(size=(batch, input_size, input_size, 3)), jnp.float32)
    labels = jnp.asarray(rng.integers(0, model.num_classes, size=batch))
    variables = random_variables(model, input_size)
    params, batch_stats = variables["params"], variables.get("batch_stats", {})

    def step(params, batch_stats):
        def loss_fn(params):
            logits, updates = model.apply(
                {"params": params, "batch_stats": batch_stats}, images, train=True,
                rngs={"dropout": jax.random.key(0, impl="rbg")}, mutable=["batch_stats"],
            )
            return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean(), updates

        (loss, updates), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        return loss, grads, updates.get("batch_stats", {})

    with canonical_only():
        lowered = jax.jit(step).lower(params, batch_stats)
    compiled = lowered.compile(compiler_options={"xla_backend_optimization_level": 0})
    loss, grads, new_stats = compiled(params, batch_stats)
    assert np.isfinite(float(loss))
    for path, grad in jax.tree_util.tree_flatten_with_path(grads)[0]:
        assert np.all(np.isfinite(grad)), jax.tree_util.keystr(path)
        assert np.any(grad != 0), f"zero gradient for {jax.tree_util.keystr(path)}"
    old_stats = jax.tree_util.tree_leaves_with_path(batch_stats)
    assert len(old_stats) == len(jax.tree_util.tree_leaves(new_stats))
    for (path, old), new in zip(old_stats, jax.tree_util.tree_leaves(new_stats)):
        assert not np.allclose(old, new), f"batch_stats not updated: {jax.tree_util.keystr(path)}"


@functools.cache
def counts(name: str, input_size: int | None = None, **overrides) -> ModelCounts:
    """Counts of a registered model (cached: tracing a 224 px model takes seconds), at its default input size."""
    model = create_model(name, **overrides)
    return count_model(model, input_size or type(model).default_input_size)
