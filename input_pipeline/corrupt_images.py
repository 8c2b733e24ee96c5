"""Preprocessing that survives undecodable images: skip and count them, or fail naming the record.

tf.data has no try/except, so each example is preprocessed inside a one-element dataset with
`ignore_errors()`, followed by a placeholder marked not-ok; `take(1)` keeps the first. A parallel
deterministic `interleave` runs these in order. Nothing is silently relabelled: a failed image is either
dropped with its label or stops the pipeline.
"""

import sys

import tensorflow as tf


def attempt_images(dataset: tf.data.Dataset, image_fn, *, placeholder: tf.Tensor,
                   parallelism: int = tf.data.AUTOTUNE) -> tf.data.Dataset:
    """Maps each example {'image', ...} to the same dict with 'image' = image_fn(example) and 'ok' = True, or,
    where image_fn fails, 'image' = `placeholder` and 'ok' = False; in order, `parallelism` at a time."""

    def attempt(example):
        processed = tf.data.Dataset.from_tensors(example).map(lambda ex: (image_fn(ex), True)).ignore_errors()
        failed = tf.data.Dataset.from_tensors((placeholder, False))
        return processed.concatenate(failed).take(1).map(lambda image, ok: dict(example, image=image, ok=ok))

    return dataset.interleave(
        attempt, cycle_length=parallelism, block_length=1, num_parallel_calls=parallelism, deterministic=True
    )


def map_images(dataset: tf.data.Dataset, image_fn, *, image_size: int, on_corrupt: str) -> tf.data.Dataset:
    """Maps {'image': bytes, 'label', 'tfds_id', ...} to {'image': image_fn(example), 'label'}.

    on_corrupt='skip': an undecodable example is dropped and logged to stderr with its tfds_id and this
    pipeline's running count. 'error': the pipeline raises InvalidArgumentError naming the tfds_id.
    """
    attempted = attempt_images(dataset, image_fn, placeholder=tf.zeros([image_size, image_size, 3], tf.uint8))
    if on_corrupt == "skip":
        kept = _skip_failed(attempted)
    elif on_corrupt == "error":
        kept = attempted.map(_raise_if_failed)
    else:
        raise ValueError(f"on_corrupt={on_corrupt!r}; valid: skip, error")
    return kept.map(lambda example: {"image": example["image"], "label": example["label"]})


def _skip_failed(dataset: tf.data.Dataset) -> tf.data.Dataset:
    skipped = tf.Variable(0, dtype=tf.int64, trainable=False)

    def keep(example):
        def log_skip():
            count = skipped.assign_add(1)
            with tf.control_dependencies(
                [tf.print("input_pipeline: skipped undecodable image", example["tfds_id"],
                          "- skipped so far:", count, output_stream=sys.stderr)]
            ):
                return tf.constant(False)

        return tf.cond(example["ok"], lambda: tf.constant(True), log_skip)

    return dataset.filter(keep)


def _raise_if_failed(example):
    check = tf.debugging.Assert(
        example["ok"], ["input_pipeline: undecodable image in record", example["tfds_id"], "(on_corrupt='error')"]
    )
    with tf.control_dependencies([check]):
        return dict(example, image=tf.identity(example["image"]))
