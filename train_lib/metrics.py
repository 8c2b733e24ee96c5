"""Turning per-step device metrics into reported numbers, and stopping on a non-finite loss."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or Inf; the run stops without saving."""


def average_train_metrics(step_metrics: Sequence[dict[str, jax.Array]], *, first_step: int) -> dict[str, float]:
    """Means over the steps ``first_step, first_step+1, ...`` of ``step_metrics``.

    Raises NonFiniteLossError naming the first step whose loss (cross-entropy + L2) is not finite.
    """
    host = jax.device_get(list(step_metrics))
    total = np.asarray([m["loss"] + m["l2"] for m in host])
    bad = np.flatnonzero(~np.isfinite(total))
    if bad.size:
        raise NonFiniteLossError(f"training loss is {total[bad[0]]} at step {first_step + int(bad[0])}")
    return {key: float(np.mean([m[key] for m in host])) for key in host[0]}


def summarize_eval(sums: Sequence[dict[str, jax.Array]], *, step: int) -> dict[str, float | int]:
    """Exact eval metrics from per-batch masked sums: ``top1``, ``top5`` (fractions), mean ``loss``,
    ``examples`` counted and the train ``step`` evaluated."""
    host = jax.device_get(list(sums))
    totals = {key: float(np.sum([s[key] for s in host])) for key in ("top1", "top5", "loss", "examples")}
    examples = totals["examples"]
    if examples == 0:
        raise ValueError("the eval split produced no examples")
    return {"top1": totals["top1"] / examples, "top5": totals["top5"] / examples,
            "loss": totals["loss"] / examples, "examples": int(examples), "step": step}
