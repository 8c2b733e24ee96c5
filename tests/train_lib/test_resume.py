"""Interrupted runs resume to bit-identical parameters (training in subprocesses on one CPU device)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

HERE = Path(__file__).parent
REPO = HERE.parents[1]
NUM_STEPS = 12  # checkpoints every 3 steps (run_training.py)


@pytest.fixture(scope="module")
def compile_cache(tmp_path_factory):
    """A persistent compilation cache shared by this module's subprocesses (they compile the same programs)."""
    return tmp_path_factory.mktemp("jax_cache")


def start(workdir: Path, compile_cache: Path, *, seconds_per_batch: float) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{HERE}", JAX_PLATFORMS="cpu",
               JAX_COMPILATION_CACHE_DIR=str(compile_cache), TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.Popen(
        [sys.executable, str(HERE / "run_training.py"), str(workdir), str(NUM_STEPS), str(seconds_per_batch)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output[-3000:]
    return output


def wait_for_checkpoint(workdir: Path, process: subprocess.Popen) -> int:
    """Blocks until a finalized checkpoint (a plain step directory) exists; returns its step."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        steps = [int(p.name) for p in (workdir / "checkpoints").glob("*") if p.name.isdigit()]
        if steps:
            return max(steps)
        assert process.poll() is None, process.communicate()[0][-3000:]
        time.sleep(0.05)
    raise TimeoutError("no checkpoint appeared")


def final_state(workdir: Path) -> dict:
    with ocp.CheckpointManager(workdir / "checkpoints") as manager:
        assert manager.latest_step() == NUM_STEPS
        return jax.device_get(manager.restore(NUM_STEPS, args=ocp.args.StandardRestore()))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, compile_cache):
    workdir = tmp_path_factory.mktemp("uninterrupted")
    finish(start(workdir, compile_cache, seconds_per_batch=0.0))
    return final_state(workdir)


def assert_bit_identical(a: dict, b: dict) -> None:
    assert jax.tree.structure(a) == jax.tree.structure(b)
    jax.tree.map(np.testing.assert_array_equal, a, b)


def test_resume_after_sigkill_is_bit_identical(tmp_path, compile_cache, uninterrupted):
    process = start(tmp_path, compile_cache, seconds_per_batch=0.5)
    saved = wait_for_checkpoint(tmp_path, process)
    process.kill()
    process.wait()
    assert saved < NUM_STEPS
    assert "DONE" in finish(start(tmp_path, compile_cache, seconds_per_batch=0.0))
    assert_bit_identical(final_state(tmp_path), uninterrupted)


def test_sigterm_saves_exits_cleanly_and_resumes_identically(tmp_path, compile_cache, uninterrupted):
    process = start(tmp_path, compile_cache, seconds_per_batch=0.5)
    wait_for_checkpoint(tmp_path, process)
    process.send_signal(signal.SIGTERM)
    output = finish(process)
    assert "SIGTERM" in output and "DONE None" in output
    with ocp.CheckpointManager(tmp_path / "checkpoints") as manager:
        stopped_at = manager.latest_step()
    assert stopped_at < NUM_STEPS
    assert "DONE" in finish(start(tmp_path, compile_cache, seconds_per_batch=0.0))
    assert_bit_identical(final_state(tmp_path), uninterrupted)
