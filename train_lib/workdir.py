"""The workdir besides checkpoints and TensorBoard logs: a writability check before any work, the run's
resolved config (``config.json``) and its results (``results.json``).

Resuming compares the current config with ``config.json``. Fields in ``RESUMABLE_FIELDS`` only change
how the run is reported, checkpointed, read or compiled, so they may change between restarts; any other change
would make the resumed run a different run, and is refused unless ``allow_config_change`` is set.
"""

from __future__ import annotations

import json
import os
from typing import Any

import jax
import ml_collections
from etils import epath

from lightnets.registry import canonical_name
from train_lib.config_validation import ConfigError

CONFIG_FILE = "config.json"
RESULTS_FILE = "results.json"
# Changing these does not change what is trained (see docs/training.md, "Resuming").
RESUMABLE_FIELDS = frozenset({
    "log_every_steps", "eval_every_epochs", "checkpoint_every_steps", "keep_checkpoints", "keep_best_checkpoint",
    "eval_batch_size", "allow_config_change", "data.data_dir", "data.manual_dir", "data.prefetch",
    "compilation_cache_dir",  # where compiled programs are kept, not what they compute
    # which of an op's algebraically equal implementations run (a cached winner is reused on restart)
    "ops_autotune", "ops_autotune_budget_s", "ops_autotune_cache_dir",
    "init_from", "init_from_new_classifier",  # act at step 0 only: a resumed run continues from its checkpoint
})


def resolve(workdir: str) -> str:
    """``workdir`` made absolute when local (orbax needs absolute paths); URLs such as gs:// as given."""
    return workdir if "://" in workdir else os.path.abspath(os.path.expanduser(workdir))


def check_writable(workdir: str) -> None:
    """Creates ``workdir`` if needed and writes a probe file in it and in its ``checkpoints/``; raises
    ConfigError naming the path and the cause when it is a file, cannot be created or is not writable."""
    path = epath.Path(workdir)
    try:
        is_file = path.exists() and not path.is_dir()
        if not is_file:
            path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"--workdir={workdir} is not writable: {error.strerror or error}") from error
    except Exception as error:  # noqa: BLE001 — remote file systems (gs://) raise their own error types
        raise ConfigError(f"--workdir={workdir} cannot be used: {' '.join(str(error).split())[:300]}") from error
    if is_file:
        raise ConfigError(f"--workdir={workdir} is a file; valid: a directory (new or existing)")
    for directory in (path, path / "checkpoints"):
        if not directory.is_dir():
            continue
        probe = directory / f".write_probe_{os.getpid()}_{jax.process_index()}"
        try:
            probe.write_text("")
            probe.unlink()
        except OSError as error:
            raise ConfigError(f"--workdir={workdir}: {directory} is not writable: {error.strerror or error}") from error


def config_to_dict(config: ml_collections.ConfigDict) -> dict[str, Any]:
    """``config`` as plain JSON values (tuples become lists)."""
    return json.loads(config.to_json(sort_keys=True))


def read_config(workdir: str) -> dict[str, Any] | None:
    """The config stored in ``<workdir>/config.json``, or None for a workdir without one."""
    path = epath.Path(workdir) / CONFIG_FILE
    return json.loads(path.read_text()) if path.exists() else None


def write_config(workdir: str, config: ml_collections.ConfigDict) -> None:
    """Writes the resolved ``config`` to ``<workdir>/config.json`` (first process only)."""
    if jax.process_index() == 0:
        (epath.Path(workdir) / CONFIG_FILE).write_text(json.dumps(config_to_dict(config), indent=2) + "\n")


def config_changes(stored: dict[str, Any], config: ml_collections.ConfigDict) -> list[str]:
    """The fields outside ``RESUMABLE_FIELDS`` whose values differ, as ``'field old → new'`` strings.

    Model names are compared as the variants they name (``mobilenet_v2`` is ``mobilenet_v2_100``). A model
    option the stored config lacks was unset (the variant's value). Any other field it lacks is one
    a later version of lightnets added: the stored run could not set it, so it is not compared (the run
    resumes with the field's current value).
    """
    old, new = flatten(stored), flatten(config_to_dict(config))
    for values in (old, new):  # a timm/torchvision alias names the same variant
        if isinstance(values.get("model"), str):
            values["model"] = canonical_name(values["model"])
    compared = set(old) | {key for key in new if key.startswith("model_kwargs.")}
    return [f"{key} {old.get(key, '(absent)')!r} → {new.get(key, '(absent)')!r}"
            for key in sorted(compared) if key not in RESUMABLE_FIELDS and old.get(key) != new.get(key)]


def saved_steps(workdir: str) -> list[int]:
    """The finalized checkpoint steps in ``<workdir>/checkpoints`` (read without opening a checkpoint manager)."""
    directory = epath.Path(workdir) / "checkpoints"
    return sorted(int(p.name) for p in directory.iterdir() if p.name.isdigit()) if directory.is_dir() else []


def check_resumable(workdir: str, config: ml_collections.ConfigDict) -> list[str]:
    """The changes (see ``config_changes``) between ``config`` and the config of ``workdir``'s checkpoints.

    Raises ConfigError naming them when there are any and ``config.allow_config_change`` is not set.
    """
    steps, stored = saved_steps(workdir), read_config(workdir)
    changes = config_changes(stored, config) if steps and stored else []
    if changes and not config.allow_config_change:
        raise ConfigError(
            f"{workdir} holds checkpoints up to step {steps[-1]} of another config ({'; '.join(changes)}): rerun "
            f"with that config, use a new --workdir, or pass --config.allow_config_change=True to continue from "
            f"step {steps[-1]} with this one")
    return changes


# What fixes the variables a checkpoint holds: a config that differs here cannot evaluate it.
MODEL_FIELDS = ("model", "model_kwargs", "data.image_size")


def check_same_model(workdir: str, config: ml_collections.ConfigDict) -> None:
    """Raises ConfigError naming the differences when ``workdir``'s ``config.json`` trained another model."""
    stored = read_config(workdir)
    changes = [change for change in config_changes(stored, config) if change.startswith(MODEL_FIELDS)] if stored else []
    if changes:
        raise ConfigError(f"{workdir} was trained with another model ({'; '.join(changes)}): use the config it was "
                          f"trained with (its {CONFIG_FILE})")


def write_results(workdir: str, results: dict[str, Any]) -> None:
    """Writes ``results`` (``final`` and ``best`` eval metrics) to ``<workdir>/results.json`` (first process)."""
    if jax.process_index() == 0:
        (epath.Path(workdir) / RESULTS_FILE).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def read_results(workdir: str) -> dict[str, Any] | None:
    path = epath.Path(workdir) / RESULTS_FILE
    return json.loads(path.read_text()) if path.exists() else None


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested dict as ``{'a.b': value}``."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
