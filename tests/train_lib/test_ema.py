"""The moving average follows tf.train.ExponentialMovingAverage(decay, num_updates=global_step) over the
params and the BN statistics, and evaluation uses both averages."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from train_lib.state import TrainState

PARAMS = [1.0, 3.0, -2.0, 5.0]  # the trained weight after steps 1, 2, 3, 4
STATS = [0.5, 0.25, 1.0, 2.0]  # the BN moving mean after steps 1, 2, 3, 4


def averaged(decay: float, *, warmup: bool) -> tuple[list[float], list[float]]:
    """Runs apply_gradients + apply_ema with the weight and statistic jumping to the values above."""
    state = TrainState.create(apply_fn=None, params={"w": jnp.float32(0.0)}, tx=optax.sgd(1.0),
                              batch_stats={"mean": jnp.float32(0.0)},
                              ema={"params": {"w": jnp.float32(0.0)}, "batch_stats": {"mean": jnp.float32(0.0)}})
    ema_params, ema_stats = [], []
    for param, stat in zip(PARAMS, STATS):
        state = state.apply_gradients(grads={"w": state.params["w"] - param}, batch_stats={"mean": jnp.float32(stat)})
        state = state.apply_ema(decay, warmup=warmup)
        ema_params.append(float(state.ema["params"]["w"]))
        ema_stats.append(float(state.ema["batch_stats"]["mean"]))
    return ema_params, ema_stats


def by_hand(values: list[float], decays: list[float]) -> list[float]:
    shadow, out = 0.0, []  # TF initialises the shadow variable to the variable's initial value (0 here)
    for value, decay in zip(values, decays):
        shadow = decay * shadow + (1 - decay) * value
        out.append(shadow)
    return out


def test_warmup_decay_is_min_of_decay_and_tf_num_updates_ratio():
    # update t (0, 1, 2, 3) uses min(0.9999, (1 + t) / (10 + t)) = 1/10, 2/11, 3/12, 4/13
    decays = [1 / 10, 2 / 11, 3 / 12, 4 / 13]
    params, stats = averaged(0.9999, warmup=True)
    np.testing.assert_allclose(params, by_hand(PARAMS, decays), rtol=1e-6)
    np.testing.assert_allclose(stats, by_hand(STATS, decays), rtol=1e-6)
    np.testing.assert_allclose(params[:2], [0.9, 2 / 11 * 0.9 + 9 / 11 * 3.0], rtol=1e-6)  # written out


def test_warmup_is_capped_by_decay():
    decays = [min(0.15, (1 + t) / (10 + t)) for t in range(4)]  # 0.1, 0.15, 0.15, 0.15
    np.testing.assert_allclose(averaged(0.15, warmup=True)[0], by_hand(PARAMS, decays), rtol=1e-6)


def test_constant_decay_without_warmup():
    np.testing.assert_allclose(averaged(0.5, warmup=False)[0], by_hand(PARAMS, [0.5] * 4), rtol=1e-6)


def test_evaluation_uses_the_averaged_params_and_statistics():
    state = TrainState.create(apply_fn=None, params={"w": jnp.ones(2)}, tx=optax.sgd(1.0),
                              batch_stats={"mean": jnp.ones(2)},
                              ema={"params": {"w": jnp.zeros(2)}, "batch_stats": {"mean": jnp.full(2, 7.0)}})
    assert jax.tree.map(float, jax.tree.map(jnp.sum, state.eval_variables)) == {
        "params": {"w": 0.0}, "batch_stats": {"mean": 14.0}}
    plain = state.replace(ema=None)
    assert plain.eval_variables is not None and float(plain.eval_variables["params"]["w"][0]) == 1.0


@pytest.mark.parametrize("warmup", [True, False])
def test_ema_off_is_identity(warmup):
    state = TrainState.create(apply_fn=None, params={"w": jnp.ones(2)}, tx=optax.sgd(1.0), batch_stats={}, ema=None)
    assert state.apply_ema(0.9, warmup=warmup) is state
