"""Checks a training config before any data or compile work; every problem is one ``ConfigError`` line.

``validate_config`` is pure and fast: it reads no data and prepares nothing (the data source only says
whether the dataset is prepared or its manual files are in place), and traces the model with
``jax.eval_shape`` so construction errors and inputs too small for the network surface before anything
is compiled.
"""

from __future__ import annotations

import dataclasses
import math
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
class ValidatedConfig:
    """What validation established: the dataset's facts and the model (built, not initialised)."""

    dataset_info: Any
    model: nn.Module


def validate_config(
    config: ml_collections.ConfigDict, *, data_source: Any, device_count: int, process_count: int,
) -> ValidatedConfig:
    """Checks every field of ``config``; raises ConfigError naming the first bad value and the valid ones.

    ``data_source`` is the input pipeline contract (see ``train_and_evaluate``); only its pure functions
    ``get_dataset_info``, ``validate_data_config`` and ``check_data_available`` are called.
    """
    _check_choices(config)
    _check_numbers(config)
    for field in ("batch_size", "eval_batch_size"):
        size = config[field]
        if size < 1 or size % device_count or size % process_count:
            raise ConfigError(f"{field}={size} must be a positive multiple of the device count {device_count} "
                              f"and the process count {process_count}")
    try:
        info = data_source.get_dataset_info(config.data.name)
        for batch_size in (config.batch_size, config.eval_batch_size):
            data_source.validate_data_config(config.data, global_batch_size=batch_size, process_count=process_count)
    except ValueError as error:
        raise ConfigError(f"data: {error}") from error
    default_split = config.data.get("train_split", info.train_split) == info.train_split
    if default_split and config.batch_size > info.num_train_examples:
        raise ConfigError(f"batch_size={config.batch_size}; valid: at most the {info.num_train_examples:,} examples of "
                          f"{info.name}'s {info.train_split} split")
    _check_warmup(config, steps_per_epoch=info.num_train_examples // config.batch_size if default_split else None)
    model = build_model(config, num_classes=info.num_classes)
    check_image_size(model, config.model, config.data.image_size)
    try:
        data_source.check_data_available(config.data)
    except (ValueError, FileNotFoundError) as error:
        raise ConfigError(f"data: {error}") from error
    return ValidatedConfig(dataset_info=info, model=model)


def check_run_length(config: ml_collections.ConfigDict, *, steps_per_epoch: int) -> None:
    """The checks that need the exact epoch length (known once the dataset is prepared)."""
    _check_warmup(config, steps_per_epoch=steps_per_epoch)


def model_kwargs(config: ml_collections.ConfigDict) -> dict[str, Any]:
    """The model options ``config`` sets (``model_kwargs`` entries that are not None)."""
    return {key: value for key, value in config.model_kwargs.to_dict().items() if value is not None}


# Model options every family shares: (lowest, highest, lowest included, highest included), as _RANGES.
_MODEL_OPTION_RANGES = {
    "dropout_rate": (0, 1, True, False),
    "bn_momentum": (0, 1, True, True),
    "bn_epsilon": (0, math.inf, False, False),
}


def build_model(config: ml_collections.ConfigDict, *, num_classes: int) -> nn.Module:
    """``create_model`` for ``config``; raises ConfigError for an unknown model or option, or a shared
    option (dropout rate, BN momentum/epsilon) out of range."""
    kwargs = model_kwargs(config)
    for option, bounds in _MODEL_OPTION_RANGES.items():
        if option in kwargs:
            _check_range(f"model_kwargs.{option}", kwargs[option], bounds)
    try:
        return create_model(config.model, num_classes=num_classes, dtype=DTYPES[config.dtype],
                            param_dtype=jnp.float32, **kwargs)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"model {config.model!r}: {error}") from error


def check_image_size(model: nn.Module, name: str, image_size: int) -> None:
    """Traces ``model`` at ``image_size`` (no compilation); raises ConfigError when the network cannot take
    it — the trace fails, or a layer's output is empty — naming the smallest size it takes."""
    problem = _image_size_problem(model, image_size)
    if problem is None:
        return
    low, high = image_size, max(image_size + 1, 2 * type(model).default_input_size)
    if _image_size_problem(model, high) is not None:
        raise ConfigError(f"model {name!r} cannot be built at image_size={image_size}: {problem}")
    while high - low > 1:  # the networks take every size above their smallest one
        middle = (low + high) // 2
        low, high = (middle, high) if _image_size_problem(model, middle) else (low, middle)
    raise ConfigError(f"data.image_size={image_size} is too small for {name} ({problem}); valid: ≥ {high}")


def _image_size_problem(model: nn.Module, image_size: int) -> str | None:
    def init():
        variables = initial_variables(model, rng=jax.random.key(0), image_size=image_size, capture_intermediates=True)
        return variables["intermediates"]

    try:
        intermediates = jax.eval_shape(init)
    except Exception as error:  # noqa: BLE001 — any failure to trace is the answer
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".rstrip(": ")
    empty = [jax.tree_util.keystr(path) for path, leaf in jax.tree_util.tree_flatten_with_path(intermediates)[0]
             if 0 in leaf.shape]
    return f"empty output at {empty[0]}" if empty else None


def _check_choices(config: ml_collections.ConfigDict) -> None:
    for field, valid in (("optimizer", optimizers.OPTIMIZERS), ("schedule", schedules.SCHEDULES),
                         ("bn_mode", steps.BN_MODES), ("dtype", tuple(DTYPES)),
                         ("weight_decay_params", losses.WEIGHT_DECAY_TARGETS)):
        if config[field] not in valid:
            raise ConfigError(f"{field}={config[field]!r}; valid: {', '.join(valid)}")


# field: (lowest, highest, lowest included, highest included); every value must also be finite.
_RANGES = {
    "learning_rate": (0, math.inf, False, False),
    "momentum": (0, 1, True, False),
    "rmsprop_decay": (0, 1, True, False),
    "rmsprop_epsilon": (0, math.inf, False, False),
    "rmsprop_initial_scale": (0, math.inf, True, False),
    "warmup_epochs": (0, math.inf, True, False),
    "warmup_init_factor": (0, 1, True, True),
    "lr_decay_rate": (0, 1, False, True),
    "lr_decay_epochs": (0, math.inf, False, False),
    "lr_boundary_factor": (0, 1, False, True),
    "lr_power": (0, math.inf, False, False),
    "lr_end": (0, math.inf, True, False),
    "weight_decay": (0, math.inf, True, False),
    "label_smoothing": (0, 1, True, False),
    "ema_decay": (0, 1, True, False),
    "divergence_factor": (1, math.inf, False, False),
    "log_every_steps": (1, math.inf, True, False),
    "eval_every_epochs": (0, math.inf, False, False),
    "checkpoint_every_steps": (1, math.inf, True, False),
    "keep_checkpoints": (1, math.inf, True, False),
}


def _check_range(field: str, value: float, bounds: tuple) -> None:
    low, high, low_ok, high_ok = bounds
    inside = (low <= value if low_ok else low < value) and (value <= high if high_ok else value < high)
    if not (math.isfinite(value) and inside):
        interval = f"{'[' if low_ok else '('}{low}, {'∞' if high == math.inf else high}{']' if high_ok else ')'}"
        raise ConfigError(f"{field}={value}; valid: {interval}")


def _check_numbers(config: ml_collections.ConfigDict) -> None:
    for field, bounds in _RANGES.items():
        _check_range(field, config[field], bounds)
    if config.num_train_steps <= 0 and not (math.isfinite(config.num_epochs) and config.num_epochs > 0):
        raise ConfigError(f"num_epochs={config.num_epochs}; valid: > 0 (or set num_train_steps > 0)")
    if config.optimizer == "sgd" and config.lr_in_momentum and config.nesterov:
        raise ConfigError("lr_in_momentum=True with nesterov=True; valid: one of them (Caffe's momentum has no "
                          "Nesterov form)")
    if config.lr_end >= config.learning_rate:
        raise ConfigError(f"lr_end={config.lr_end}; valid: below learning_rate={config.learning_rate}")
    boundaries = list(config.lr_boundaries_epochs)
    if not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in boundaries) or (
            config.schedule == "multistep" and (not boundaries or boundaries != sorted(set(boundaries))
                                                or boundaries[0] <= 0)):
        raise ConfigError(f"lr_boundaries_epochs={tuple(boundaries)}; valid: increasing epochs > 0")


def _check_warmup(config: ml_collections.ConfigDict, *, steps_per_epoch: int | None) -> None:
    """Warmup must end before the run does: compared in epochs, or in steps when the length is in steps."""
    if config.warmup_epochs == 0:
        return
    if config.num_train_steps <= 0:
        if config.warmup_epochs >= config.num_epochs:
            raise ConfigError(f"warmup_epochs={config.warmup_epochs}; valid: below num_epochs={config.num_epochs}")
    elif steps_per_epoch is not None and round(config.warmup_epochs * steps_per_epoch) >= config.num_train_steps:
        raise ConfigError(f"warmup_epochs={config.warmup_epochs} is {round(config.warmup_epochs * steps_per_epoch)} "
                          f"steps; valid: below num_train_steps={config.num_train_steps} steps")
