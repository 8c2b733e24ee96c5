"""Train and eval iterators: per-process tfds slices, seeded order, preprocessing, batches of host numpy.

Order: epoch e of process p shuffles its slice with a seed derived from (seed, p, e), and the example at
position i of that epoch is augmented with the stateless seed (epoch seed, i). A run resumed at
`start_step` therefore sees exactly the batches an uninterrupted run would: whole epochs are skipped by
starting the epoch counter later, and the rest is skipped before decoding.
"""

import os
from collections.abc import Iterator

import jax
import numpy as np
import tensorflow as tf

from input_pipeline import corrupt_images, eval_padding, recipes, sources

_LAST_EPOCH = np.iinfo(np.int64).max


def create_train_iterator(
    data,
    *,
    global_batch_size: int,
    seed: int,
    start_step: int = 0,
    process_index: int | None = None,
    process_count: int | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """Infinite iterator of {'image': uint8 [B, S, S, 3], 'label': int32 [B]}, B = global / process_count; the
    float half of the recipe (÷255, colour jitter, lighting, normalisation) is `train_lib.device_preprocessing`'s.

    Each process reads ⌊N/P⌋ examples per epoch (tfds.split_for_jax_process with drop_remainder); batches
    run on across epoch boundaries, so step s holds examples s·B … (s+1)·B − 1 of the stream.

    `data` must have passed `validate_data_config` (train_lib's `validate_config` runs it once per run); it
    is trusted here, not checked again. Only the arguments are checked (a ValueError naming the bad one).
    """
    if start_step < 0:
        raise ValueError(f"start_step={start_step}; valid: ≥ 0")
    process_index, process_count = _process(process_index, process_count)
    local_batch_size = _local_batch_size(global_batch_size, process_count)
    builder = sources.prepared_builder(data)
    examples = sources.process_examples(
        builder, data.train_split, process_index=process_index, process_count=process_count, drop_remainder=True
    )
    epoch_size = sources.count_examples(examples)
    if epoch_size == 0:
        raise ValueError(f"train_split={data.train_split!r} of {data.name} has no examples for {process_count} processes")
    if data.cache:
        examples = examples.cache()
    process_key = _derive_seed(tf.constant([seed, process_index], tf.int64))

    def epoch_examples(epoch):
        epoch_seed = _derive_seed(tf.stack([process_key, epoch]))
        shuffled = examples.shuffle(data.shuffle_buffer, seed=epoch_seed, reshuffle_each_iteration=False)
        positions = tf.data.Dataset.range(epoch_size)
        return tf.data.Dataset.zip(shuffled, positions).map(
            lambda example, position: dict(example, seed=tf.stack([epoch_seed, position]))
        )

    def batches(delivered: int, guarded: bool) -> Iterator[dict[str, np.ndarray]]:
        first_epoch, skip_in_epoch = divmod((start_step + delivered) * local_batch_size, epoch_size)
        stream = tf.data.Dataset.range(first_epoch, _LAST_EPOCH).flat_map(epoch_examples).skip(skip_in_epoch)
        stream = corrupt_images.map_images(
            stream,
            lambda example: recipes.train_image(example["image"], example["seed"], data=data),
            image_size=data.image_size,
            on_corrupt=data.on_corrupt,
            guarded=guarded,
        )
        stream = stream.batch(local_batch_size, drop_remainder=True).prefetch(data.prefetch)
        return with_host_threads(stream, data).as_numpy_iterator()

    return corrupt_images.guard_after_failure(batches)


def create_eval_iterator(
    data,
    *,
    global_batch_size: int,
    process_index: int | None = None,
    process_count: int | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """One pass over the eval split: {'image' (uint8, not normalised), 'label', 'mask' (bool)} batches of
    global / process_count.

    All processes yield the same number of batches; across processes every eval example appears exactly
    once with mask=True (eval_padding). With on_corrupt='skip' an undecodable example is not counted.

    `data` must have passed `validate_data_config` (train_lib's `validate_config` runs it once per run); it
    is trusted here, not checked again. Only the arguments are checked (a ValueError naming the bad one).
    """
    process_index, process_count = _process(process_index, process_count)
    local_batch_size = _local_batch_size(global_batch_size, process_count)
    builder = sources.prepared_builder(data)
    whole_split = sources.process_examples(builder, data.eval_split, process_index=0, process_count=1, drop_remainder=False)
    num_batches = eval_padding.num_eval_batches(
        sources.count_examples(whole_split), process_count=process_count, local_batch_size=local_batch_size
    )
    examples = sources.process_examples(
        builder, data.eval_split, process_index=process_index, process_count=process_count, drop_remainder=False
    )

    def batches(delivered: int, guarded: bool) -> Iterator[dict[str, np.ndarray]]:
        images = corrupt_images.map_images(
            examples.skip(delivered * local_batch_size),
            lambda example: recipes.eval_image(example["image"], data=data),
            image_size=data.image_size,
            on_corrupt=data.on_corrupt,
            guarded=guarded,
        )
        padded = eval_padding.pad_with_mask(
            images, total=(num_batches - delivered) * local_batch_size, image_size=data.image_size)
        stream = padded.batch(local_batch_size, drop_remainder=True).prefetch(data.prefetch)
        return with_host_threads(stream, data).as_numpy_iterator()

    return corrupt_images.guard_after_failure(batches)


def steps_per_epoch(data, global_batch_size: int) -> int:
    """Whole global batches in one pass over `data.train_split` (⌊N / global_batch_size⌋, at least 1); prepares
    the dataset on first use. `data` is trusted, as by the iterators."""
    builder = sources.prepared_builder(data)
    whole_split = sources.process_examples(builder, data.train_split, process_index=0, process_count=1, drop_remainder=False)
    return max(1, sources.count_examples(whole_split) // global_batch_size)


def host_threads(data) -> int:
    """Threads of the tf.data pool: ``data.threads``, or (0) every core this process may run on."""
    if data.threads:
        return data.threads
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def with_host_threads(dataset: tf.data.Dataset, data) -> tf.data.Dataset:
    """``dataset`` on a private pool of ``host_threads(data)`` threads (see ``with_threads``)."""
    return with_threads(dataset, host_threads(data))


def with_threads(dataset: tf.data.Dataset, threads: int) -> tf.data.Dataset:
    """``dataset`` on a private pool of ``threads`` threads, each op single-threaded inside (the parallelism
    is across examples, so ops do not oversubscribe the cores)."""
    options = tf.data.Options()
    options.threading.private_threadpool_size = threads
    options.threading.max_intra_op_parallelism = 1
    return dataset.with_options(options)


def _process(process_index: int | None, process_count: int | None) -> tuple[int, int]:
    """(process_index, process_count), JAX's where None; raises ValueError for an impossible pair."""
    process_index = jax.process_index() if process_index is None else process_index
    process_count = jax.process_count() if process_count is None else process_count
    if process_count < 1:
        raise ValueError(f"process_count={process_count}; valid: ≥ 1")
    if not 0 <= process_index < process_count:
        raise ValueError(f"process_index={process_index}; valid: 0 … {process_count - 1}")
    return process_index, process_count


def _local_batch_size(global_batch_size: int, process_count: int) -> int:
    """This process's share of the global batch; raises ValueError unless every process gets the same one."""
    if global_batch_size < 1 or global_batch_size % process_count:
        raise ValueError(f"global_batch_size={global_batch_size} must be a positive multiple of "
                         f"process_count={process_count}")
    return global_batch_size // process_count


def _derive_seed(seed_pair: tf.Tensor) -> tf.Tensor:
    """A well-mixed int64 seed from an int64 [2] pair (a stateless Philox draw)."""
    return tf.random.stateless_uniform([], seed=seed_pair, minval=None, maxval=None, dtype=tf.int64)
