"""runtime.host_memory: the huge-page re-exec of entry points, only where JAX runs on its CPU backend.

The re-exec itself runs in subprocesses (it replaces the process); the CPU-or-accelerator decision runs
in-process with the environment, the installed plugins and ``os.execve`` monkeypatched (no GPU needed).
"""

import os
import subprocess
import sys

import pytest

from runtime import host_memory

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROBE = ("import os, sys; from runtime import host_memory; host_memory.reexec_with_hugepage_malloc(); "
         "print(os.environ.get('GLIBC_TUNABLES', ''), host_memory.hugepage_malloc_status(), sys.argv[1:])")


def _probe(**env_changes: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GLIBC_TUNABLES", host_memory.OPT_OUT_VARIABLE)}
    env[host_memory.PLATFORMS_VARIABLE] = "cpu"  # whatever plugins this machine has
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


@needs_support
def test_no_reexec_when_jax_platforms_names_an_accelerator_first():
    tunables, status, _ = _probe(**{host_memory.PLATFORMS_VARIABLE: "cuda,cpu"})
    assert tunables == ""
    assert status == "accelerator"


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


@pytest.fixture
def supported(monkeypatch):
    """A supported machine, no tunable or opt-out set, and an ``os.execve`` that records instead of
    replacing the test process."""
    monkeypatch.setattr(host_memory, "hugepage_malloc_supported", lambda: True)
    for name in ("GLIBC_TUNABLES", host_memory.OPT_OUT_VARIABLE, host_memory.PLATFORMS_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    calls = []
    monkeypatch.setattr(host_memory.os, "execve", lambda path, argv, env: calls.append(env))
    return calls


@pytest.mark.parametrize("platforms, plugins, cpu", [
    ("cpu", ["jax_plugins:xla_cuda12"], True),  # JAX_PLATFORMS decides when set, whatever is installed
    ("CPU, cuda", [], True),
    ("cuda", [], False),
    ("tpu,cpu", [], False),
    ("", ["jax_plugins:xla_cuda12"], False),  # empty is unset: the installed plugins decide
    (None, ["libtpu"], False),
    (None, [], True),
])
def test_backend_decision(platforms, plugins, cpu, supported, monkeypatch):
    if platforms is not None:
        monkeypatch.setenv(host_memory.PLATFORMS_VARIABLE, platforms)
    monkeypatch.setattr(host_memory, "accelerator_plugins", lambda: plugins)
    assert host_memory.jax_backend_is_cpu() is cpu
    assert host_memory.hugepage_malloc_status() == ("off" if cpu else "accelerator")
    host_memory.reexec_with_hugepage_malloc()
    assert [env["GLIBC_TUNABLES"] for env in supported] == ([host_memory.TUNABLE] if cpu else [])


def test_plugins_are_not_looked_up_when_jax_platforms_is_set(supported, monkeypatch):
    monkeypatch.setenv(host_memory.PLATFORMS_VARIABLE, "cpu")
    monkeypatch.setattr(host_memory, "accelerator_plugins", lambda: pytest.fail("looked up the plugins"))
    host_memory.reexec_with_hugepage_malloc()
    assert len(supported) == 1


def test_opt_out_and_active_tunable_win_over_the_backend(supported, monkeypatch):
    monkeypatch.setattr(host_memory, "accelerator_plugins", lambda: ["libtpu"])
    monkeypatch.setenv(host_memory.OPT_OUT_VARIABLE, "0")
    assert host_memory.hugepage_malloc_status() == "opted-out"
    monkeypatch.setenv("GLIBC_TUNABLES", host_memory.TUNABLE)
    assert host_memory.hugepage_malloc_status() == "on"
    host_memory.reexec_with_hugepage_malloc()
    assert supported == []


def _fake_distribution(site, directory: str, name: str, version: str, entry_points: str = "") -> None:
    info = site / directory
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    if entry_points:
        (info / "entry_points.txt").write_text(entry_points)


def test_accelerator_plugins_finds_each_kind_of_install(tmp_path, monkeypatch):
    baseline = set(host_memory.accelerator_plugins())
    site = tmp_path / "site"
    site.mkdir()
    _fake_distribution(site, "jax_cuda12_plugin-0.10.2.dist-info", "jax-cuda12-plugin", "0.10.2",
                       "[jax_plugins]\nxla_cuda12 = jax_cuda12_plugin\n")
    _fake_distribution(site, "jax_rocm7_pjrt-0.10.2.dist-info", "jax_rocm7_pjrt", "0.10.2")
    _fake_distribution(site, "jaxlib-0.4.23+cuda12.cudnn89.dist-info", "jaxlib", "0.4.23+cuda12.cudnn89")
    _fake_distribution(site, "unrelated-1.0.dist-info", "jax-cuda-tools-unrelated", "1.0")
    (site / "jax_plugins" / "metal_plugin").mkdir(parents=True)  # a namespace package, as JAX's plugins use
    (site / "jax_plugins" / "metal_plugin" / "__init__.py").write_text("")
    (site / "libtpu").mkdir()
    (site / "libtpu" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(site))
    found = set(host_memory.accelerator_plugins()) - baseline
    assert found == {"jax_plugins:xla_cuda12", "jax-cuda12-plugin==0.10.2", "jax-rocm7-pjrt==0.10.2",
                     "jaxlib==0.4.23+cuda12.cudnn89", "jax_plugins.metal_plugin", "libtpu"}
    monkeypatch.delenv(host_memory.PLATFORMS_VARIABLE, raising=False)
    assert not host_memory.jax_backend_is_cpu()
