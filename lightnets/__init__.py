"""lightnets: efficient convolutional networks in JAX/Flax, faithful to their papers."""

from lightnets.registry import (
    ReferenceCounts, create_model, list_models, model_options, reference_counts, register_model,
)

__all__ = ["ReferenceCounts", "create_model", "list_models", "model_options", "reference_counts", "register_model"]
