"""What a run tells its user: TensorBoard event files, and the console's progress, eval and summary lines.

TensorBoard scalars are written as classic ``simple_value`` summaries (through tensorboardX), which every
reader lists as scalars — TensorBoard's UI and ``EventAccumulator.Scalars()`` alike.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jax
from tensorboardX import SummaryWriter
from tensorboardX.summary import hparams as hparams_summaries


class TensorBoardWriter:
    """Scalars and hparams into ``logdir`` (tensorboardX, no TensorFlow); a no-op on processes other than 0.

    A context manager: leaving it flushes and closes the event file, on every exit path."""

    def __init__(self, logdir: str):
        self._writer = SummaryWriter(logdir=logdir) if jax.process_index() == 0 else None

    def __enter__(self) -> "TensorBoardWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        if self._writer is not None:
            self._writer.close()

    def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
        if self._writer is not None:
            for key, value in scalars.items():
                self._writer.add_scalar(key, float(value), global_step=step)

    def write_hparams(self, hparams: Mapping[str, Any]) -> None:
        """The hparams plugin's experiment and session records, in this writer's own event file."""
        if self._writer is not None:
            for summary in hparams_summaries(dict(hparams), {}):
                self._writer.file_writer.add_summary(summary)


def format_duration(seconds: float) -> str:
    """``h:mm:ss`` (e.g. ``0:01:37``)."""
    seconds = max(0, round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def format_eval(eval_metrics: Mapping[str, Any]) -> str:
    """One eval's metrics (``metrics.summarize_eval``) as ``top-1 98.31%  top-5 100.00%  loss 0.0458  (step
    880, 355 examples)``."""
    return (f"top-1 {100 * eval_metrics['top1']:.2f}%  top-5 {100 * eval_metrics['top5']:.2f}%  "
            f"loss {eval_metrics['loss']:.4f}  (step {eval_metrics['step']}, {eval_metrics['examples']} examples)")


class Progress:
    """Training speed and ETA measured after compilation and excluding evaluation.

    The clock starts when the first step of this process has finished (``start``); ``pause`` brackets
    evaluations, the latest of whose durations is added to the ETA for each evaluation still to come.
    """

    def __init__(self, *, first_step: int, num_train_steps: int, batch_size: int):
        self._first_step, self._total, self._batch_size = first_step, num_train_steps, batch_size
        self._started: float | None = None
        self._paused = 0.0
        self._eval_seconds: list[float] = []
        self.compile_seconds: float | None = None
        self._launched = time.perf_counter()

    def start(self) -> None:
        """Marks the end of the first (compiling) step."""
        self._started = time.perf_counter()
        self.compile_seconds = self._started - self._launched

    def pause(self, seconds: float) -> None:
        """Excludes ``seconds`` of evaluation from the training time."""
        self._paused += seconds
        self._eval_seconds.append(seconds)

    def steps_per_second(self, step: int) -> float | None:
        """Steps per second since ``start`` (the first step excluded), or None before two steps."""
        if self._started is None or step <= self._first_step + 1:
            return None
        return (step - self._first_step - 1) / max(time.perf_counter() - self._started - self._paused, 1e-9)

    def line(self, step: int, metrics: Mapping[str, float], *, learning_rate: float, evals_left: int) -> str:
        """``step 220/880 (25%)  loss 0.5120  accuracy 84.4%  lr 0.0150  1,234 img/s  19.3 steps/s  ETA 0:00:34``."""
        text = (f"step {step}/{self._total} ({100 * step / self._total:.0f}%)  loss {metrics['loss']:.4f}  "
                f"accuracy {100 * metrics['accuracy']:.1f}%  lr {learning_rate:.4g}")
        rate = self.steps_per_second(step)
        if rate is None:
            return text
        evals = evals_left * self._eval_seconds[-1] if self._eval_seconds else 0.0  # the first one compiles
        return (f"{text}  {rate * self._batch_size:,.0f} img/s  {rate:.2f} steps/s  "
                f"ETA {format_duration((self._total - step) / rate + evals)}")

    def scalars(self, step: int) -> dict[str, float]:
        rate = self.steps_per_second(step)
        return {} if rate is None else {"train/steps_per_sec": rate, "train/images_per_sec": rate * self._batch_size}
