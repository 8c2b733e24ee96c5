"""The papers' optimizers as optax chains (weight decay is coupled L2 in the loss, see ``losses``).

  sgd      heavy-ball momentum, optionally Nesterov: v ← μv + g; w ← w − lr·v (PyTorch, Torch optim.sgd, TF
           MomentumOptimizer), Nesterov w ← w − lr·(g + μv). With ``lr_in_momentum`` the learning rate is
           applied before the momentum accumulator, v ← μv + lr·g; w ← w − v, as Caffe's SGD solver does
           (BVLC and Intel Caffe ``SGDSolver``: history = momentum·history + rate·(grad + decay·w)); the two
           differ only while the learning rate changes.
  rmsprop  TensorFlow's RMSPropOptimizer (MobileNet V1/V2, Inception V3): ms ← ρ·ms + (1−ρ)g²,
           mom ← μ·mom + lr·g/√(ms + ε), w ← w − mom; ε inside the square root, ms initialised to 1 (TF1
           slot initialiser), and the learning rate applied *inside* the momentum accumulator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import optax

if TYPE_CHECKING:  # annotations only: the train step must import without ml_collections
    import ml_collections

OPTIMIZERS = ("sgd", "rmsprop")


def create_optimizer(config: ml_collections.ConfigDict, schedule: optax.Schedule) -> optax.GradientTransformation:
    """The optimizer named ``config.optimizer`` driven by ``schedule``.

    Config fields read: optimizer, momentum, nesterov, lr_in_momentum (sgd), rmsprop_decay, rmsprop_epsilon,
    rmsprop_initial_scale (rmsprop).
    """
    if config.optimizer == "sgd":
        if not config.lr_in_momentum:
            return optax.sgd(schedule, momentum=config.momentum or None, nesterov=config.nesterov)
        if config.nesterov:
            raise ValueError("lr_in_momentum=True is Caffe's plain momentum; it has no Nesterov form (nesterov=False)")
        return optax.chain(optax.scale_by_learning_rate(schedule), optax.trace(decay=config.momentum))
    if config.optimizer == "rmsprop":
        return optax.chain(
            optax.scale_by_rms(
                decay=config.rmsprop_decay, eps=config.rmsprop_epsilon,
                initial_scale=config.rmsprop_initial_scale, eps_in_sqrt=True,
            ),
            optax.scale_by_learning_rate(schedule),
            optax.trace(decay=config.momentum),
        )
    raise ValueError(f"optimizer={config.optimizer!r}; valid: {', '.join(OPTIMIZERS)}")
