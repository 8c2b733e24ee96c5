"""JAX's persistent compilation cache: a program is compiled once per machine, not once per process.

XLA compiles every jitted program when a process first calls it: the train step of a 224 px network takes
tens of seconds on the CPU and more on a GPU (autotuning), and every restart, resumed run, eval or
benchmark of the same config pays it again. With the persistent cache on, XLA's executable is written to a
directory (keyed by the program, the jax/jaxlib version, the backend and its devices, the compile options
and XLA flags) and the next process that compiles the same program loads it instead. A changed program —
another model, batch size, dtype or mesh — is simply a new entry; nothing is ever reused across a change.

``enable(value)`` is called by the entry points (``main.py``, ``benchmarks/common.py``) before their first
compilation. ``value`` comes from ``config.compilation_cache_dir`` or ``--compilation-cache-dir``:
  None   the default directory (``default_dir()``): ``$LIGHTNETS_COMPILATION_CACHE_DIR`` when set, else
         ``$JAX_COMPILATION_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/lightnets/jax_compilation_cache``
         (``~/.cache/lightnets/jax_compilation_cache`` without ``XDG_CACHE_HOME``);
  ''     off;
  PATH   that directory (created if missing; ``~`` expanded; a URL such as ``gs://…`` is passed on as
         given, unchecked).
Either variable set to '' turns the default off (the test suite does this, tests/conftest.py).

What is cached: every program, however fast it compiled (``MIN_COMPILE_TIME_SECS = 0``; jax's default,
1 s, keeps the train, eval and init steps but compiles the dozen small programs around them again each
time: ~0.3 s of a warm digits start on the 2-core CPU, against ~0.05 s to load them) and of any size
(``jax_persistent_cache_min_entry_size_bytes=-1``: no size floor, and jax does not override it), plus
XLA:GPU's per-fusion autotuning results in a subdirectory (``XLA_CACHES``, jax's default; XLA:GPU's
kernel cache, ``'all'``, stays off as jax leaves it). Only process 0 writes; nothing is ever pruned
(delete the directory to reclaim its space; a digits run adds ~2 MB). The cache is trusted code: keep it
where only you can write, and do not share one directory between machines with different CPUs (the key
names the backend, not the CPU's instruction set). Tracing and lowering to StableHLO are not cached: a
warm start still traces each step before it finds the executable.
"""

from __future__ import annotations

import os

import jax

DIR_VARIABLE = "LIGHTNETS_COMPILATION_CACHE_DIR"
JAX_DIR_VARIABLE = "JAX_COMPILATION_CACHE_DIR"
SUBDIRECTORY = os.path.join("lightnets", "jax_compilation_cache")
MIN_COMPILE_TIME_SECS = 0.0  # seconds; 0 = every program
XLA_CACHES = "xla_gpu_per_fusion_autotune_cache_dir"


def default_dir() -> str:
    """The directory used when the config leaves ``compilation_cache_dir`` unset ('' = off); see the module
    docstring for the order in which it is looked up."""
    for variable in (DIR_VARIABLE, JAX_DIR_VARIABLE):
        if variable in os.environ:
            return os.environ[variable]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, SUBDIRECTORY)


def resolve(value: str | None) -> str:
    """The directory ``value`` names: ``default_dir()`` for None, '' (off) for '', else the path made
    absolute with ``~`` expanded (URLs as given)."""
    path = default_dir() if value is None else value
    if not path or "://" in path:
        return path
    return os.path.abspath(os.path.expanduser(path))


def check(value: str | None, *, name: str = "compilation_cache_dir") -> str:
    """Resolves ``value`` and makes sure the directory exists and takes a file; returns it ('' when off).

    Raises a one-line ValueError naming ``name``, the value and what would be valid, when the path is an
    existing file, cannot be created, or is not writable.
    """
    path = resolve(value)
    if not path or "://" in path:
        return path
    shown = f"{name}={value!r}" + (f" ({path})" if value != path else "")
    valid = "valid: a writable directory (created if missing), '' to turn the cache off, or unset for the default"
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{shown} is a file; {valid}")
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, f".write_probe_{os.getpid()}")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as error:
        raise ValueError(f"{shown} is not writable ({error.strerror or error}); {valid}") from error
    return path


def enable(value: str | None, *, name: str = "compilation_cache_dir") -> str:
    """Turns JAX's persistent compilation cache on in the directory ``value`` names (off for ''), after
    ``check``; returns the directory ('' when off). Call it before the process's first compilation; a
    later call switches directory for the compilations after it."""
    path = check(value, name=name)
    jax.config.update("jax_compilation_cache_dir", path or None)
    if path:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_TIME_SECS)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
        jax.config.update("jax_persistent_cache_enable_xla_caches", XLA_CACHES)
    # jax opens its cache at the first compilation and keeps it; reset it so this directory (or none) applies.
    from jax.experimental.compilation_cache import compilation_cache

    compilation_cache.reset_cache()
    return path


def entry_count(path: str) -> int:
    """How many compiled programs the cache directory ``path`` holds (0 for '' or a missing directory)."""
    if not path or not os.path.isdir(path):
        return 0
    return sum(1 for entry in os.listdir(path) if entry.endswith("-cache"))
