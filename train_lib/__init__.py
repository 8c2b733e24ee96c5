"""Training: sharded state, the papers' optimizers and schedules, jitted steps, checkpoints, reporting.

train_lib never imports TensorFlow: the input pipeline is passed in (see ``train_and_evaluate``) and
TensorBoard files are written with tensorboardX. The loop module ``train_lib.train`` is loaded on first
use of its functions, so ``import train_lib`` stays light: it and the train-step modules (``state``,
``steps``, ``partitioning``, ``losses``) need only jax, flax and optax, not ml_collections, clu or
TensorFlow (``tests/benchmarks/test_bare_host.py``).
"""

import importlib

from train_lib.errors import ConfigError
from train_lib.metrics import DivergenceError

_LOOP_FUNCTIONS = ("train_and_evaluate", "evaluate", "check_config", "save_weights")
__all__ = ["ConfigError", "DivergenceError", "format_eval", "published_figure", *_LOOP_FUNCTIONS]


def __getattr__(name: str):
    if name in _LOOP_FUNCTIONS:
        return getattr(importlib.import_module("train_lib.train"), name)
    if name == "format_eval":
        return importlib.import_module("train_lib.reporting").format_eval
    if name == "published_figure":
        return importlib.import_module("train_lib.weights").published_figure
    raise AttributeError(f"module 'train_lib' has no attribute {name!r}")
