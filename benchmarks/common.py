"""Shared benchmark helpers: timing (median after warm-up), compile timing with the persistent compilation
cache, run metadata, JSON results, markdown tables.

Compilation cache (``runtime/compilation_cache.py``): a script calls ``add_compilation_cache_argument(parser)``
and, after parsing, ``enable_compilation_cache(parser, args.compilation_cache_dir)`` before its first compile.
The default is main.py's directory (``$LIGHTNETS_COMPILATION_CACHE_DIR``, else ``$JAX_COMPILATION_CACHE_DIR``,
else ``$XDG_CACHE_HOME/lightnets/jax_compilation_cache``); ``--compilation-cache-dir=`` turns it off. With the
cache on, a compile of a program an earlier run compiled is a load from disk, not a compile:
``timed_compile`` says which (``cache_hit``), so a table can show "first compile" and "cached compile"
apart, and ``run_metadata`` records the directory and how many programs it held when the run started. For a
first-compile figure on a warm machine, run with ``--compilation-cache-dir=`` (or a new directory).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import pathlib
import platform
import shlex
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence

import jax

from lightnets import ops
from runtime import compilation_cache, host_memory

RESULTS_DIR = pathlib.Path(__file__).resolve().parent / "results"


def median_seconds(run: Callable[[], object], *, repeats: int, budget_s: float = 60.0) -> dict:
    """Median wall time of ``run()`` (which must block until its result is ready) after one warm-up call.

    Takes ``repeats`` timed calls, or fewer once ``budget_s`` is spent (always at least one), so a slow
    configuration cannot stall a whole run. Returns the median and every timed sample, in seconds.
    """
    start = time.perf_counter()
    run()
    warmup = time.perf_counter() - start
    samples: list[float] = []
    while len(samples) < repeats and (not samples or warmup + sum(samples) < budget_s):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return {"median_s": statistics.median(samples), "samples_s": samples, "warmup_s": warmup}


def lower_and_compile(jitted, *args, canonical: bool):
    """``jitted.lower(*args).compile()``; traced with every op in canonical form when asked."""
    if canonical:
        with ops.canonical_only():
            return jitted.lower(*args).compile()
    return jitted.lower(*args).compile()


def add_compilation_cache_argument(parser: argparse.ArgumentParser) -> None:
    """``--compilation-cache-dir`` (default: the shared default directory; '' = off)."""
    parser.add_argument(
        "--compilation-cache-dir", default=None,
        help="JAX persistent compilation cache directory (default, as main.py: $LIGHTNETS_COMPILATION_CACHE_DIR, "
             "else $JAX_COMPILATION_CACHE_DIR, else $XDG_CACHE_HOME/lightnets/jax_compilation_cache); '' turns "
             "it off, so every compile is a first compile")


_cache_state = {"dir": "", "entries_at_start": 0}


def enable_compilation_cache(parser: argparse.ArgumentParser | None, value: str | None) -> str:
    """Turns the persistent compilation cache on in ``value``'s directory (None: the default; '': off) and
    records it for ``run_metadata``; returns the directory ('' when off). A bad value ends the script with
    ``parser.error`` (a one-line ValueError without a parser). Call it before the first compile."""
    try:
        path = compilation_cache.enable(value, name="--compilation-cache-dir")
    except ValueError as error:
        if parser is None:
            raise
        parser.error(str(error))
    _cache_state.update(dir=path, entries_at_start=compilation_cache.entry_count(path))
    return path


# Persistent-cache hits of the compiles in each thread (jax.monitoring calls a listener in the thread
# that compiles), so a compile done in a worker thread is attributed to its own call.
_cache_hits = threading.local()


def _count_cache_hit(event: str, **_: object) -> None:
    if event == "/jax/compilation_cache/cache_hits":
        _cache_hits.count = getattr(_cache_hits, "count", 0) + 1


jax.monitoring.register_event_listener(_count_cache_hit)


def cache_hits_in_this_thread() -> int:
    """How many compiles of this thread so far were loaded from the persistent compilation cache."""
    return getattr(_cache_hits, "count", 0)


@dataclasses.dataclass
class TimedCompile:
    """A compiled program, the wall seconds of lower + compile, and whether XLA's executable came from the
    persistent cache (then ``seconds`` is tracing, lowering and a load, not a compile)."""

    compiled: object
    seconds: float
    cache_hit: bool


def timed_compile(jitted, *args, canonical: bool = False) -> TimedCompile:
    """``lower_and_compile`` timed, with whether it was a cache load (see ``TimedCompile``)."""
    hits, start = cache_hits_in_this_thread(), time.perf_counter()
    compiled = lower_and_compile(jitted, *args, canonical=canonical)
    return TimedCompile(compiled, time.perf_counter() - start, cache_hits_in_this_thread() > hits)


def run_metadata(**extra) -> dict:
    """Date, command, machine, load, library versions and the compilation cache (directory, '' when off, and
    the programs it held at the start) recorded with every result file."""
    device = jax.devices()[0]
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join([pathlib.Path(sys.executable).parent.parent.name + "/bin/python", "-m",
                               _module_name()] + sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "load_average_1m_start": os.getloadavg()[0],
        "backend": jax.default_backend(),
        "device": device.device_kind,
        "git": _git_revision(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "hugepage_malloc": host_memory.hugepage_malloc_status(),
        "compilation_cache_dir": _cache_state["dir"],
        "compilation_cache_entries_at_start": _cache_state["entries_at_start"],
        **extra,
    }


def _git_revision() -> str:
    """HEAD's short hash, with "+changes" when tracked files in lightnets/, train_lib/ or benchmarks/ differ;
    "unknown" where git is missing (a bare GPU image) or the checkout is not a git repository."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=RESULTS_DIR.parent.parent, capture_output=True, text=True,
                                  check=False).stdout
        except OSError:  # no git binary (FileNotFoundError), or one that cannot be run
            return ""

    head = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--untracked-files=no", "lightnets", "train_lib", "benchmarks").strip() else "")


def _module_name() -> str:
    main = pathlib.Path(sys.argv[0]).resolve()
    return ".".join(main.relative_to(RESULTS_DIR.parent.parent).with_suffix("").parts)


def peak_device_memory_bytes() -> int | None:
    """Peak bytes in use on the first device, where the backend reports it (GPU/TPU; None on CPU)."""
    stats = jax.devices()[0].memory_stats()
    return None if not stats else stats.get("peak_bytes_in_use")


def write_results(payload: dict, name: str, output: pathlib.Path | None) -> pathlib.Path:
    """Writes ``payload`` (with the 1-minute load average at the end of the run) as JSON; returns the path."""
    path = output or RESULTS_DIR / f"{name}_{payload['backend']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload["load_average_1m_end"] = os.getloadavg()[0]
    path.write_text(json.dumps(payload, indent=1))
    print(f"wrote {path}")
    return path


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; ``None`` cells print as ``n/a``."""
    cells = [[("n/a" if cell is None else str(cell)) for cell in row] for row in rows]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def fmt(value: float | None, digits: int = 1) -> str | None:
    """``value`` rounded for a table (None stays None)."""
    return None if value is None else f"{value:.{digits}f}"
