"""Test-wide JAX settings: 8 simulated CPU devices for sharding tests; TF kept off any accelerator."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import jax  # noqa: E402

jax.config.update("jax_num_cpu_devices", 8)
