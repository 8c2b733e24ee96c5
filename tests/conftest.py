"""Test-wide settings: 8 simulated CPU devices for sharding tests; TF kept off any accelerator; hypothesis
draws the same examples on every run (a failure reproduces; CI is not a lottery)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import jax  # noqa: E402
from hypothesis import settings  # noqa: E402

settings.register_profile("lightnets", derandomize=True, database=None)
settings.load_profile("lightnets")

jax.config.update("jax_num_cpu_devices", 8)
