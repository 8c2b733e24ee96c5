"""Exact evaluation: every eval example exactly once with mask=True, equal batch counts across processes."""

import collections

import pytest
import tensorflow_datasets as tfds

import input_pipeline
from input_pipeline import eval_padding


def _fingerprints(images, labels):
    return collections.Counter((int(label), image.tobytes()) for image, label in zip(images, labels))


@pytest.mark.parametrize("process_count, global_batch_size", [(1, 48), (2, 48), (3, 21)])
def test_every_eval_example_counted_once_for_any_process_count(digits_config, process_count, global_batch_size):
    assert 355 % global_batch_size and (355 // process_count) % (global_batch_size // process_count)
    seen_images, seen_labels, batch_counts = [], [], []
    for process_index in range(process_count):
        batches = list(input_pipeline.create_eval_iterator(
            digits_config, global_batch_size=global_batch_size, process_index=process_index,
            process_count=process_count))
        batch_counts.append(len(batches))
        for batch in batches:
            assert batch["image"].shape[0] == global_batch_size // process_count
            assert batch["mask"].dtype == bool
            seen_images.extend(batch["image"][batch["mask"]])
            seen_labels.extend(batch["label"][batch["mask"]])
            assert not batch["image"][~batch["mask"]].any()
    assert len(set(batch_counts)) == 1
    reference = tfds.as_numpy(tfds.builder("digits", data_dir=digits_config.data_dir).as_dataset(
        split="test", batch_size=-1))
    assert len(seen_labels) == 355
    assert _fingerprints(seen_images, seen_labels) == _fingerprints(reference["image"], reference["label"])


@pytest.mark.parametrize("num_examples, process_count, local_batch, expected", [
    (355, 1, 48, 8), (355, 2, 24, 8), (355, 3, 16, 8), (10, 3, 2, 2), (12, 3, 2, 2), (1, 4, 5, 1)])
def test_num_eval_batches_fits_the_largest_process_slice(num_examples, process_count, local_batch, expected):
    assert eval_padding.num_eval_batches(
        num_examples, process_count=process_count, local_batch_size=local_batch) == expected
