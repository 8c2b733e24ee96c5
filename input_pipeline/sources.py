"""tfds sources: the prepared builder of a dataset and the per-process raw examples of a split."""

import os

import tensorflow as tf
import tensorflow_datasets as tfds

import input_pipeline.builders  # noqa: F401  (registers digits and tiny_imagenet with tfds)
from input_pipeline.datasets import MANUAL_FILES


def check_data_available(data) -> None:
    """Raises FileNotFoundError, naming the files and where they go, when `data.name` is neither prepared
    in `data.data_dir` nor has its `MANUAL_FILES` in the manual dir. Reads no data and prepares nothing."""
    _available_builder(data)


def prepared_builder(data) -> tfds.core.DatasetBuilder:
    """The tfds builder of `data.name`, prepared in `data.data_dir` on first use.

    digits is generated offline; tiny_imagenet and imagenet2012 read `MANUAL_FILES` from the manual dir
    (checked first, so a missing archive is named before any work); cifar/svhn are downloaded by tfds.
    """
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
            f"in manual_dir {manual_dir}: place the file(s) there (or pass --config.data.manual_dir=DIR) "
            f"and run again"
        )
    return builder, manual_dir


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
