"""Classifies image files with a trained workdir: ``.venv/bin/python predict.py --workdir=DIR IMAGE [IMAGE ...]``.

Prints each image's top-5 classes with their probabilities and the dataset's label names, using checkpoint
``--checkpoint`` (``latest``, ``best`` or a saved step) of the workdir and the config it was trained with
(``config.json``). The moving average of the variables is evaluated when the checkpoint keeps one, as
``main.py --mode=eval`` does. Each image (PNG/JPEG/GIF/BMP, any size, grayscale or RGB) is decoded from its
file's bytes and preprocessed by the eval pipeline's own recipe (``input_pipeline.recipes.eval_image``).
Every image is read and decoded before the model runs; for a whole dataset use ``main.py --mode=eval``.
Exit status: 0 done, 1 unreadable checkpoint files, 2 bad flags, workdir, checkpoint or image (one line).
"""

import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import jax  # noqa: E402
import ml_collections  # noqa: E402
import numpy as np  # noqa: E402
from absl import app, flags, logging  # noqa: E402

import input_pipeline  # noqa: E402  (no TensorFlow until its pipeline modules are used)
from input_pipeline.tensorflow_setup import import_tensorflow  # noqa: E402
from train_lib import (  # noqa: E402
    ConfigError, checkpointing, command_line, device_preprocessing, partitioning, workdir,
)
from train_lib.config_validation import build_model  # noqa: E402
from train_lib.train import CHECKPOINT_CHOICES, checkpoint_step, restore_eval_variables  # noqa: E402

TOP_K = 5
USAGE = "predict.py --workdir=DIR [--checkpoint=latest|best|STEP] IMAGE [IMAGE ...]"

FLAGS = flags.FLAGS


def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines predict.py's flags on ``flag_values`` (``FLAGS`` when run; importing defines none)."""
    flags.DEFINE_string("workdir", None, "A training workdir (config.json and checkpoints/) of main.py.",
                        flag_values=flag_values)
    flags.DEFINE_string("checkpoint", "latest", f"{', '.join(CHECKPOINT_CHOICES)} or a saved step number.",
                        flag_values=flag_values)
    flags.DEFINE_bool("verbose", False, "Also show the libraries' INFO logs (orbax, tfds, jax).",
                      flag_values=flag_values)


def parse(argv: list[str], flag_values: flags.FlagValues) -> list[str]:
    """Parses ``argv`` (program name first) into ``flag_values``; returns the image paths. Raises
    command_line.UsageError (one line) for a bad or missing flag or no image."""
    try:
        rest = flag_values(list(argv))
    except flags.Error as error:
        raise command_line.UsageError(" ".join(str(error).split())) from None
    if not flag_values.workdir:
        raise command_line.UsageError(f"--workdir is required: {USAGE}")
    if len(rest) < 2:
        raise command_line.UsageError(f"no IMAGE given: {USAGE}")
    return rest[1:]


def parse_flags(argv: list[str]) -> list[str]:
    try:
        return argv[:1] + parse(argv, FLAGS)
    except command_line.UsageError as error:
        command_line.exit_with_error("predict.py", error)


def load_config(workdir_path: str) -> ml_collections.ConfigDict:
    """The training config stored in the workdir (JSON lists back to the configs' tuples)."""
    if "://" not in workdir_path and not os.path.isdir(workdir_path):
        raise ConfigError(f"--workdir={workdir_path} is not a directory")
    stored = workdir.read_config(workdir_path)
    if stored is None:
        raise ConfigError(f"--workdir={workdir_path} has no {workdir.CONFIG_FILE}: not a workdir main.py trained in")

    def tuples(value):
        if isinstance(value, dict):
            return {key: tuples(item) for key, item in value.items()}
        return tuple(tuples(item) for item in value) if isinstance(value, list) else value

    return ml_collections.ConfigDict(tuples(stored))


def read_images(paths: list[str], data) -> np.ndarray:
    """uint8 [N, size, size, 3]: each file's bytes through the host half of the eval recipe of ``data``."""
    encoded = []
    for path in paths:
        try:
            with open(path, "rb") as file:
                encoded.append(file.read())
        except OSError as error:
            raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None
    tf = import_tensorflow()
    from input_pipeline import recipes

    images = []
    for path, image_bytes in zip(paths, encoded):
        try:
            images.append(recipes.eval_image(tf.constant(image_bytes), data=data).numpy())
        except (tf.errors.OpError, ValueError) as error:
            message = error.message if isinstance(error, tf.errors.OpError) else str(error)
            message = re.sub(r"\{\{function_node [^}]*\}\}|\[Op:\w+\].*", "", message)  # TF's op, device
            raise ConfigError(f"cannot decode {path} as an image: {' '.join(message.split())}") from None
    return np.stack(images)


def label_names(data, num_classes: int) -> list[str]:
    """``features['label'].names`` of the dataset's tfds builder in ``data.data_dir``; class indices when it
    has none (or its info cannot be read)."""
    import tensorflow_datasets as tfds

    import input_pipeline.sources  # noqa: F401  (registers the repository's builders with tfds)

    try:
        names = list(tfds.builder(data.name, data_dir=data.data_dir).info.features["label"].names)
    except Exception as error:  # noqa: BLE001 — any failure only costs the names
        logging.warning("No label names for %s (%s); printing class indices.", data.name, error)
        names = []
    return names if len(names) == num_classes else [str(index) for index in range(num_classes)]


def predict(model, variables: dict, images: np.ndarray, data, *, batch_size: int) -> np.ndarray:
    """Softmax probabilities float32 [N, classes] of uint8 ``images`` normalised as the eval step does
    (``device_preprocessing.eval_preprocessing(data)``), in batches of ``batch_size`` (the last one padded)."""
    preprocess = device_preprocessing.eval_preprocessing(data)
    apply = jax.jit(
        lambda v, x: jax.nn.softmax(model.apply(v, preprocess(x), train=False).astype(np.float32), axis=-1)
    )
    batch_size = min(batch_size, len(images))
    probabilities = []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        padded = np.concatenate([batch, np.zeros((batch_size - len(batch), *batch.shape[1:]), batch.dtype)])
        probabilities.append(np.asarray(apply(variables, padded))[:len(batch)])
    return np.concatenate(probabilities)


def format_predictions(path: str, probabilities: np.ndarray, names: list[str], *, top_k: int = TOP_K) -> str:
    """``path`` and its ``top_k`` classes, most probable first: ``  1. name   97.12%`` per line."""
    top = np.argsort(-probabilities, kind="stable")[:top_k]
    width = max(7, *(len(names[index]) for index in top))
    lines = [f"  {rank}. {names[index]:<{width}} {100 * probabilities[index]:6.2f}%"
             for rank, index in enumerate(top, 1)]
    return "\n".join([path, *lines])


def main(argv: list[str]) -> None:
    command_line.configure_console(verbose=FLAGS.verbose)
    paths = argv[1:]
    workdir_path = workdir.resolve(FLAGS.workdir)
    try:
        config = load_config(workdir_path)
        if not workdir.saved_steps(workdir_path):  # checked first: the Checkpointer would create checkpoints/
            raise ConfigError(f"--workdir={workdir_path} has no checkpoints")
        with checkpointing.Checkpointer(workdir_path, keep=config.keep_checkpoints,
                                        keep_best=config.keep_best_checkpoint, read_only=True) as checkpointer:
            step = checkpoint_step(checkpointer, FLAGS.checkpoint, workdir_path)
            images = read_images(paths, config.data)
            try:
                spec = input_pipeline.get_dataset_spec(config.data.name)
            except ValueError as error:
                raise ConfigError(f"data: {error}") from None
            model = build_model(config, num_classes=spec.num_classes)
            mesh = partitioning.create_mesh(jax.local_devices()[:1])
            variables, is_ema = restore_eval_variables(checkpointer, step, model,
                                                       image_size=config.data.image_size, mesh=mesh)
    except (ConfigError, checkpointing.CheckpointReadError) as error:
        command_line.exit_with_error("predict.py", error)
    names = label_names(config.data, spec.num_classes)
    logging.info("%s on %s, checkpoint %d of %s%s.", config.model, spec.name, step, workdir_path,
                 " (moving average)" if is_ema else "")
    probabilities = predict(model, variables, images, config.data, batch_size=config.eval_batch_size)
    print("\n\n".join(format_predictions(path, p, names) for path, p in zip(paths, probabilities)))


if __name__ == "__main__":
    define_flags(FLAGS)
    app.run(main, flags_parser=parse_flags)
