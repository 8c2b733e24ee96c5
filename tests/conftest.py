"""Test-wide settings: 8 simulated CPU devices for sharding tests; TF kept off any accelerator; hypothesis
draws the same examples on every run (a failure reproduces; CI is not a lottery)."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The CPU suite never needs triton, and importing torchvision or timm (torch._dynamo imports triton) after
# TensorFlow is loaded crashes in triton's native module; marking it absent makes torch take its no-triton path.
sys.modules.setdefault("triton", None)

import jax  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

settings.register_profile("lightnets", derandomize=True, database=None)
settings.load_profile("lightnets")

jax.config.update("jax_num_cpu_devices", 8)

# JAX's persistent compilation cache off for the suite and every process it starts (main.py, benchmarks):
# tests never write to the user's cache directory; tests of the cache pass their own tmp_path directory.
os.environ["LIGHTNETS_COMPILATION_CACHE_DIR"] = ""
# Likewise the autotune cache (lightnets.ops.tuning): tests that use one pass a tmp_path directory.
os.environ["LIGHTNETS_AUTOTUNE_CACHE"] = ""

_JAX_CACHE_OPTIONS = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs",
                      "jax_persistent_cache_min_entry_size_bytes", "jax_persistent_cache_enable_xla_caches")


@pytest.fixture
def jax_cache_config():
    """Restores jax's compilation-cache options (and the cache jax opened) after a test that enables it in-process."""
    saved = {name: getattr(jax.config, name) for name in _JAX_CACHE_OPTIONS}
    yield
    for name, value in saved.items():
        jax.config.update(name, value)
    from jax.experimental.compilation_cache import compilation_cache as jax_cache

    jax_cache.reset_cache()
