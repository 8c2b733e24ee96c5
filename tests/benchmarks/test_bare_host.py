"""The GPU image has jax, flax, optax, orbax, torch, torchvision and timm but no ml_collections, clu or
TensorFlow: the train step must import there, and the GPU benchmark command (benchmarks/gpu.sh) must run.

The bare host is emulated by hiding those packages from the import system in child processes: a
sitecustomize on PYTHONPATH (inherited by every process the command starts) swaps the path finder for one
that does not see them, so ``import clu`` raises ModuleNotFoundError and ``importlib.util.find_spec('clu')``
is None, exactly as when they are not installed.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Not in the GPU image either: tensorboardX/tensorboard (train_lib.reporting's, not the train step's).
HIDDEN = ("ml_collections", "clu", "tensorflow", "tensorflow_datasets", "tensorboardX", "tensorboard")

SITECUSTOMIZE = f'''
import importlib.machinery
import sys

HIDDEN = {HIDDEN!r}


class _HidingPathFinder(importlib.machinery.PathFinder):
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.partition(".")[0] in HIDDEN:
            return None
        return super().find_spec(name, path, target)


sys.meta_path[:] = [_HidingPathFinder if f is importlib.machinery.PathFinder else f for f in sys.meta_path]
'''


@pytest.fixture(scope="module")
def bare_env(tmp_path_factory) -> dict[str, str]:
    site = tmp_path_factory.mktemp("bare_host")
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {k: v for k, v in os.environ.items() if k not in ("OUT", "PYTHONPATH", "JAX_COMPILATION_CACHE_DIR")}
    return env | {"PYTHONPATH": str(site), "JAX_PLATFORMS": "cpu", "LIGHTNETS_HUGEPAGE_MALLOC": "0"}


def _python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_emulated_host_lacks_the_hidden_packages(bare_env):
    out = _python(
        "import importlib.util\n"
        f"for name in {HIDDEN!r}:\n"
        "    assert importlib.util.find_spec(name) is None, name\n"
        "    try:\n"
        "        __import__(name)\n"
        "    except ModuleNotFoundError:\n"
        "        print('absent', name)\n", bare_env)
    assert out.split() == [word for name in HIDDEN for word in ("absent", name)]


def test_the_train_step_and_the_benchmarks_import_without_them(bare_env):
    out = _python(
        "import sys\n"
        "import train_lib, train_lib.state, train_lib.steps, train_lib.partitioning, train_lib.losses\n"
        "import train_lib.optimizers, train_lib.schedules, train_lib.metrics\n"
        "from train_lib import ConfigError, DivergenceError\n"
        "import benchmarks.train_throughput, benchmarks.ops, benchmarks.torch_peers, benchmarks.gpu\n"
        "import lightnets\n"
        f"print(sorted(m for m in sys.modules if m.partition('.')[0] in {HIDDEN!r}))\n", bare_env)
    assert out.strip() == "[]"


def test_a_host_without_git_records_an_unknown_revision(monkeypatch):
    from benchmarks import common

    def no_git(*args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", "git")

    monkeypatch.setattr(common.subprocess, "run", no_git)
    assert common._git_revision() == "unknown"


def test_config_error_is_one_class_wherever_it_is_imported_from():
    import train_lib
    from train_lib import config_validation, errors, workdir

    assert train_lib.ConfigError is errors.ConfigError is config_validation.ConfigError is workdir.ConfigError


def test_the_gpu_command_smoke_run_writes_json_and_markdown(bare_env, tmp_path):
    out = tmp_path / "gpu"
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu.sh"), "--smoke", "--out", str(out)],
                          cwd=tmp_path, env=bare_env | {"PYTHON": sys.executable}, capture_output=True,
                          text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # Rows are streamed as they are measured.
    assert "[jax-f32] jax squeezenet1_1 auto float32" in done.stdout

    data = json.loads((out / "gpu.json").read_text())
    assert data["complete"] and not data["skipped"]
    statuses = {p["name"]: p["status"] for p in data["phases"]}
    assert data["phases"][0]["name"] == "jax-f32" and statuses["jax-f32"] == statuses["ops"] == "complete"
    jax_rows = [r for r in data["rows"] if r["framework"] == "jax"]
    assert [(r["model"], r["dtype"], r["batch"], r["image_size"]) for r in jax_rows] == [
        ("squeezenet1_1", "float32", 2, 32), ("shufflenet_v2_050", "float32", 2, 32)]
    assert all(r["train_images_per_s"] > 0 and r["compile_s"] > 0 and r["infer_images_per_s"] is None
               for r in jax_rows)
    assert data["metadata"]["backend"] == "cpu"
    assert data["metadata"]["compilation_cache_dir"] == str(out / "cache" / "jax")  # given to every phase
    assert {(r["op"], r["impl"]) for r in data["ops"]["rows"]} == {("channel_shuffle", "reshape"),
                                                                   ("channel_shuffle", "gather")}
    assert (out / "phases" / "jax-f32.json").exists() and (out / "phases" / "ops.json").exists()

    markdown = (out / "gpu.md").read_text()
    assert "## Train step, float32" in markdown and "## Structured ops" in markdown
    assert "| squeezenet1_1 | " in markdown and "| shufflenet_v2_050 | " in markdown
    assert "| channel_shuffle | – | shuffle 28x28x240 g3 | 2 | gather |" in markdown
