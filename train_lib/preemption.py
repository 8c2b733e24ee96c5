"""Stopping cleanly on SIGTERM / preemption: the loop asks ``should_stop(step)`` after every step."""

from __future__ import annotations

import signal
import threading

import jax
import orbax.checkpoint as ocp
from absl import logging


class PreemptionGuard:
    """Context manager that turns SIGTERM and Ctrl-C (SIGINT) into a stop request instead of killing the
    process; a second Ctrl-C raises KeyboardInterrupt as usual.

    Single process: a SIGTERM/SIGINT handler sets a flag. Multi-process (SIGTERM only): JAX's preemption service (started by
    ``jax.distributed.initialize``) catches the signal and makes every process agree on the same step
    (orbax ``reached_preemption``), so all of them save that step together.
    """

    def __init__(self):
        self._requested = threading.Event()
        self._previous = None

    def __enter__(self) -> "PreemptionGuard":
        if jax.process_count() == 1 and threading.current_thread() is threading.main_thread():
            self._previous = {signum: signal.signal(signum, self._on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in (self._previous or {}).items():
            signal.signal(signum, handler)
        self._previous = None

    def _on_signal(self, signum, frame) -> None:
        name = signal.Signals(signum).name
        logging.warning("%s received: saving a checkpoint and exiting (Ctrl-C again aborts without saving).", name)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        self._requested.set()

    def should_stop(self, step: int) -> bool:
        if jax.process_count() > 1:
            return ocp.multihost.reached_preemption(step)
        return self._requested.is_set()
