"""Checks a training config before anything is compiled; every problem is one ``ConfigError`` line.

The model is built and traced with ``jax.eval_shape`` here, so construction errors (unknown model,
groups or splits that do not divide the channels) surface before any compilation or data work.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from lightnets import create_model
from train_lib import losses, optimizers, schedules, steps
from train_lib.state import initial_variables

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


class ConfigError(ValueError):
    """A config value that cannot train; the message names the field, the bad value and the valid ones."""


@dataclasses.dataclass(frozen=True)
class ValidatedRun:
    """What validation built on the way: the dataset's facts, the model and the epoch length in steps."""

    dataset_info: Any
    model: nn.Module
    steps_per_epoch: int


def validate_config(
    config: ml_collections.ConfigDict, *, data_source: Any, device_count: int, process_count: int
) -> ValidatedRun:
    """Checks ``config``; raises ConfigError on the first problem.

    The model is traced before the data source is asked for the epoch length (which prepares the dataset
    on first use, and fails naming the files a manual-download dataset is missing).
    """
    _check_choice("optimizer", config.optimizer, optimizers.OPTIMIZERS)
    _check_choice("schedule", config.schedule, schedules.SCHEDULES)
    _check_choice("bn_mode", config.bn_mode, steps.BN_MODES)
    _check_choice("dtype", config.dtype, tuple(DTYPES))
    _check_choice("weight_decay_params", config.weight_decay_params, losses.WEIGHT_DECAY_TARGETS)
    _check_positive("learning_rate", config.learning_rate)
    if config.num_train_steps <= 0:
        _check_positive("num_epochs", config.num_epochs)
    for field in ("batch_size", "eval_batch_size"):
        size = config[field]
        if size < 1 or size % device_count or size % process_count:
            raise ConfigError(f"{field}={size} must be a positive multiple of the device count {device_count} "
                              f"and the process count {process_count}")
    for field in ("weight_decay", "warmup_epochs", "ema_decay"):
        if config[field] < 0:
            raise ConfigError(f"{field}={config[field]}; must be ≥ 0")
    if not 0 <= config.label_smoothing < 1:
        raise ConfigError(f"label_smoothing={config.label_smoothing}; valid: [0, 1)")
    if config.ema_decay >= 1:
        raise ConfigError(f"ema_decay={config.ema_decay}; valid: 0 (off) or (0, 1)")
    try:
        info = data_source.get_dataset_info(config.data.name)
        data_source.validate_data_config(config.data, global_batch_size=config.batch_size,
                                         process_count=process_count)
        data_source.validate_data_config(config.data, global_batch_size=config.eval_batch_size,
                                         process_count=process_count)
    except ValueError as error:
        raise ConfigError(f"data: {error}") from error
    model = _traced_model(config, num_classes=info.num_classes, image_size=config.data.image_size)
    try:
        steps_per_epoch = data_source.steps_per_epoch(config.data, config.batch_size)
    except (ValueError, FileNotFoundError) as error:
        raise ConfigError(f"data: {error}") from error
    return ValidatedRun(dataset_info=info, model=model, steps_per_epoch=steps_per_epoch)


def _traced_model(config: ml_collections.ConfigDict, *, num_classes: int, image_size: int) -> nn.Module:
    try:
        model = create_model(config.model, num_classes=num_classes, dtype=DTYPES[config.dtype],
                             param_dtype=jnp.float32, **config.model_kwargs.to_dict())
        jax.eval_shape(lambda: initial_variables(model, rng=jax.random.key(0), image_size=image_size))
    except (ValueError, TypeError) as error:
        raise ConfigError(f"model {config.model!r}: {error}") from error
    return model


def _check_choice(field: str, value: Any, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ConfigError(f"{field}={value!r}; valid: {', '.join(valid)}")


def _check_positive(field: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(f"{field}={value}; must be > 0")
