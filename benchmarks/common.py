"""Shared benchmark helpers: timing (median after warm-up), run metadata, JSON results, markdown tables."""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from lightnets import ops
from runtime import host_memory

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


def run_metadata(**extra) -> dict:
    """Date, command, machine, load and library versions recorded with every result file."""
    import jax

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
        **extra,
    }


def _git_revision() -> str:
    """HEAD's short hash, with "+changes" when tracked files in lightnets/, train_lib/ or benchmarks/ differ."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=RESULTS_DIR.parent.parent, capture_output=True, text=True,
                              check=False).stdout

    head = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--untracked-files=no", "lightnets", "train_lib", "benchmarks").strip() else "")


def _module_name() -> str:
    main = pathlib.Path(sys.argv[0]).resolve()
    return ".".join(main.relative_to(RESULTS_DIR.parent.parent).with_suffix("").parts)


def peak_device_memory_bytes() -> int | None:
    """Peak bytes in use on the first device, where the backend reports it (GPU/TPU; None on CPU)."""
    import jax

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
