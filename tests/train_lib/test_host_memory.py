"""train_lib.host_memory: the huge-page re-exec of entry points (in subprocesses: it replaces the process)."""

import os
import subprocess
import sys

import pytest

from train_lib import host_memory

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROBE = ("import os, sys; from train_lib import host_memory; host_memory.reexec_with_hugepage_malloc(); "
         "print(os.environ.get('GLIBC_TUNABLES', ''), host_memory.hugepage_malloc_status(), sys.argv[1:])")


def _probe(**env_changes: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GLIBC_TUNABLES", host_memory.OPT_OUT_VARIABLE)}
    env.update(env_changes)
    result = subprocess.run([sys.executable, "-c", PROBE, "--flag=1"], cwd=ROOT, env=env, capture_output=True,
                            text=True, check=True, timeout=120)
    return result.stdout.split(" ", 2)


needs_support = pytest.mark.skipif(not host_memory.hugepage_malloc_supported(),
                                   reason="no glibc >= 2.35 with transparent huge pages here")


@needs_support
def test_reexec_adds_the_tunable_and_keeps_arguments_and_other_tunables():
    tunables, status, argv = _probe(GLIBC_TUNABLES="glibc.malloc.check=0")
    assert tunables == "glibc.malloc.check=0:" + host_memory.TUNABLE
    assert status == "on"
    assert argv.strip() == "['--flag=1']"


@needs_support
def test_opt_out_keeps_the_process_as_it_is():
    tunables, status, _ = _probe(**{host_memory.OPT_OUT_VARIABLE: "0"})
    assert tunables == ""
    assert status == "opted-out"


def test_no_reexec_once_active():
    tunables, status, _ = _probe(GLIBC_TUNABLES=host_memory.TUNABLE)
    assert tunables == host_memory.TUNABLE
    assert status == "on"


def test_transparent_hugepage_mode_parses_the_bracketed_mode(tmp_path, monkeypatch):
    mode_file = tmp_path / "enabled"
    mode_file.write_text("always [madvise] never\n")
    monkeypatch.setattr(host_memory, "THP_MODE_FILE", mode_file)
    assert host_memory.transparent_hugepage_mode() == "madvise"
    monkeypatch.setattr(host_memory, "THP_MODE_FILE", tmp_path / "missing")
    assert host_memory.transparent_hugepage_mode() is None
    assert not host_memory.hugepage_malloc_supported()
