"""Turning per-step device metrics into reported numbers, and stopping a diverging run."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np


class DivergenceError(FloatingPointError):
    """Training diverged (a non-finite loss, or a cross-entropy far above chance); the run stops unsaved."""


def average_train_metrics(
    step_metrics: Sequence[dict[str, jax.Array]], *, first_step: int, max_loss: float = np.inf,
) -> dict[str, float]:
    """Means over the steps ``first_step, first_step+1, ...`` of ``step_metrics``.

    Raises DivergenceError naming the first step whose loss (cross-entropy + L2) is not finite, or whose
    cross-entropy exceeds ``max_loss`` (finite-but-huge divergence: the loop passes a multiple of the
    chance-level loss ln(num_classes)).
    """
    host = jax.device_get(list(step_metrics))
    total = np.asarray([m["loss"] + m["l2"] for m in host])
    bad = np.flatnonzero(~np.isfinite(total))
    if bad.size:
        raise DivergenceError(f"training loss is {total[bad[0]]} at step {first_step + int(bad[0])}")
    cross_entropy = np.asarray([m["loss"] for m in host])
    high = np.flatnonzero(cross_entropy > max_loss)
    if high.size:
        raise DivergenceError(f"training cross-entropy is {cross_entropy[high[0]]:.4g} at step "
                              f"{first_step + int(high[0])}, above the divergence limit {max_loss:.4g}")
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
