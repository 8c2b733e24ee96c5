"""lightnets: efficient convolutional networks in JAX/Flax, faithful to their papers."""

__version__ = "0.1.0"  # the single source: pyproject.toml reads it (tool.setuptools.dynamic)

from lightnets.registry import (
    ReferenceCounts, create_model, list_models, model_options, reference_counts, register_model,
)

__all__ = ["ReferenceCounts", "create_model", "list_models", "model_options", "reference_counts", "register_model"]
