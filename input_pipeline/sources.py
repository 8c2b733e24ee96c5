"""tfds sources: the prepared builder of a dataset and the per-process raw examples of a split."""

import os

import tensorflow as tf
import tensorflow_datasets as tfds

import input_pipeline.builders  # noqa: F401  (registers digits and tiny_imagenet with tfds)
from input_pipeline.datasets import MANUAL_FILES


def check_data_available(data) -> None:
    """Raises FileNotFoundError, naming the files and where they go, when `data.name` is neither prepared
    in `data.data_dir` nor has its `MANUAL_FILES` in the manual dir; with `data.prepared_size` = N > 0, when
    the prepared copy is missing, naming the command that writes it. Reads no data and prepares nothing."""
    if data.get("prepared_size", 0):
        _prepared_images_dir(data)
    else:
        _available_builder(data)


def prepared_builder(data) -> tfds.core.DatasetBuilder:
    """The tfds builder of `data.name`, prepared in `data.data_dir` on first use.

    digits is generated offline; tiny_imagenet and imagenet2012 read `MANUAL_FILES` from the manual dir
    (checked first, so a missing archive is named before any work); cifar/svhn are downloaded by tfds.
    With `data.prepared_size` = N > 0: the copy `python -m input_pipeline.prepare NAME --size=N` wrote
    (read from its own directory; the source is not needed), never written here.
    """
    if data.get("prepared_size", 0):
        return tfds.builder_from_directory(_prepared_images_dir(data))
    builder, manual_dir = _available_builder(data)
    if not builder.is_prepared():
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
    return builder


def _available_builder(data) -> tuple[tfds.core.DatasetBuilder, str]:
    builder = tfds.builder(data.name, data_dir=data.data_dir)
    manual_dir = data.manual_dir or os.path.join(builder.data_dir_root, "downloads", "manual")
    if builder.is_prepared():
        return builder, manual_dir
    missing = [f for f in MANUAL_FILES.get(data.name, ()) if not os.path.exists(os.path.join(manual_dir, f))]
    if missing:
        raise FileNotFoundError(
            f"{data.name} is not prepared in {builder.data_dir_root} and needs {', '.join(missing)} "
            f"in manual_dir {manual_dir}: place the file(s) there, or give their directory (main.py "
            f"--config.data.manual_dir=DIR, python -m input_pipeline.prepare --manual-dir=DIR), and run again"
        )
    return builder, manual_dir


def _prepared_images_dir(data) -> str:
    """The directory of `data.name` prepared at `data.prepared_size`; FileNotFoundError (one line, with the
    command to run) when it has not been written yet."""
    from input_pipeline import prepare  # imports this module

    directory = prepare.prepared_dir(data.name, data.prepared_size, data.data_dir)
    if not prepare.is_prepared(directory):
        root = prepare.data_dir_root(data.name, data.data_dir)
        raise FileNotFoundError(
            f"{data.name} is not prepared at prepared_size={data.prepared_size} in {root}: run "
            f"`{prepare.command(data.name, data.prepared_size, data_dir=root, manual_dir=data.manual_dir)}` once "
            f"(or set prepared_size=0 to read the original images)"
        )
    return directory


def process_examples(
    builder: tfds.core.DatasetBuilder, split: str, *, process_index: int, process_count: int, drop_remainder: bool
) -> tf.data.Dataset:
    """This process's slice of `split` (tfds.split_for_jax_process), in stored order.

    Elements: {'image': encoded bytes, 'label': int32, 'tfds_id': record name}. With `drop_remainder`
    every process gets ⌊N/P⌋ examples; without, the first N mod P processes get one more.
    """
    subsplit = tfds.split_for_jax_process(
        split, process_index=process_index, process_count=process_count, drop_remainder=drop_remainder
    )
    dataset = builder.as_dataset(
        split=subsplit,
        shuffle_files=False,
        decoders={"image": tfds.decode.SkipDecoding()},
        read_config=tfds.ReadConfig(add_tfds_id=True),
    )
    return dataset.map(
        lambda example: {
            "image": example["image"],
            "label": tf.cast(example["label"], tf.int32),
            "tfds_id": example["tfds_id"],
        },
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def count_examples(dataset: tf.data.Dataset) -> int:
    """Number of elements of a finite dataset: its cardinality (known for tfds splits), counted when unknown."""
    cardinality = int(dataset.cardinality())
    if cardinality >= 0:
        return cardinality
    return int(dataset.reduce(0, lambda count, _: count + 1))
