"""Files in the workdir besides checkpoints and TensorBoard logs: the run's identity and its final results."""

from __future__ import annotations

import json
from typing import Any

import jax
from etils import epath

from train_lib.config_validation import ConfigError

IDENTITY_FILE = "run.json"
RESULTS_FILE = "results.json"


def check_run_identity(workdir: str, identity: dict[str, Any]) -> None:
    """Records ``identity`` (model, dataset, ...) in a new workdir; refuses a workdir of another run.

    Raises ConfigError naming both runs when ``<workdir>/run.json`` describes a different one.
    """
    path = epath.Path(workdir) / IDENTITY_FILE
    if path.exists():
        stored = json.loads(path.read_text())
        if stored != identity:
            diff = ", ".join(f"{k}: {stored.get(k)!r} there vs {identity.get(k)!r} here"
                             for k in sorted(set(stored) | set(identity)) if stored.get(k) != identity.get(k))
            raise ConfigError(f"workdir {workdir} holds a different run ({diff}); use another --workdir or "
                             f"the matching config")
        return
    if jax.process_index() == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(identity, indent=2, sort_keys=True) + "\n")


def write_results(workdir: str, results: dict[str, Any]) -> None:
    """Writes the final eval metrics to ``<workdir>/results.json`` (first process only)."""
    if jax.process_index() == 0:
        (epath.Path(workdir) / RESULTS_FILE).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
