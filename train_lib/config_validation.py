"""Checks a training config before any data or compile work; every problem is one ``ConfigError`` line.

``validate_config`` is pure and fast: it reads no data, prepares nothing (the data source only says
whether the dataset is prepared or its manual files are in place) and traces nothing: the model is
constructed (its name and options checked) but not traced. Whether the network takes the configured
image size is checked where the run is built (``train_lib.train.check_image_size``).
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

import flax.linen as nn
import jax.numpy as jnp
import ml_collections

from lightnets import create_model, ops
from train_lib import losses, optimizers, schedules, steps
from train_lib.errors import ConfigError  # defined there, re-exported here

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


@dataclasses.dataclass(frozen=True)
class ValidatedConfig:
    """What validation established: the dataset's spec (``input_pipeline.DatasetSpec``) and the model
    (constructed; neither traced nor initialised)."""

    dataset_spec: Any
    model: nn.Module


def validate_config(
    config: ml_collections.ConfigDict, *, data_source: Any, device_count: int, process_count: int,
) -> ValidatedConfig:
    """Checks every field of ``config``; raises ConfigError naming the first bad value and the valid ones.

    ``data_source`` is the input pipeline contract (see ``train_and_evaluate``); only its pure functions
    ``get_dataset_spec``, ``validate_data_config`` (once: the iterators trust the validated ``config.data``)
    and ``check_data_available`` are called.
    """
    _check_choices(config)
    _check_numbers(config)
    _check_autotune(config)
    _check_init_from(config)
    for field in ("batch_size", "eval_batch_size"):
        size = config[field]
        if size < 1 or size % device_count or size % process_count:
            raise ConfigError(f"{field}={size} must be a positive multiple of the device count {device_count} "
                              f"and the process count {process_count}")
    try:
        spec = data_source.get_dataset_spec(config.data.name)
        data_source.validate_data_config(config.data)
    except ValueError as error:
        raise ConfigError(f"data: {error}") from error
    train_split = config.data.get("train_split", spec.train_split)
    train_examples = _split_examples(spec, train_split)
    if train_examples is not None and config.batch_size > train_examples:
        raise ConfigError(f"batch_size={config.batch_size}; valid: at most the {train_examples:,} examples of "
                          f"{spec.name}'s {train_split} split")
    _check_warmup(config, steps_per_epoch=None if train_examples is None else train_examples // config.batch_size)
    model = build_model(config, num_classes=spec.num_classes)
    try:
        data_source.check_data_available(config.data)
    except (ValueError, FileNotFoundError) as error:
        raise ConfigError(f"data: {error}") from error
    return ValidatedConfig(dataset_spec=spec, model=model)


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
    """``create_model`` for ``config``; raises ConfigError for an unknown model or option, a shared option
    (dropout rate, BN momentum/epsilon) out of range, or a value the model's ``check_options`` refuses."""
    kwargs = model_kwargs(config)
    for option, bounds in _MODEL_OPTION_RANGES.items():
        if option in kwargs:
            _check_range(f"model_kwargs.{option}", kwargs[option], bounds)
    try:
        model = create_model(config.model, num_classes=num_classes, dtype=DTYPES[config.dtype],
                             param_dtype=jnp.float32, **kwargs)
        model.check_options()
    except (ValueError, TypeError) as error:
        raise ConfigError(f"model {config.model!r}: {error}") from error
    return model


def _split_examples(spec: Any, split: str) -> int | None:
    """Examples in ``split`` when it joins whole splits of ``spec`` ('train', 'train+extra'); None for a
    split expression whose size is only known once the data is prepared ('train[:90%]')."""
    names = [name.strip() for name in split.split("+")]
    if all(name in spec.splits for name in names):
        return sum(spec.splits[name] for name in names)
    return None


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


def _check_autotune(config: ml_collections.ConfigDict) -> None:
    """``ops_autotune`` (a bool), ``ops_autotune_budget_s`` (finite seconds ≥ 0) and ``ops_autotune_cache_dir``
    (unset, '' or a directory path: never an existing file; with ``ops_autotune`` on, also a directory that
    ``ops.tuning.check_cache_dir`` accepts: it or its nearest existing parent writable; nothing is created)."""
    if not isinstance(config.ops_autotune, bool):
        raise ConfigError(f"ops_autotune={config.ops_autotune!r}; valid: True or False")
    budget = config.ops_autotune_budget_s
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not (math.isfinite(budget) and budget >= 0):
        raise ConfigError(f"ops_autotune_budget_s={budget!r}; valid: >= 0 seconds (finite)")
    cache_dir = config.ops_autotune_cache_dir
    valid = "valid: unset (the default directory), '' (winners not kept) or a directory path"
    if cache_dir is not None and not isinstance(cache_dir, str):
        raise ConfigError(f"ops_autotune_cache_dir={cache_dir!r}; {valid}")
    if cache_dir and os.path.exists(os.path.expanduser(cache_dir)) and not os.path.isdir(os.path.expanduser(cache_dir)):
        raise ConfigError(f"ops_autotune_cache_dir={cache_dir!r} is a file; {valid}")
    if config.ops_autotune:
        try:
            ops.tuning.check_cache_dir(cache_dir)
        except ValueError as error:
            raise ConfigError(f"ops_autotune_cache_dir={cache_dir!r}: {error}") from None


def _check_init_from(config: ml_collections.ConfigDict) -> None:
    """``init_from``: unset, or an existing weights file that can hold ``config.model``'s weights (its suffix;
    a state_dict only for a model with published weights; the file is read when the run starts)."""
    from train_lib import weights  # it imports this module

    if not isinstance(config.init_from_new_classifier, bool):
        raise ConfigError(f"init_from_new_classifier={config.init_from_new_classifier!r}; valid: True or False")
    if config.init_from:  # None or '': random initialisation
        weights.check_weights_file(config.init_from, field="init_from", model=config.model)


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
