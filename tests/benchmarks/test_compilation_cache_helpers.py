"""benchmarks.common's compilation-cache helpers: a flag with the shared default, a one-line error, and a
compile time that says whether it was a cache load."""

import argparse

import jax
import jax.numpy as jnp
import pytest

from benchmarks import common

def _parser():
    parser = argparse.ArgumentParser(prog="bench")
    common.add_compilation_cache_argument(parser)
    return parser


def test_timed_compile_tells_a_first_compile_from_a_cache_load(tmp_path, jax_cache_config):
    parser = _parser()
    args = parser.parse_args([f"--compilation-cache-dir={tmp_path / 'cache'}"])
    assert common.enable_compilation_cache(parser, args.compilation_cache_dir) == str(tmp_path / "cache")

    def new_step():  # a new function object each time: jax's in-memory caches miss, XLA's program is the same
        def step(x):
            return jnp.sin(x) @ x.T - 0.5
        return jax.jit(step)

    x = jnp.ones((16, 16))
    first = common.timed_compile(new_step(), x)
    again = common.timed_compile(new_step(), x)
    assert not first.cache_hit and again.cache_hit and first.seconds > 0
    metadata = common._cache_state
    assert metadata["dir"] == str(tmp_path / "cache") and metadata["entries_at_start"] == 0


def test_an_empty_flag_turns_it_off_and_a_file_is_a_usage_error(tmp_path, jax_cache_config, capsys):
    parser = _parser()
    args = parser.parse_args(["--compilation-cache-dir="])
    assert common.enable_compilation_cache(parser, args.compilation_cache_dir) == ""
    assert jax.config.jax_compilation_cache_dir is None
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    with pytest.raises(SystemExit) as exit_info:
        common.enable_compilation_cache(parser, str(a_file))
    assert exit_info.value.code == 2
    assert f"bench: error: --compilation-cache-dir='{a_file}' is a file; valid: " in capsys.readouterr().err
