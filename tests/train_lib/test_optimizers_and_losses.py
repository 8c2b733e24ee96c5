"""Optimizers against hand-written update rules; weight decay targets and the smoothed cross-entropy."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import train_fakes
from train_lib import losses, optimizers

LEARNING_RATES = (0.1, 0.05, 0.02)
GRADS = (np.array([0.5, -1.0]), np.array([0.2, 0.3]), np.array([-0.4, 0.1]))


def run(config, schedule=lambda step: jnp.asarray(LEARNING_RATES)[step]):
    tx = optimizers.create_optimizer(config, schedule)
    w = jnp.array([1.0, 2.0])
    opt_state = tx.init(w)
    for g in GRADS:
        updates, opt_state = tx.update(jnp.asarray(g, jnp.float32), opt_state, w)
        w = optax.apply_updates(w, updates)
    return np.asarray(w)


def test_rmsprop_is_tensorflows():
    config = train_fakes.tiny_config(optimizer="rmsprop", momentum=0.9, rmsprop_decay=0.9, rmsprop_epsilon=1.0,
                                     rmsprop_initial_scale=1.0)
    w, ms, mom = np.array([1.0, 2.0]), np.ones(2), np.zeros(2)
    for lr, g in zip(LEARNING_RATES, GRADS):  # tf.compat.v1.train.RMSPropOptimizer, non-centered
        ms = 0.9 * ms + 0.1 * g * g
        mom = 0.9 * mom + lr * g / np.sqrt(ms + 1.0)
        w = w - mom
    np.testing.assert_allclose(run(config), w, rtol=1e-6)


def test_sgd_nesterov_matches_torch_rule():
    config = train_fakes.tiny_config(optimizer="sgd", momentum=0.9, nesterov=True)
    w, v = np.array([1.0, 2.0]), np.zeros(2)
    for lr, g in zip(LEARNING_RATES, GRADS):  # torch.optim.SGD(nesterov=True)
        v = 0.9 * v + g
        w = w - lr * (g + 0.9 * v)
    np.testing.assert_allclose(run(config), w, rtol=1e-6)


def test_sgd_matches_torch_rule():
    config = train_fakes.tiny_config(optimizer="sgd", momentum=0.9, nesterov=False)
    w, v = np.array([1.0, 2.0]), np.zeros(2)
    for lr, g in zip(LEARNING_RATES, GRADS):  # torch.optim.SGD / Torch optim.sgd (dampening 0)
        v = 0.9 * v + g
        w = w - lr * v
    np.testing.assert_allclose(run(config), w, rtol=1e-6)


def test_sgd_lr_in_momentum_matches_caffe_rule():
    config = train_fakes.tiny_config(optimizer="sgd", momentum=0.9, nesterov=False)
    config.lr_in_momentum = True
    w, history = np.array([1.0, 2.0]), np.zeros(2)
    for lr, g in zip(LEARNING_RATES, GRADS):  # Caffe SGDSolver: history = momentum·history + rate·grad
        history = 0.9 * history + lr * g
        w = w - history
    np.testing.assert_allclose(run(config), w, rtol=1e-6)
    torch_form = config.copy_and_resolve_references()
    torch_form.lr_in_momentum = False
    assert not np.allclose(run(torch_form), w)  # the forms differ once the learning rate changes
    constant = lambda step: 0.1  # noqa: E731
    np.testing.assert_allclose(run(config, constant), run(torch_form, constant), rtol=1e-6)


def test_lr_in_momentum_refuses_nesterov():
    config = train_fakes.tiny_config(optimizer="sgd", nesterov=True)
    config.lr_in_momentum = True
    with pytest.raises(ValueError, match="no Nesterov form"):
        optimizers.create_optimizer(config, lambda step: 0.1)


def test_unknown_optimizer_is_named():
    with pytest.raises(ValueError, match="optimizer='adam'; valid: sgd, rmsprop"):
        optimizers.create_optimizer(train_fakes.tiny_config(optimizer="adam"), lambda step: 0.1)


PARAMS = {
    "stem": {"conv": {"kernel": jnp.ones((3, 3, 3, 4))}, "bn": {"scale": jnp.ones(4), "bias": jnp.ones(4)}},
    "dw": {"conv": {"kernel": jnp.ones((3, 3, 1, 4))}},
    "fc": {"kernel": jnp.ones((4, 2)), "bias": jnp.ones(2)},
}


@pytest.mark.parametrize("target, squares", [
    ("kernels", 108 + 36 + 8), ("kernels_except_depthwise", 108 + 8), ("all", 108 + 8 + 36 + 8 + 2),
])
def test_l2_penalty_targets(target, squares):
    assert float(losses.l2_penalty(PARAMS, weight_decay=1e-4, target=target)) == pytest.approx(0.5e-4 * squares)


def test_cross_entropy_with_label_smoothing():
    logits = jnp.array([[2.0, 0.0, -1.0]])
    log_p = np.asarray(jax.nn.log_softmax(logits))[0]
    targets = np.array([0.9 + 0.1 / 3, 0.1 / 3, 0.1 / 3])
    got = losses.cross_entropy(logits, jnp.array([0]), num_classes=3, label_smoothing=0.1)
    assert float(got[0]) == pytest.approx(-(targets * log_p).sum(), rel=1e-6)
