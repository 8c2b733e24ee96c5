"""A run's time budget (which rows still fit) and partial result files that a time-out cannot corrupt.

Used by ``train_throughput``, ``ops`` and the GPU command (``benchmarks/gpu.py``): a script given
``--run-budget-s`` starts a row only while the longest row of the same kind measured so far still fits
before the deadline, records the rows it leaves out (``skipped``) and rewrites its JSON after every row, so a
run stopped from outside still leaves every finished row on disk.
"""

from __future__ import annotations

import json
import os
import pathlib
import time
from collections import defaultdict


def _process_started() -> float:
    """``time.monotonic()`` at this process's start (Linux: /proc; an ``exec`` keeps it), else now."""
    try:
        after_name = pathlib.Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        since_boot = int(after_name[19]) / os.sysconf("SC_CLK_TCK")  # field 22, starttime
        uptime = float(pathlib.Path("/proc/uptime").read_text().split()[0])
        return time.monotonic() - max(uptime - since_boot, 0.0)
    except (OSError, ValueError, IndexError):
        return time.monotonic()


# When this process started: a budget counts the interpreter's start and the imports too.
STARTED = _process_started()


class RunBudget:
    """Admits rows while the longest one of their kind so far still fits before the deadline.

    ``seconds`` counts from ``STARTED``; None means no deadline. Until a row of a kind has been measured its
    estimate is ``estimate_s`` (default 0: admitted while any time is left, so a short budget still measures
    one row).
    """

    def __init__(self, seconds: float | None, *, estimate_s: float = 0.0):
        self.seconds = seconds
        self.deadline = None if seconds is None else STARTED + seconds
        self.estimate_s = estimate_s  # a row of a kind not yet measured here (e.g. from an earlier run)
        self._taken: dict[str, list[float]] = defaultdict(list)

    def left_s(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def refuse(self, kind: str) -> str | None:
        """None when a row of ``kind`` may start; else why not (recorded with the skipped row)."""
        left = self.left_s()
        if left is None:
            return None
        estimate = max(self._taken[kind], default=self.estimate_s)
        if left <= 0 or estimate > left:
            return (f"run budget: {max(left, 0):.0f} s of {self.seconds:.0f} s left, a {kind} row is estimated at "
                    f"{estimate:.0f} s")
        return None

    def record(self, kind: str, seconds: float) -> None:
        self._taken[kind].append(seconds)


def write_atomic(path: pathlib.Path, text: str) -> None:
    """Writes ``text`` to ``path`` through a temporary file and a rename: readers see the old or the new
    file, never half of one, even when the process is killed mid-write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_json_atomic(path: pathlib.Path, payload: dict) -> None:
    """``payload`` as indented JSON, written by ``write_atomic``."""
    write_atomic(path, json.dumps(payload, indent=1))
