"""Huge pages for the host allocator: a CPU train step's temporaries without 4 KiB page faults.

XLA:CPU (like PyTorch's CPU allocator) takes each step's temporaries from malloc, which maps large blocks
fresh and unmaps them when freed, so every step faults its working set back in page by page. For
mobilenet_v2_100 at batch 32, 224 px that is one 3.2 GB block, 790k minor faults and 1.9 s of system time
in a 2.3 s step on the 2-core benchmark machine; with transparent huge pages the same step takes 1.3 s
(measured when this was added; docs/BENCHMARKS.md says for each run whether it was on). glibc ≥ 2.35
backs its large blocks with huge pages when the tunable ``glibc.malloc.hugetlb=1`` is set and the
kernel's THP mode is ``always`` or ``madvise``.
Tunables are read when a process starts, so entry points call ``reexec_with_hugepage_malloc()`` first:
it restarts the same command line once with the tunable added.

It does so only where it helps: when JAX will run on its CPU backend. On a GPU or TPU a step's
temporaries live in device memory, and the restart would only cost a second process start. As the
restart replaces the process, this is decided before JAX initialises a backend, without importing it:
from ``JAX_PLATFORMS`` where it is set (the CPU backend only when its first entry is ``cpu``), else from
whether an accelerator backend is installed (``accelerator_plugins()``: a ``jax_plugins`` entry point or
module, a CUDA/ROCm PJRT plugin, ``libtpu``, a CUDA/ROCm build of jaxlib). A machine with such a plugin
but no device, where JAX falls back to its CPU backend, runs without huge pages unless launched with
``JAX_PLATFORMS=cpu``. Set ``LIGHTNETS_HUGEPAGE_MALLOC=0`` to opt out.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import pathlib
import platform
import pkgutil
import re
import sys

TUNABLE = "glibc.malloc.hugetlb=1"
OPT_OUT_VARIABLE = "LIGHTNETS_HUGEPAGE_MALLOC"
PLATFORMS_VARIABLE = "JAX_PLATFORMS"
THP_MODE_FILE = pathlib.Path("/sys/kernel/mm/transparent_hugepage/enabled")
# Top-level modules and distributions (names normalised to lower case and dashes) that give JAX a GPU/TPU.
ACCELERATOR_MODULES = ("jax_cuda12_plugin", "jax_cuda13_plugin", "jax_rocm60_plugin", "jax_rocm7_plugin", "libtpu")
ACCELERATOR_DISTRIBUTION = re.compile(r"jax-(cuda|rocm)\d*-(plugin|pjrt)|libtpu(-nightly)?")
ACCELERATOR_JAXLIB_BUILD = re.compile(r"\+(cuda|rocm)")  # jaxlib versions like 0.4.23+cuda12.cudnn89


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


def accelerator_plugins() -> list[str]:
    """What is installed that gives JAX a GPU or TPU backend (sorted names; empty for a CPU-only jax).

    Found without importing JAX or the plugins: ``jax_plugins`` entry points and ``jax_plugins.*``
    modules (how JAX discovers PJRT plugins), the CUDA/ROCm plugin and ``libtpu`` modules and
    distributions, and jaxlib's CUDA/ROCm builds.
    """
    found = {f"jax_plugins:{entry.name}" for entry in importlib.metadata.entry_points(group="jax_plugins")}
    namespace = importlib.util.find_spec("jax_plugins")
    if namespace is not None and namespace.submodule_search_locations:
        modules = pkgutil.iter_modules(namespace.submodule_search_locations)
        found.update(f"jax_plugins.{module.name}" for module in modules)
    found.update(name for name in ACCELERATOR_MODULES if importlib.util.find_spec(name) is not None)
    for distribution in importlib.metadata.distributions():
        name = re.sub(r"[-_.]+", "-", distribution.metadata["Name"] or "").lower()
        version = distribution.version or ""
        accelerator_jaxlib = name == "jaxlib" and ACCELERATOR_JAXLIB_BUILD.search(version)
        if ACCELERATOR_DISTRIBUTION.fullmatch(name) or accelerator_jaxlib:
            found.add(f"{name}=={version}")
    return sorted(found)


def jax_backend_is_cpu() -> bool:
    """Whether JAX will run on its CPU backend, decided before JAX starts (see the module docstring)."""
    platforms = os.environ.get(PLATFORMS_VARIABLE, "").strip()
    if platforms:
        return platforms.split(",")[0].strip().lower() == "cpu"
    return not accelerator_plugins()


def hugepage_malloc_status() -> str:
    """One word for run metadata: ``on``, ``opted-out``, ``accelerator`` (JAX will not run on the CPU
    backend, so no restart), ``off`` (supported, not set) or ``unsupported``."""
    if hugepage_malloc_active():
        return "on"
    if os.environ.get(OPT_OUT_VARIABLE) == "0":
        return "opted-out"
    if not jax_backend_is_cpu():
        return "accelerator"
    return "off" if hugepage_malloc_supported() else "unsupported"


def reexec_with_hugepage_malloc() -> None:
    """Restarts this command with ``glibc.malloc.hugetlb=1`` when JAX will run on the CPU, the tunable is
    supported and not yet set, and the user has not opted out.

    Call it first thing in a ``__main__`` entry point, before JAX initialises a backend (the command is
    re-run from its start, in the same process id, with the interpreter options of ``sys.orig_argv``); it
    returns only when nothing changes.
    """
    if (hugepage_malloc_active() or os.environ.get(OPT_OUT_VARIABLE) == "0" or not hugepage_malloc_supported()
            or not jax_backend_is_cpu()):
        return
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    env = dict(os.environ, GLIBC_TUNABLES=f"{tunables}:{TUNABLE}" if tunables else TUNABLE)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, sys.orig_argv, env)
