"""Two JAX processes on localhost (gloo CPU collectives) train like one process with the same devices."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp

HERE = Path(__file__).parent
REPO = HERE.parents[1]
NUM_STEPS = 6  # run_multiprocess.py


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(workdir: Path, num_processes: int, devices_per_process: int) -> list[str]:
    env = dict(os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{HERE}", JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="2")
    port = free_port()
    processes = [
        subprocess.Popen(
            [sys.executable, str(HERE / "run_multiprocess.py"), str(workdir), str(num_processes), str(i), str(port),
             str(devices_per_process)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for i in range(num_processes)
    ]
    outputs = [p.communicate(timeout=400)[0] for p in processes]
    for p, output in zip(processes, outputs):
        assert p.returncode == 0, output[-4000:]
    return outputs


def final_params(workdir: Path) -> dict:
    """The last checkpoint's params, restored onto one device whatever topology wrote them."""
    path = workdir / "checkpoints" / str(NUM_STEPS) / "default"
    checkpointer = ocp.StandardCheckpointer()
    device = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    target = jax.tree.map(lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=device),
                          checkpointer.metadata(path).item_metadata)
    return jax.device_get(checkpointer.restore(path, target))["params"]


def test_two_processes_match_one_process_with_the_same_devices(tmp_path):
    two, one = tmp_path / "two_processes", tmp_path / "one_process"
    outputs = launch(two, num_processes=2, devices_per_process=2)
    assert all("DONE" in output for output in outputs)
    launch(one, num_processes=1, devices_per_process=4)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
                 final_params(two), final_params(one))
    results_two = json.loads((two / "results.json").read_text())["final"]
    results_one = json.loads((one / "results.json").read_text())["final"]
    assert results_two["examples"] == results_one["examples"] == 20  # every eval example counted once
    assert results_two["top1"] == results_one["top1"]
    np.testing.assert_allclose(results_two["loss"], results_one["loss"], rtol=1e-5)
