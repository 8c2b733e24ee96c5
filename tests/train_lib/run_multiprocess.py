"""Subprocess entry for the multi-process test:
``python run_multiprocess.py WORKDIR NUM_PROCESSES PROCESS_ID PORT DEVICES_PER_PROCESS``.

Joins a localhost JAX cluster over gloo CPU collectives (NUM_PROCESSES=1: no cluster) and trains the tiny
config on the fake data with the batch sharded over every device of every process.
"""

import sys

import jax

workdir, num_processes, process_id, port, devices_per_process = sys.argv[1:]
jax.config.update("jax_num_cpu_devices", int(devices_per_process))
if int(num_processes) > 1:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(f"127.0.0.1:{port}", int(num_processes), int(process_id))

import train_fakes  # noqa: E402
from train_lib import train_and_evaluate  # noqa: E402

NUM_STEPS = 6
config = train_fakes.tiny_config(num_train_steps=NUM_STEPS, checkpoint_every_steps=3, eval_every_epochs=100.0)
result = train_and_evaluate(config, workdir, data_source=train_fakes.FakeDataSource())
print("DONE", jax.process_index(), result, flush=True)
