"""Training: sharded state, the papers' optimizers and schedules, jitted steps, checkpoints, reporting.

train_lib never imports TensorFlow itself: the input pipeline is passed in (see ``train_and_evaluate``).
The loop module ``train_lib.train`` reports through clu's metric writers, whose package imports
TensorFlow for its TensorBoard writer, so it is loaded on first use of ``train_and_evaluate``; every other
module (state, steps, optimizers, schedules, checkpointing, ...) imports without TensorFlow.
"""

import importlib

from train_lib.config_validation import ConfigError
from train_lib.metrics import NonFiniteLossError

__all__ = ["ConfigError", "NonFiniteLossError", "train_and_evaluate"]


def __getattr__(name: str):
    if name == "train_and_evaluate":
        return importlib.import_module("train_lib.train").train_and_evaluate
    raise AttributeError(f"module 'train_lib' has no attribute {name!r}")
