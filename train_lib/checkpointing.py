"""Orbax checkpoints in ``<workdir>/checkpoints``: async saves, last-N + best-by-eval retention, and a
resume that never discards a checkpoint it could still use.

On resume a checkpoint is, in this order:
  unreachable  a file cannot be opened for a reason outside the checkpoint (permission denied, I/O
               error): ``CheckpointReadError``, nothing is moved — fix the cause and rerun;
  mismatched   readable, but its arrays do not fit the current train state (another model, optimizer or
               EMA setting): ``CheckpointMismatchError`` naming what differs, nothing is moved;
  corrupt      its files exist and open but do not decode: moved to ``<workdir>/corrupt_checkpoints``
               with a warning, and the previous checkpoint is tried.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
from typing import Any

import flax.serialization
import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging
from etils import epath
from jax.experimental import multihost_utils

from train_lib.config_validation import ConfigError

BEST_METRIC = "top1"
QUARANTINE_DIR = "corrupt_checkpoints"
# Error texts of causes outside the checkpoint's bytes (tensorstore reports them as status strings).
_UNREACHABLE_MARKERS = ("PERMISSION_DENIED", "Permission denied", "Input/output error", "UNAVAILABLE",
                        "DEADLINE_EXCEEDED", "Read-only file system", "No space left")
_UNREACHABLE_ERRNOS = (errno.EACCES, errno.EPERM, errno.EIO, errno.EROFS, errno.ENOSPC, errno.ETIMEDOUT)


def _ignore_closed_loop_callbacks(unraisable) -> None:
    """After a failed restore, tensorstore still completes reads whose asyncio loop orbax has closed; each
    completion raises 'Event loop is closed' into ``sys.unraisablehook``. Those say nothing; others pass on."""
    error = unraisable.exc_value
    if not (isinstance(error, RuntimeError) and str(error) == "Event loop is closed"):
        _PREVIOUS_UNRAISABLEHOOK(unraisable)


_PREVIOUS_UNRAISABLEHOOK = sys.unraisablehook


class CheckpointReadError(OSError):
    """A checkpoint exists but cannot be read for a reason outside its contents; nothing was moved."""


class CheckpointWriteError(OSError):
    """A checkpoint cannot be written (no space, read-only or vanished directory); training stops."""


class CheckpointMismatchError(ConfigError):
    """A readable checkpoint whose arrays do not fit the current train state."""


class Checkpointer:
    """Saves the train state asynchronously (training continues while the files are written) and restores
    the newest usable one. Use it as a context manager (``with Checkpointer(...) as checkpointer:``): leaving
    the block waits for pending saves and closes the orbax manager.

    Retention: the ``keep`` newest steps, plus the step with the best eval ``top1`` when ``keep_best``.
    """

    def __init__(self, workdir: str, *, keep: int, keep_best: bool, read_only: bool = False):
        """``read_only`` (evaluation, prediction): create nothing and move nothing; a corrupt checkpoint
        raises CheckpointReadError instead of being moved aside."""
        sys.unraisablehook = _ignore_closed_loop_callbacks
        self._read_only = read_only
        self.directory = epath.Path(workdir) / "checkpoints"
        self._quarantine = epath.Path(workdir) / QUARANTINE_DIR
        policies = [ocp.checkpoint_managers.LatestN(n=keep)]
        if keep_best:
            policies.append(ocp.checkpoint_managers.BestN(
                get_metric_fn=lambda metrics: metrics[BEST_METRIC], n=1, keep_checkpoints_without_metrics=False,
            ))
        options = ocp.CheckpointManagerOptions(
            preservation_policy=ocp.checkpoint_managers.AnyPreservationPolicy(policies),
            # best_fn makes orbax write each step's metrics to disk, so "best" survives a restart.
            best_fn=lambda metrics: metrics[BEST_METRIC], best_mode="max",
            enable_async_checkpointing=True, create=not read_only,
        )
        # The handler is named up front so a fresh process can read metadata before its first save.
        self._manager = ocp.CheckpointManager(self.directory, options=options,
                                              item_handlers=ocp.StandardCheckpointHandler())

    def __enter__(self) -> "Checkpointer":
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        """Closes the orbax manager, once, on every exit path; closing first waits for pending saves. A save
        that failed raises CheckpointWriteError, unless another error is already leaving the block: that
        one propagates and the failed save is logged."""
        try:
            self._manager.close()
        except Exception as error:  # noqa: BLE001 — orbax surfaces I/O failures as many types
            if exc_type is not None:
                logging.warning("Closing %s after an error: %s", self.directory, _cause(error))
                return
            raise CheckpointWriteError(f"cannot write checkpoints in {self.directory}: {_cause(error)}") from error

    def all_steps(self) -> list[int]:
        return sorted(self._manager.all_steps())

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def best_step(self) -> int | None:
        """The kept step with the highest eval ``top1`` (the earliest on ties), if any was saved with one."""
        scored = [(metrics[BEST_METRIC], -step) for step in self.all_steps()
                  if (metrics := self._manager.metrics(step)) and BEST_METRIC in metrics]
        return -max(scored)[1] if scored else None

    def save(self, state: Any, *, metrics: dict[str, float] | None = None, state_bytes: int = 0) -> None:
        """Starts an asynchronous save of ``state`` at ``state.step`` (no-op if that step is saved).

        Raises CheckpointWriteError when the directory has less than twice ``state_bytes`` free (checked
        for local paths before every save) or when a previous asynchronous save failed.
        """
        step = int(jax.device_get(state.step))
        if step in self._manager.all_steps():
            return
        check_free_space(self.directory, needed=2 * state_bytes)
        try:
            self._manager.save(step, args=ocp.args.StandardSave(state), metrics=metrics, force=True)
        except Exception as error:  # noqa: BLE001 — orbax surfaces I/O failures as many types
            raise CheckpointWriteError(f"cannot write checkpoint {step} in {self.directory}: {_cause(error)}") from error

    def wait(self) -> None:
        """Blocks until pending asynchronous saves are on disk; raises CheckpointWriteError if one failed."""
        try:
            self._manager.wait_until_finished()
        except Exception as error:  # noqa: BLE001
            raise CheckpointWriteError(f"cannot write checkpoints in {self.directory}: {_cause(error)}") from error

    def restore(self, step: int, abstract_state: Any) -> Any | None:
        """Checkpoint ``step`` restored into ``abstract_state``'s structure and shardings; None when it is
        corrupt (then it has been moved aside). Raises CheckpointReadError / CheckpointMismatchError."""
        saved = self._check_parts(step, flax.serialization.to_state_dict(abstract_state))
        if saved is None:
            return None
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, abstract_state)
        try:
            return self._manager.restore(step, args=ocp.args.StandardRestore(abstract))
        except Exception as error:  # noqa: BLE001 — classified by _corrupt
            return self._corrupt(step, error)

    def restore_parts(self, step: int, parts: dict[str, Any]) -> dict[str, Any] | None:
        """The subtrees ``parts`` (name → abstract dict tree with shardings, e.g. ``params``) of checkpoint
        ``step``; the rest of the checkpoint is read and dropped. None when corrupt (moved aside); raises
        CheckpointMismatchError when a part is missing or differs, CheckpointReadError when unreadable.
        """
        saved = self._check_parts(step, parts)
        if saved is None:
            return None
        sharding = next(leaf.sharding for leaf in jax.tree.leaves(parts))
        target = jax.tree.map(lambda meta: jax.ShapeDtypeStruct(meta.shape, meta.dtype, sharding=sharding), saved,
                              is_leaf=lambda x: hasattr(x, "shape"))
        try:
            restored = self._manager.restore(step, args=ocp.args.StandardRestore(target))
        except Exception as error:  # noqa: BLE001 — classified by _corrupt
            return self._corrupt(step, error)
        return {name: restored[name] for name in parts}

    def _check_parts(self, step: int, parts: dict[str, Any]) -> dict[str, Any] | None:
        """Checkpoint ``step``'s array metadata after checking ``parts`` fit it (see ``restore_parts``)."""
        self._probe_files(step)
        try:
            metadata = self._manager.item_metadata(step)
        except Exception as error:  # noqa: BLE001 — classified by _corrupt
            return self._corrupt(step, error)
        if metadata is None or metadata.tree is None:
            return self._corrupt(step, ValueError("no readable array metadata"))
        saved = dict(metadata.tree)
        problems = describe_differences(_flat_shapes({n: saved.get(n) for n in parts}), _flat_shapes(parts))
        if problems:
            raise CheckpointMismatchError(f"checkpoint {step} in {self.directory} does not fit this config's "
                                          f"train state: {problems}")
        return saved

    def _corrupt(self, step: int, error: Exception) -> None:
        """Raises CheckpointReadError when ``error`` has a cause outside the checkpoint; else moves it aside."""
        unreachable = (isinstance(error, OSError) and error.errno in _UNREACHABLE_ERRNOS) or any(
            marker in str(error) for marker in _UNREACHABLE_MARKERS)
        if unreachable:
            raise CheckpointReadError(f"cannot read checkpoint {step} in {self.directory}: {_cause(error)}; nothing "
                                      f"was moved — fix the cause and rerun") from error
        if self._read_only:
            raise CheckpointReadError(f"checkpoint {step} in {self.directory} is corrupt: {_cause(error)}") from error
        logging.warning("Checkpoint %d in %s is corrupt (%s); moving it to %s.", step, self.directory, _cause(error),
                        self._quarantine)
        self._move_aside(step)

    def _probe_files(self, step: int) -> None:
        """Opens every file of checkpoint ``step``: a permission or I/O error is not corruption."""
        for root, _, files in os.walk(os.fspath(self.directory / str(step))):
            for name in files:
                path = os.path.join(root, name)
                try:
                    with open(path, "rb") as file:
                        file.read(1)
                except OSError as error:
                    raise CheckpointReadError(f"cannot read {path}: {error.strerror or error}; nothing was moved — "
                                              f"fix the cause and rerun") from error

    def _move_aside(self, step: int) -> None:
        if jax.process_index() == 0:
            self._quarantine.mkdir(parents=True, exist_ok=True)
            (self.directory / str(step)).rename(self._quarantine / str(step))
        multihost_utils.sync_global_devices(f"checkpoint {step} moved aside")
        self._manager.reload()


def check_free_space(directory: epath.Path, *, needed: int) -> None:
    """Raises CheckpointWriteError when local ``directory`` has fewer than ``needed`` bytes free."""
    path = os.fspath(directory)
    if "://" in path or needed <= 0:
        return
    existing = next((p for p in (path, os.path.dirname(path)) if os.path.isdir(p)), None)
    if existing is None:
        return
    free = shutil.disk_usage(existing).free
    if free < needed:
        raise CheckpointWriteError(f"{path} has {free / 2**20:.1f} MiB free, a checkpoint needs about "
                                   f"{needed / 2**20:.1f} MiB: free space or use another --workdir")


def state_nbytes(abstract_state: Any) -> int:
    """Bytes of all arrays in a (possibly abstract) train state."""
    return sum(int(np.prod(leaf.shape)) * np.dtype(leaf.dtype).itemsize for leaf in jax.tree.leaves(abstract_state))


def describe_differences(saved: dict[str, tuple], wanted: dict[str, tuple], *, limit: int = 3) -> str:
    """A short description of how two ``{path: (shape, dtype)}`` maps differ ('' when equal)."""
    problems = []
    missing, extra = sorted(set(wanted) - set(saved)), sorted(set(saved) - set(wanted))
    for label, paths in (("the checkpoint lacks", missing), ("only the checkpoint has", extra)):
        groups = sorted({"/".join(p.split("/")[:3]) for p in paths})
        if groups:
            problems.append(f"{label} {', '.join(groups[:limit])}{' …' if len(groups) > limit else ''}")
    changed = [f"{p} {saved[p][0]} {saved[p][1]} → {wanted[p][0]} {wanted[p][1]}"
               for p in sorted(set(saved) & set(wanted)) if saved[p] != wanted[p]]
    if changed:
        problems.append(f"arrays differ: {', '.join(changed[:limit])}{' …' if len(changed) > limit else ''}")
    return "; ".join(problems)


def _flat_shapes(tree: Any) -> dict[str, tuple]:
    flat = jax.tree_util.tree_flatten_with_path(tree, is_leaf=lambda x: hasattr(x, "shape"))[0]
    return {"/".join(str(getattr(k, "key", getattr(k, "idx", getattr(k, "name", k)))) for k in path):
            (tuple(leaf.shape), str(leaf.dtype)) for path, leaf in flat if hasattr(leaf, "shape")}


def _cause(error: Exception) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}" if text else type(error).__name__
