"""Trains and evaluates a lightnets model: ``python main.py --config=configs/digits.py --workdir=/tmp/digits``.

Flags only; the work is ``train_lib.train_and_evaluate``. Config args and overrides:
``--config=configs/imagenet_clcnet.py:B --config.batch_size=256``. Multi-host (TPU pods, multi-node GPU):
every host runs the same command; ``jax.distributed.initialize()`` discovers the cluster.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import jax  # noqa: E402
from absl import app, flags, logging  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from train_lib import host_memory  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Directory for checkpoints, TensorBoard logs and results.json.")
flags.DEFINE_bool("multi_process", None,
                  "Call jax.distributed.initialize() (default: when the environment describes a cluster: "
                  "TPU pod slices, SLURM, Open MPI, or JAX_COORDINATOR_ADDRESS set).")
config_flags.DEFINE_config_file("config", None, "Training config file (configs/*.py[:arg]).", lock_config=True)
flags.mark_flags_as_required(["config", "workdir"])


def _is_multi_process_environment() -> bool:
    return any(v in os.environ for v in ("JAX_COORDINATOR_ADDRESS", "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE",
                                         "TPU_WORKER_HOSTNAMES", "MEGASCALE_COORDINATOR_ADDRESS"))


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    multi_process = FLAGS.multi_process if FLAGS.multi_process is not None else _is_multi_process_environment()
    if multi_process:
        jax.distributed.initialize()

    import tensorflow as tf  # only the input pipeline uses TF; keep it off the accelerators JAX owns

    tf.config.set_visible_devices([], "GPU")

    import input_pipeline
    import train_lib

    logging.info("JAX process %d/%d, local devices %s", jax.process_index(), jax.process_count(),
                 jax.local_devices())
    try:
        train_lib.train_and_evaluate(FLAGS.config, FLAGS.workdir, data_source=input_pipeline)
    except train_lib.ConfigError as error:
        sys.exit(f"Invalid config: {error}")
    except train_lib.NonFiniteLossError as error:
        sys.exit(f"Training diverged: {error}")


if __name__ == "__main__":
    host_memory.reexec_with_hugepage_malloc()
    app.run(main)
