"""Autotuning: time every applicable implementation of each structured-op call of a function on this device,
and make ``impl='auto'`` trace the winners that also make the whole function faster.

cuDNN's benchmark mode picks a kernel inside one convolution; this picks among algebraically equal forms of
a structured op (a grouped convolution as ``lax``, ``shifted``, ``depthwise_sum``, ``block_diagonal``…),
whose speed ranking depends on the device, the shape and the dtype (docs/ops.md#autotune).

``autotune(fn, *args)`` works in two stages:

1. **Per call.** It traces ``fn`` abstractly to collect its ``OpCall``s and times every applicable
   implementation of each: forward + backward (``jax.vjp``, gradients w.r.t. every array argument) of the op
   alone, jitted, the median of ``repeats`` runs after a warm-up. The implementation ``AUTO_CHOICES`` would
   trace is timed first; another is not timed at the call's batch size when a batch-1 probe of it already
   takes longer (so a form orders of magnitude slower costs one small run). Calls the budget does not reach
   keep the static choice (``AutotuneResult.skipped``).
2. **In context.** An op timed alone can lose inside the network (a layout change that costs a transpose
   elsewhere, a gather whose gradient is a scatter): the per-call winners are kept only where they make
   ``fn``'s own forward + backward faster. ``fn`` is timed with the static choices and with all winners; if
   the winners lose, each (op, case) group of winners is tried on its own on top of the best set so far and
   kept if it gains more than ``MIN_GAIN``. A change that cannot be timed within the budget is not made.

The cache is one JSON file per (platform, device kind, jax version) in ``cache_dir``: per-call timings keyed
by ``OpCall.key`` (op, shape case, argument shapes, dtype, options), written after each measured call, and
the verdict of stage 2 keyed by the set of calls, so a later process with the same function measures
nothing. Files are replaced atomically: an interrupted run keeps what it measured.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pathlib
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from lightnets.ops import dispatch

CACHE_DIR_ENV = "LIGHTNETS_AUTOTUNE_CACHE"
# Stage 2 keeps a set of per-call winners only when fn's forward + backward gets at least this much faster.
MIN_GAIN = 0.02
# Stage 1 stops starting measurements after this share of the time budget; the rest is stage 2's.
PER_CALL_SHARE = 0.6


def default_cache_dir() -> pathlib.Path | None:
    """``$LIGHTNETS_AUTOTUNE_CACHE`` if set ('' = no cache: None), else ``$XDG_CACHE_HOME/lightnets/autotune``
    (``~/.cache/lightnets/autotune`` without XDG_CACHE_HOME)."""
    if CACHE_DIR_ENV in os.environ:
        return pathlib.Path(os.environ[CACHE_DIR_ENV]).expanduser() if os.environ[CACHE_DIR_ENV] else None
    return pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache") / "lightnets" / "autotune"


@dataclasses.dataclass
class AutotuneResult:
    """What ``autotune`` did.

    Attributes:
      choices: ``OpCall.key`` → implementation ``auto`` now traces, for every call whose choice was tuned
        (per-call winners kept by the in-context check; calls that keep the static choice are absent).
      static_choices: ``OpCall.key`` → what ``AUTO_CHOICES`` alone picks, for every call ``fn`` made.
      rejected: ``OpCall.key`` → per-call winner that the in-context check did not keep.
      timings: ``OpCall.key`` → {implementation: median seconds (forward+backward)} measured by this call
        (probed-out implementations hold their batch-1 probe time, a lower bound of their full time).
      function_seconds: {candidate: median seconds of ``fn``'s forward + backward} timed in stage 2 by this
        call ('static', 'all winners', or the (op, case) group added to the best set so far).
      cached: keys whose per-call timings came from the cache, not measured again.
      skipped: keys left to the static choice because the time budget ran out before they were measured.
      seconds: wall time of the whole call.
      cache_file: the JSON file read and written (None when caching is off).
    """

    choices: dict[str, str]
    static_choices: dict[str, str]
    rejected: dict[str, str]
    timings: dict[str, dict[str, float]]
    function_seconds: dict[str, float]
    cached: list[str]
    skipped: list[str]
    seconds: float
    cache_file: pathlib.Path | None


def record_calls(fn: Callable[..., Any], *args: Any) -> dict[str, dispatch.OpCall]:
    """Every ``OpCall`` that ``fn(*args)`` resolves with ``impl='auto'``, by key; traced with ``eval_shape``.

    ``fn`` must trace its ops when called (pass the plain function, not one already jitted and traced at
    these shapes, whose cached trace would resolve nothing).
    """
    with dispatch.recording() as calls:
        jax.eval_shape(lambda *a: fn(*a), *args)
    return calls


def cache_file(cache_dir: str | os.PathLike) -> pathlib.Path:
    """The cache file for this process's device: ``<platform>-<device kind>-jax<version>.json``."""
    device = jax.devices()[0]
    name = f"{device.platform}-{device.device_kind}-jax{jax.__version__}"
    return pathlib.Path(cache_dir) / (re.sub(r"[^A-Za-z0-9._-]+", "_", name) + ".json")


def _load(path: pathlib.Path) -> dict[str, dict]:
    bad = f"autotune cache {path} is not a lightnets autotune file"
    try:
        saved = json.loads(path.read_text())
        calls, functions = dict(saved["calls"]), dict(saved.get("functions", {}))
        for entry in calls.values():
            if not all(isinstance(t, (int, float)) for t in dict(entry["seconds"]).values()):
                raise TypeError("a timing is not a number")
        for verdict in functions.values():
            dict(verdict["winners"]), dict(verdict["kept"])
    except FileNotFoundError:
        return {"calls": {}, "functions": {}}
    except OSError as error:
        raise ValueError(f"{bad} ({error.strerror}); valid: a JSON file written by autotune, or none") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{bad} ({error}); delete it") from None
    return {"calls": calls, "functions": functions}


def check_cache_dir(cache_dir: str | os.PathLike | None) -> pathlib.Path | None:
    """The cache directory ``autotune`` would use for ``cache_dir`` (None: ``default_cache_dir()``; '': none),
    checked before any work: it, or its nearest existing parent, must be a writable directory.

    Raises:
      ValueError: one line naming the directory and what is valid.
    """
    directory = default_cache_dir() if cache_dir is None else cache_dir
    if not directory:
        return None
    path = pathlib.Path(directory).expanduser()
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        why = "is not a directory" if not existing.is_dir() else "is not writable"
        raise ValueError(f"autotune cache directory {str(path)!r}: {str(existing)!r} {why}; valid: a writable "
                         "directory (created if missing), or '' to keep results in this process only")
    return path


def _save(path: pathlib.Path, entries: dict[str, dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    device = jax.devices()[0]
    text = json.dumps({"device": device.device_kind, "platform": device.platform, "jax": jax.__version__,
                       **entries}, indent=1, sort_keys=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=path.name, suffix=".tmp", delete=False) as f:
        f.write(text)
    os.chmod(f.name, 0o644)
    os.replace(f.name, path)


def _arguments(call: dispatch.OpCall, batch: int | None) -> list[jax.Array]:
    shapes = [call.shapes[0] if batch is None else (batch, *call.shapes[0][1:]), *call.shapes[1:]]
    keys = jax.random.split(jax.random.key(0), len(shapes))
    return [jax.random.normal(k, s, jnp.float32).astype(call.dtype) for k, s in zip(keys, shapes)]


def _median_seconds(compiled: Callable[..., Any], arrays: Any, repeats: int) -> float:
    """Median wall seconds of ``repeats`` calls of ``compiled(*arrays)`` after one warm-up call."""
    jax.block_until_ready(compiled(*arrays))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(compiled(*arrays))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_call(call: dispatch.OpCall, impl: str, *, repeats: int = 3, batch: int | None = None) -> float:
    """Median seconds of one jitted forward+backward of ``call`` with ``impl`` (after a warm-up run);
    ``batch`` replaces the first argument's leading (batch) size."""
    arrays = _arguments(call, batch)
    op = call.function(impl)

    def forward_backward(*arrays):
        y, vjp = jax.vjp(op, *arrays)
        return vjp(jnp.ones_like(y))

    compiled = jax.jit(forward_backward).lower(*arrays).compile()
    return _median_seconds(compiled, arrays, repeats)


def _concrete(tree: Any) -> Any:
    """``tree`` with each ``jax.ShapeDtypeStruct`` leaf replaced by a small random array of its shape and dtype."""
    leaves, treedef = jax.tree.flatten(tree)
    keys = jax.random.split(jax.random.key(1), max(len(leaves), 1))
    made = [(0.1 * jax.random.normal(k, leaf.shape, jnp.float32)).astype(leaf.dtype)
            if isinstance(leaf, jax.ShapeDtypeStruct) else leaf for k, leaf in zip(keys, leaves)]
    return jax.tree.unflatten(treedef, made)


def measure_function(fn: Callable[..., Any], args: tuple, choices: dict[str, str], *, repeats: int = 3) -> float:
    """Median seconds of one jitted forward + backward of ``fn(*args)`` (ones cotangent, gradients w.r.t.
    every argument) traced with ``choices`` (``dispatch.tuned_choices``), after a warm-up run."""
    arrays = _concrete(args)

    def forward_backward(*arrays):
        y, vjp = jax.vjp(fn, *arrays)
        return vjp(jax.tree.map(jnp.ones_like, y))

    with dispatch.tuned_choices(choices):
        compiled = jax.jit(forward_backward).lower(*arrays).compile()
    return _median_seconds(compiled, arrays, repeats)


def static_choice(call: dispatch.OpCall) -> str:
    """What ``AUTO_CHOICES`` picks for ``call`` on the current backend (canonical where it has no entry)."""
    chosen = dispatch.AUTO_CHOICES.get((call.op, call.case, dispatch.current_backend()), call.applicable[0])
    return chosen if chosen in call.applicable else call.applicable[0]


def _measure_impls(
    call: dispatch.OpCall, measure: Callable[..., float], repeats: int, deadline: float,
) -> dict[str, float] | None:
    """{impl: seconds} for every applicable impl, the static choice first; None if the deadline passed."""
    first = static_choice(call)
    timings: dict[str, float] = {}
    for impl in (first, *(i for i in call.applicable if i != first)):
        if time.monotonic() > deadline:
            return None
        if timings and call.shapes[0][0] > 1:
            probe = measure(call, impl, repeats=1, batch=1)
            if probe > min(timings.values()):
                timings[impl] = probe
                continue
        timings[impl] = measure(call, impl, repeats=repeats)
    return timings


def _keep_in_context(
    time_fn: Callable[[dict[str, str]], float], winners: dict[str, str], calls: dict[str, dispatch.OpCall],
    deadline: float, function_seconds: dict[str, float],
) -> tuple[dict[str, str], bool]:
    """Stage 2 (module docstring): the subset of ``winners`` that makes the function faster, by (op, case)
    group, and whether every candidate was timed before the deadline."""
    if time.monotonic() > deadline:
        return {}, False
    function_seconds["static"] = best_seconds = time_fn({})
    if time.monotonic() > deadline:
        return {}, False
    function_seconds["all winners"] = seconds = time_fn(winners)
    if seconds < (1 - MIN_GAIN) * best_seconds:
        return dict(winners), True
    groups: dict[str, dict[str, str]] = {}
    for key, impl in winners.items():
        groups.setdefault(f"{calls[key].op}/{calls[key].case}", {})[key] = impl
    best: dict[str, str] = {}
    for name, group in sorted(groups.items()):
        if len(groups) == 1:
            break
        if time.monotonic() > deadline:
            return best, False
        function_seconds[f"+{name}"] = seconds = time_fn({**best, **group})
        if seconds < (1 - MIN_GAIN) * best_seconds:
            best, best_seconds = {**best, **group}, seconds
    return best, True


def autotune(
    fn: Callable[..., Any], *args: Any, cache_dir: str | os.PathLike | None = None, time_budget_s: float = 120.0,
    repeats: int = 3, measure: Callable[..., float] = measure_call,
    measure_fn: Callable[..., float] | None = measure_function,
) -> AutotuneResult:
    """Measures the structured-op calls of ``fn(*args)`` on this device and makes ``auto`` use the winners
    that also make ``fn`` faster (see the module docstring for the two stages).

    Args:
      fn: the function whose ops to tune (e.g. ``lambda v, x: model.apply(v, x, train=True, ...)``), not
        yet traced at these shapes; ``args`` may be arrays or ``jax.ShapeDtypeStruct``s; its outputs must be
        floating point (stage 2 differentiates it).
      cache_dir: where results are kept across processes (``default_cache_dir()`` if None; '' keeps no
        measurements: the choices still apply in this process, a later call measures again).
      time_budget_s: no measurement starts after this many seconds (one running measurement finishes);
        stage 1 stops at ``PER_CALL_SHARE`` of it.
      repeats: timed runs per measurement (the median is kept).
      measure: ``measure(call, impl, repeats=, batch=)`` → seconds (stage 1); ``measure_call`` by default.
      measure_fn: ``measure_fn(fn, args, choices, repeats=)`` → seconds (stage 2); None keeps every per-call
        winner untested in context.

    Returns:
      An ``AutotuneResult``. Its choices are already given to ``lightnets.ops.use_tuned``: trace (jit) the
      functions that should use them after this call.

    Raises:
      ValueError: ``time_budget_s`` not finite seconds >= 0, ``repeats`` < 1, a cache directory that is not
        a writable directory (``check_cache_dir``), or a cache file that is not an autotune file.
    """
    if isinstance(time_budget_s, bool) or not isinstance(time_budget_s, (int, float)) or not (
            math.isfinite(time_budget_s) and time_budget_s >= 0):
        raise ValueError(f"autotune: time_budget_s={time_budget_s!r}; valid: finite seconds >= 0")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"autotune: repeats={repeats!r}; valid: an integer >= 1")
    start = time.monotonic()
    directory = check_cache_dir(cache_dir)
    calls = record_calls(fn, *args)
    path = cache_file(directory) if directory else None
    entries = _load(path) if path else {"calls": {}, "functions": {}}
    result = AutotuneResult({}, {key: static_choice(call) for key, call in calls.items()}, {}, {}, {}, [], [], 0.0, path)
    winners = {}
    for key, call in calls.items():
        entry = entries["calls"].get(key)
        if entry and set(entry.get("seconds", {})) == set(call.applicable):
            result.cached.append(key)
            timings = entry["seconds"]
        else:
            timings = _measure_impls(call, measure, repeats, start + PER_CALL_SHARE * time_budget_s)
            if timings is None:
                result.skipped.append(key)
                continue
            result.timings[key] = timings
            entries["calls"][key] = {"seconds": timings}
            if path:
                _save(path, entries)
        winner = min(timings, key=timings.get)
        if winner != result.static_choices[key]:
            winners[key] = winner
    signature = "\n".join(sorted(calls))
    verdict = entries["functions"].get(signature)
    if verdict is not None and verdict["winners"] == winners:
        kept = verdict["kept"]
    elif measure_fn is None or not winners:
        kept = winners
    else:
        kept, complete = _keep_in_context(lambda choices: measure_fn(fn, args, choices, repeats=repeats), winners,
                                          calls, start + time_budget_s, result.function_seconds)
        if complete and not result.skipped:
            entries["functions"][signature] = {"winners": winners, "kept": kept, "seconds": result.function_seconds}
            if path:
                _save(path, entries)
    result.choices = dict(kept)
    result.rejected = {key: impl for key, impl in winners.items() if key not in kept}
    dispatch.use_tuned(result.choices)
    result.seconds = time.monotonic() - start
    return result
