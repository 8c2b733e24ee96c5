"""The errors the training entry points report as one line; importing this module loads nothing else.

``ConfigError`` lives here rather than in ``config_validation`` (which imports ml_collections and the model
registry), so ``import train_lib`` and the train-step modules (state, steps, partitioning, losses) run on a
host with only jax, flax and optax, such as the benchmark GPU image. ``config_validation`` re-exports it.
"""


class ConfigError(ValueError):
    """A config value that cannot train; the message names the field, the bad value and the valid ones."""
