"""Huge pages for the host allocator: a CPU train step's temporaries without 4 KiB page faults.

XLA:CPU (like PyTorch's CPU allocator) takes each step's temporaries from malloc, which maps large blocks
fresh and unmaps them when freed, so every step faults its working set back in page by page. For
mobilenet_v2_100 at batch 32, 224 px that is one 3.2 GB block, 790k minor faults and 1.9 s of system time
in a 2.3 s step on the 2-core benchmark machine; with transparent huge pages the same step takes 1.3 s
(docs/BENCHMARKS.md, "Host allocator"). glibc ≥ 2.35 backs its large blocks with huge pages when the
tunable ``glibc.malloc.hugetlb=1`` is set and the kernel's THP mode is ``always`` or ``madvise``.
Tunables are read when a process starts, so entry points call ``reexec_with_hugepage_malloc()`` first:
it restarts the same command line once with the tunable added. Set ``LIGHTNETS_HUGEPAGE_MALLOC=0`` to
opt out.
"""

from __future__ import annotations

import os
import pathlib
import platform
import sys

TUNABLE = "glibc.malloc.hugetlb=1"
OPT_OUT_VARIABLE = "LIGHTNETS_HUGEPAGE_MALLOC"
THP_MODE_FILE = pathlib.Path("/sys/kernel/mm/transparent_hugepage/enabled")


def _glibc_version() -> tuple[int, ...] | None:
    name, version = platform.libc_ver()
    if name != "glibc" or not version:
        return None
    return tuple(int(part) for part in version.split(".")[:2])


def transparent_hugepage_mode() -> str | None:
    """The kernel's THP mode (``always``, ``madvise`` or ``never``), or None where it cannot be read."""
    try:
        text = THP_MODE_FILE.read_text()
    except OSError:
        return None
    start, end = text.find("["), text.find("]")
    return text[start + 1:end] if 0 <= start < end else None


def hugepage_malloc_active() -> bool:
    """Whether this process started with glibc's huge-page tunable set."""
    return TUNABLE in os.environ.get("GLIBC_TUNABLES", "").split(":")


def hugepage_malloc_supported() -> bool:
    """Linux with glibc ≥ 2.35 and transparent huge pages enabled (``always`` or ``madvise``)."""
    glibc = _glibc_version()
    return (sys.platform == "linux" and glibc is not None and glibc >= (2, 35)
            and transparent_hugepage_mode() in ("always", "madvise"))


def hugepage_malloc_status() -> str:
    """One word for run metadata: ``on``, ``off`` (supported, not set), ``opted-out`` or ``unsupported``."""
    if hugepage_malloc_active():
        return "on"
    if os.environ.get(OPT_OUT_VARIABLE) == "0":
        return "opted-out"
    return "off" if hugepage_malloc_supported() else "unsupported"


def reexec_with_hugepage_malloc() -> None:
    """Restarts this command with ``glibc.malloc.hugetlb=1`` when supported, not yet set and not opted out.

    Call it first thing in a ``__main__`` entry point (the command is re-run from its start, in the same
    process id, with the interpreter options of ``sys.orig_argv``); it returns only when nothing changes.
    """
    if hugepage_malloc_active() or os.environ.get(OPT_OUT_VARIABLE) == "0" or not hugepage_malloc_supported():
        return
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    env = dict(os.environ, GLIBC_TUNABLES=f"{tunables}:{TUNABLE}" if tunables else TUNABLE)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, sys.orig_argv, env)
