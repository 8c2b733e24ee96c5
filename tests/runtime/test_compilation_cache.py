"""runtime.compilation_cache: a second process loads what the first compiled; the config's default turns the
cache on in the user's cache directory, '' turns it off; a bad directory is one line naming it.

Every directory here is under tmp_path (the suite itself runs with the cache off: tests/conftest.py).
"""

import json
import os
import subprocess
import sys

import jax
import pytest

from configs import default
from runtime import compilation_cache
from train_lib import workdir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Counts jax's own monitoring events: a write records cache_misses, a load cache_hits.
PROBE = """
import json, sys
import jax, jax.numpy as jnp
from runtime import compilation_cache
events = []
jax.monitoring.register_event_listener(lambda event, **_: events.append(event))
path = compilation_cache.enable(sys.argv[1])
jax.jit(lambda x: jnp.tanh(x @ x.T) * 3 + 1)(jnp.arange(64.0).reshape(8, 8)).block_until_ready()
print(json.dumps({"path": path, "entries": compilation_cache.entry_count(path),
                  "hits": events.count("/jax/compilation_cache/cache_hits"),
                  "writes": events.count("/jax/compilation_cache/cache_misses")}))
"""
def _probe(cache_dir) -> dict:
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", PROBE, str(cache_dir)], cwd=ROOT, env=env, capture_output=True,
                            text=True, check=True, timeout=120)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_second_process_loads_the_first_ones_programs(tmp_path):
    cache_dir = tmp_path / "cache"
    first = _probe(cache_dir)
    assert first["path"] == str(cache_dir) and first["hits"] == 0
    assert first["writes"] >= 1 and first["entries"] == first["writes"]
    assert any(name.startswith("jit__lambda") for name in os.listdir(cache_dir))
    second = _probe(cache_dir)
    assert second["hits"] == first["writes"] and second["writes"] == 0  # every program loaded, none compiled
    assert second["entries"] == first["entries"]


@pytest.fixture
def user_env(monkeypatch, tmp_path):
    """No cache variable set; XDG_CACHE_HOME and HOME under tmp_path."""
    for variable in (compilation_cache.DIR_VARIABLE, compilation_cache.JAX_DIR_VARIABLE):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_the_config_default_turns_the_cache_on_in_the_user_cache_dir(user_env, jax_cache_config):
    config = default.get_config()
    assert config.compilation_cache_dir is None
    expected = str(user_env / "xdg" / "lightnets" / "jax_compilation_cache")
    assert compilation_cache.enable(config.compilation_cache_dir) == expected
    assert os.path.isdir(expected)
    assert jax.config.jax_compilation_cache_dir == expected
    assert jax.config.jax_persistent_cache_min_compile_time_secs == compilation_cache.MIN_COMPILE_TIME_SECS
    assert jax.config.jax_persistent_cache_min_entry_size_bytes == -1


def test_without_xdg_cache_home_the_default_is_under_home(user_env, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert compilation_cache.default_dir() == str(user_env / "home" / ".cache" / "lightnets" / "jax_compilation_cache")


def test_an_empty_string_turns_it_off(user_env, monkeypatch, jax_cache_config):
    compilation_cache.enable(str(user_env / "on"))
    assert compilation_cache.enable("") == ""
    assert jax.config.jax_compilation_cache_dir is None
    monkeypatch.setenv(compilation_cache.DIR_VARIABLE, "")  # what tests/conftest.py sets for the suite
    assert compilation_cache.enable(None) == "" and jax.config.jax_compilation_cache_dir is None
    assert not (user_env / "xdg").exists() and not (user_env / "home").exists()  # no default directory made


def test_the_variables_set_the_default_directory(user_env, monkeypatch):
    monkeypatch.setenv(compilation_cache.JAX_DIR_VARIABLE, str(user_env / "jax"))
    assert compilation_cache.resolve(None) == str(user_env / "jax")
    monkeypatch.setenv(compilation_cache.DIR_VARIABLE, str(user_env / "ours"))
    assert compilation_cache.resolve(None) == str(user_env / "ours")
    assert compilation_cache.resolve(str(user_env / "explicit")) == str(user_env / "explicit")
    assert compilation_cache.resolve("gs://bucket/cache") == "gs://bucket/cache"


def test_a_bad_directory_is_one_line_naming_it(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    with pytest.raises(ValueError, match=rf"^compilation_cache_dir='{a_file}' is a file; valid: a writable directory"):
        compilation_cache.check(str(a_file))
    with pytest.raises(ValueError, match=rf"compilation_cache_dir='{a_file}/sub' is not writable \(.*\); valid: "):
        compilation_cache.check(str(a_file / "sub"))
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(ValueError, match="is not writable"):
            compilation_cache.check(str(locked))


def test_main_stops_on_a_bad_directory_with_exit_2_and_one_line(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    result = subprocess.run(
        [sys.executable, "main.py", "--config=configs/digits.py", f"--workdir={tmp_path / 'w'}",
         f"--config.compilation_cache_dir={a_file}"],
        cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, LIGHTNETS_HUGEPAGE_MALLOC="0"), timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"main.py: error: compilation_cache_dir='{a_file}' is a file; valid: a writable directory (created if "
        "missing), '' to turn the cache off, or unset for the default"]
    assert not (tmp_path / "w").exists()  # stopped before any other work


def test_a_changed_cache_dir_does_not_block_resuming():
    config = default.get_config()
    stored = workdir.config_to_dict(config)
    config.compilation_cache_dir = "/elsewhere"
    assert workdir.config_changes(stored, config) == []
    del stored["compilation_cache_dir"]  # a config.json written before the field existed
    assert workdir.config_changes(stored, config) == []
