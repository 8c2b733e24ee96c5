"""Exact evaluation: every example counted once, every process running the same number of batches.

Like big_vision: the per-process slice is extended with zero images carrying mask=False up to a batch
count shared by all processes (tfds.split_for_jax_process gives the first N mod P processes one extra).
"""

import math

import tensorflow as tf


def num_eval_batches(num_examples: int, *, process_count: int, local_batch_size: int) -> int:
    """Batches every process yields so that the largest slice, ⌈N/P⌉ examples, fits."""
    largest_slice = math.ceil(num_examples / process_count)
    return max(1, math.ceil(largest_slice / local_batch_size))


def pad_with_mask(dataset: tf.data.Dataset, *, total: int, image_size: int) -> tf.data.Dataset:
    """Adds 'mask' (True for real examples) and appends mask=False zero examples up to `total` elements."""
    real = dataset.map(lambda example: dict(example, mask=tf.constant(True)))
    padding = tf.data.Dataset.from_tensors(
        {
            "image": tf.zeros([image_size, image_size, 3], tf.uint8),
            "label": tf.constant(0, tf.int32),
            "mask": tf.constant(False),
        }
    ).repeat()
    return real.concatenate(padding).take(total)
