"""lightnets input pipeline: tfds datasets, each paper's preprocessing, per-process sharding, exact eval.

Importing this package does not import TensorFlow: the iterator functions load `input_pipeline.pipeline`
on first access, so train_lib can read dataset facts and configs on machines without TF.
"""

import importlib

from input_pipeline.config import default_data_config, validate_data_config
from input_pipeline.datasets import DATASET_NAMES, DatasetSpec, get_dataset_spec
from input_pipeline.errors import CorruptImageError

_PIPELINE_FUNCTIONS = ("create_train_iterator", "create_eval_iterator", "steps_per_epoch", "check_data_available")

__all__ = [
    "CorruptImageError",
    "DATASET_NAMES",
    "DatasetSpec",
    "get_dataset_spec",
    "default_data_config",
    "validate_data_config",
    *_PIPELINE_FUNCTIONS,
]


def __getattr__(name: str):
    if name == "check_data_available":
        return importlib.import_module("input_pipeline.sources").check_data_available
    if name in _PIPELINE_FUNCTIONS:
        return getattr(importlib.import_module("input_pipeline.pipeline"), name)
    raise AttributeError(f"module 'input_pipeline' has no attribute {name!r}")
