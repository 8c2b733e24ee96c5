"""Deterministic training order from (seed, epoch) and exact resumption at any step."""

import collections
import itertools

import numpy as np
import tensorflow_datasets as tfds

import input_pipeline


def _take(iterator, count):
    return list(itertools.islice(iterator, count))


def test_resumed_run_sees_the_same_batches_as_an_uninterrupted_one(digits_config):
    batch = 64  # 1442 examples: epoch 1 starts inside step 22
    uninterrupted = _take(input_pipeline.create_train_iterator(digits_config, global_batch_size=batch, seed=5), 26)
    for start_step in (22, 24):  # across the epoch boundary; inside epoch 1
        resumed = _take(input_pipeline.create_train_iterator(
            digits_config, global_batch_size=batch, seed=5, start_step=start_step), 26 - start_step)
        for expected, actual in zip(uninterrupted[start_step:], resumed):
            np.testing.assert_array_equal(expected["label"], actual["label"])
            np.testing.assert_array_equal(expected["image"], actual["image"])


def test_resume_is_exact_per_process(digits_config):
    kwargs = dict(global_batch_size=32, seed=1, process_count=2)
    for process_index in range(2):
        full = _take(input_pipeline.create_train_iterator(digits_config, process_index=process_index, **kwargs), 5)
        resumed = _take(input_pipeline.create_train_iterator(
            digits_config, process_index=process_index, start_step=3, **kwargs), 2)
        for expected, actual in zip(full[3:], resumed):
            np.testing.assert_array_equal(expected["image"], actual["image"])


def test_each_epoch_is_a_fresh_permutation_of_the_training_split(digits_config):
    digits_config.train_preprocess = "none"  # no augmentation: examples are recognisable
    batch = 14  # 1442 = 103 × 14
    batches = _take(input_pipeline.create_train_iterator(digits_config, global_batch_size=batch, seed=0), 2 * 103)
    images = np.concatenate([b["image"] for b in batches])
    labels = np.concatenate([b["label"] for b in batches])
    reference = tfds.as_numpy(tfds.builder("digits", data_dir=digits_config.data_dir).as_dataset(
        split="train", batch_size=-1))
    expected = collections.Counter(
        (int(l), i.tobytes()) for i, l in zip(reference["image"], reference["label"]))
    epochs = [slice(0, 1442), slice(1442, 2884)]
    for epoch in epochs:
        assert collections.Counter((int(l), i.tobytes()) for i, l in zip(images[epoch], labels[epoch])) == expected
    assert not np.array_equal(labels[epochs[0]], labels[epochs[1]])


def test_seed_and_process_change_the_order(digits_config):
    def first_labels(**kwargs):
        return next(input_pipeline.create_train_iterator(digits_config, global_batch_size=64, **kwargs))["label"]

    base = first_labels(seed=0, process_index=0, process_count=2)
    assert not np.array_equal(base, first_labels(seed=1, process_index=0, process_count=2))
    assert not np.array_equal(base, first_labels(seed=0, process_index=1, process_count=2))
