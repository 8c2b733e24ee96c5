"""Orbax checkpoints in ``<workdir>/checkpoints``: async saves, last-N + best-by-eval retention, resume
with fallback past a corrupt latest checkpoint."""

from __future__ import annotations

import jax
import orbax.checkpoint as ocp
from absl import logging
from etils import epath
from jax.experimental import multihost_utils

from train_lib.state import TrainState

BEST_METRIC = "top1"
QUARANTINE_DIR = "corrupt_checkpoints"


class Checkpointer:
    """Saves the train state asynchronously (training continues while the files are written) and restores
    the newest readable one.

    Retention: the ``keep`` newest steps, plus the step with the best eval ``top1`` when ``keep_best``.
    """

    def __init__(self, workdir: str, *, keep: int, keep_best: bool):
        self.directory = epath.Path(workdir) / "checkpoints"
        self._quarantine = epath.Path(workdir) / QUARANTINE_DIR
        policies = [ocp.checkpoint_managers.LatestN(n=keep)]
        if keep_best:
            policies.append(ocp.checkpoint_managers.BestN(
                get_metric_fn=lambda metrics: metrics[BEST_METRIC], n=1, keep_checkpoints_without_metrics=False,
            ))
        self._options = ocp.CheckpointManagerOptions(
            preservation_policy=ocp.checkpoint_managers.AnyPreservationPolicy(policies),
            enable_async_checkpointing=True, create=True,
        )
        self._manager = ocp.CheckpointManager(self.directory, options=self._options)

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def save(self, state: TrainState, *, metrics: dict[str, float] | None = None) -> None:
        """Starts an asynchronous save of ``state`` at ``state.step`` (no-op if that step is saved)."""
        step = int(jax.device_get(state.step))
        if step in self._manager.all_steps():
            return
        self._manager.save(step, args=ocp.args.StandardSave(state), metrics=metrics, force=True)

    def restore_latest(self, target: TrainState) -> TrainState | None:
        """The newest checkpoint that restores into ``target``'s structure and shardings, or None.

        A checkpoint that fails to restore is logged as a warning, moved to ``<workdir>/corrupt_checkpoints``
        and the previous one is tried.
        """
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
        for step in sorted(self._manager.all_steps(), reverse=True):
            try:
                restored = self._manager.restore(step, args=ocp.args.StandardRestore(abstract))
            except Exception as error:  # noqa: BLE001 — any unreadable checkpoint falls back to the previous one
                logging.warning("Checkpoint at step %d in %s cannot be restored (%s: %s); moving it to %s and "
                                "trying the previous one.", step, self.directory, type(error).__name__, error,
                                self._quarantine)
                self._move_aside(step)
                continue
            logging.info("Resumed from the checkpoint at step %d in %s.", step, self.directory)
            return restored
        return None

    def _move_aside(self, step: int) -> None:
        if jax.process_index() == 0:
            self._quarantine.mkdir(parents=True, exist_ok=True)
            (self.directory / str(step)).rename(self._quarantine / str(step))
        multihost_utils.sync_global_devices(f"checkpoint {step} moved aside")
        self._manager.reload()

    def wait(self) -> None:
        """Blocks until pending asynchronous saves are on disk."""
        self._manager.wait_until_finished()

    def close(self) -> None:
        self._manager.close()

