"""Every learning-rate schedule the papers use, as optax schedules of the global step.

Durations are given in epochs in the config and converted with ``steps_per_epoch``. Each schedule may be
preceded by a linear warmup from ``warmup_init_factor × learning_rate`` (Goyal et al. 2017, used by
XSepConv §4) over ``warmup_epochs``; the main schedule then runs over the remaining steps.

  constant     the base rate.
  exponential  base · decay_rate^⌊epoch / decay_epochs⌋, a staircase (TF exponential_decay(staircase=True)
               as TF-slim's train_image_classifier.py builds it; SeesawNet's code sets lr once per epoch):
               ×0.98 per epoch (MobileNetV2 §6.1, SeesawNet §5.1 ImageNet), ×0.94 every 2 epochs
               (Inception V3 §8, Xception §4.2).
  multistep    base · factor^(number of boundaries passed): ÷10 at epochs 200/300/350 (SeesawNet §5.1 CIFAR).
  polynomial   (base − end)·(1 − t/T)^power + end, every step: power 1 is the linear decay of clcNet §5 and
               ShuffleNet V1 §4 / V2 (reference code: lr·(1 − step/total) per iteration), Caffe's "poly"
               (SqueezeNet and SqueezeNext solvers). After a warmup, T counts the steps left after it.
  cosine       base · ½(1 + cos(π t/T)) every step (XSepConv §4.1, following Goyal et al. / He et al. 2019).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import optax

if TYPE_CHECKING:  # annotations only: the train step must import without ml_collections
    import ml_collections

SCHEDULES = ("constant", "exponential", "multistep", "polynomial", "cosine")


def create_learning_rate_schedule(
    config: ml_collections.ConfigDict, *, steps_per_epoch: int, num_train_steps: int
) -> optax.Schedule:
    """The schedule named ``config.schedule`` with ``config.learning_rate`` as peak and optional warmup.

    Config fields read: learning_rate, schedule, warmup_epochs, warmup_init_factor, lr_decay_rate,
    lr_decay_epochs, lr_boundaries_epochs, lr_boundary_factor, lr_power, lr_end.
    """
    base = config.learning_rate
    warmup_steps = round(config.warmup_epochs * steps_per_epoch)
    decay_steps = max(num_train_steps - warmup_steps, 1)
    name = config.schedule
    if name == "constant":
        main = optax.constant_schedule(base)
    elif name == "exponential":
        main = optax.exponential_decay(
            base, transition_steps=max(round(config.lr_decay_epochs * steps_per_epoch), 1),
            decay_rate=config.lr_decay_rate, staircase=True,
        )
    elif name == "multistep":
        boundaries = {round(e * steps_per_epoch) - warmup_steps: config.lr_boundary_factor
                      for e in config.lr_boundaries_epochs}
        main = optax.piecewise_constant_schedule(base, boundaries)
    elif name == "polynomial":
        main = optax.polynomial_schedule(base, config.lr_end, power=config.lr_power, transition_steps=decay_steps)
    elif name == "cosine":
        main = optax.cosine_decay_schedule(base, decay_steps=decay_steps)
    else:
        raise ValueError(f"schedule={name!r}; valid: {', '.join(SCHEDULES)}")
    if warmup_steps == 0:
        return main
    warmup = optax.linear_schedule(config.warmup_init_factor * base, base, transition_steps=warmup_steps)
    return optax.join_schedules([warmup, main], boundaries=[warmup_steps])


def epochs_to_steps(epochs: float, steps_per_epoch: int) -> int:
    """Whole steps covering ``epochs`` epochs (rounded up, so the last partial epoch is trained)."""
    return math.ceil(epochs * steps_per_epoch)
