"""Stopping cleanly on SIGTERM / preemption: the loop asks ``should_stop(step)`` after every step."""

from __future__ import annotations

import signal
import threading

import jax
import orbax.checkpoint as ocp
from absl import logging


class PreemptionGuard:
    """Context manager that turns SIGTERM into a stop request instead of killing the process.

    Single process: a SIGTERM handler sets a flag. Multi-process: JAX's preemption service (started by
    ``jax.distributed.initialize``) catches the signal and makes every process agree on the same step
    (orbax ``reached_preemption``), so all of them save that step together.
    """

    def __init__(self):
        self._requested = threading.Event()
        self._previous = None

    def __enter__(self) -> "PreemptionGuard":
        if jax.process_count() == 1 and threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None

    def _on_sigterm(self, signum, frame) -> None:
        logging.warning("SIGTERM received: saving a checkpoint after this step and exiting.")
        self._requested.set()

    def should_stop(self, step: int) -> bool:
        if jax.process_count() > 1:
            return ocp.multihost.reached_preemption(step)
        return self._requested.is_set()
