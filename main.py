"""Trains and evaluates a lightnets model: ``.venv/bin/python main.py --config=configs/digits.py --workdir=/tmp/digits``.

Flags only; the work is ``train_lib.train_and_evaluate`` (``--mode=eval``: ``train_lib.evaluate``, of a workdir's
checkpoint or, with ``--weights=FILE``, of a weights file, printed beside the published figure;
``--mode=save_weights``: ``train_lib.save_weights``). Config
args and overrides: ``--config=configs/imagenet_clcnet.py:B --config.batch_size=256``. Multi-host (TPU pods,
multi-node GPU): every host runs the same command; ``jax.distributed.initialize()`` discovers the cluster.
Exit status: 0 done (or stopped by SIGTERM after saving), 1 training or I/O failure, 2 bad flags or config.
Compiled programs are kept in JAX's persistent compilation cache (``config.compilation_cache_dir``,
``runtime/compilation_cache.py``), so a restart or a second run of the same config skips compilation.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import jax  # noqa: E402
from absl import app, flags, logging  # noqa: E402

from runtime import compilation_cache, host_memory  # noqa: E402
from train_lib import command_line  # noqa: E402

FLAGS = flags.FLAGS
command_line.define_flags(FLAGS)
flags.adopt_module_key_flags(command_line)  # --help lists them


def parse_flags(argv: list[str]) -> list[str]:
    try:
        command_line.parse(argv, FLAGS)
    except command_line.UsageError as error:
        command_line.exit_with_error("main.py", error)
    return argv[:1]


def _is_multi_process_environment() -> bool:
    return any(v in os.environ for v in ("JAX_COORDINATOR_ADDRESS", "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE",
                                         "TPU_WORKER_HOSTNAMES", "MEGASCALE_COORDINATOR_ADDRESS"))


def main(argv):
    del argv
    command_line.configure_console(verbose=FLAGS.verbose)
    multi_process = FLAGS.multi_process if FLAGS.multi_process is not None else _is_multi_process_environment()
    if multi_process:
        try:
            jax.distributed.initialize()
        except (ValueError, RuntimeError) as error:
            command_line.exit_with_error("main.py", command_line.UsageError(
                f"--multi_process: jax.distributed.initialize() failed: {' '.join(str(error).split())}"))
    try:  # before the first compilation; a restart or a second run of the same config loads its programs
        cache_dir = compilation_cache.enable(FLAGS.config.get("compilation_cache_dir"))
    except ValueError as error:
        command_line.exit_with_error("main.py", error)
    logging.debug("JAX compilation cache: %s", cache_dir or "off")
    from input_pipeline.tensorflow_setup import import_tensorflow

    import_tensorflow()
    import tensorflow_datasets as tfds

    import input_pipeline

    if not FLAGS.verbose:
        tfds.disable_progress_bar()
    import train_lib
    from train_lib import checkpointing

    try:
        if FLAGS.mode == "check":
            train_lib.check_config(FLAGS.config, FLAGS.workdir, data_source=input_pipeline)
        elif FLAGS.mode == "eval":
            eval_metrics = train_lib.evaluate(FLAGS.config, FLAGS.workdir, data_source=input_pipeline,
                                              checkpoint=FLAGS.checkpoint, weights_path=FLAGS.weights)
            logging.info("eval  %s", train_lib.format_eval(eval_metrics))
            if FLAGS.weights is not None:
                logging.info("%s", train_lib.published_figure(FLAGS.config))
        elif FLAGS.mode == "save_weights":
            step = train_lib.save_weights(FLAGS.config, FLAGS.workdir, FLAGS.weights, data_source=input_pipeline,
                                          checkpoint=FLAGS.checkpoint)
            logging.info("Wrote the weights of checkpoint %d to %s.", step, FLAGS.weights)
        else:
            train_lib.train_and_evaluate(FLAGS.config, FLAGS.workdir, data_source=input_pipeline)
    except (train_lib.ConfigError, train_lib.DivergenceError, checkpointing.CheckpointReadError,
            checkpointing.CheckpointWriteError, input_pipeline.CorruptImageError) as error:
        command_line.exit_with_error("main.py", error)


if __name__ == "__main__":
    host_memory.reexec_with_hugepage_malloc()
    app.run(main, flags_parser=parse_flags)
