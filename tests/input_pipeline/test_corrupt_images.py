"""Undecodable images: skipped and counted in the log, or an error naming the record; never relabelled."""

import numpy as np
import pytest
import tensorflow as tf

import input_pipeline
from input_pipeline import corrupt_images, recipes


def _records(photo_jpegs):
    good_png = tf.io.encode_png(np.full((32, 32, 3), 9, np.uint8)).numpy()
    truncated_jpeg = photo_jpegs["coffee"][:2000]
    images = [good_png, b"not an image at all", truncated_jpeg, photo_jpegs["chelsea"]]
    return tf.data.Dataset.from_tensor_slices({
        "image": images,
        "label": np.arange(4, dtype=np.int32),
        "tfds_id": [f"digits-test.tfrecord-00000-of-00001__{i}" for i in range(4)],
    })


def _map(photo_jpegs, on_corrupt):
    data = input_pipeline.default_data_config("digits")
    return corrupt_images.map_images(
        _records(photo_jpegs), lambda ex: recipes.eval_image(ex["image"], data=data),
        image_size=data.image_size, on_corrupt=on_corrupt)


def test_skip_drops_undecodable_examples_with_their_labels_and_logs_a_count(photo_jpegs, capfd):
    kept = list(_map(photo_jpegs, "skip").as_numpy_iterator())
    assert [int(example["label"]) for example in kept] == [0, 3]
    assert all(example["image"].shape == (32, 32, 3) for example in kept)
    log = capfd.readouterr().err
    assert 'skipped undecodable image "digits-test.tfrecord-00000-of-00001__1" - skipped so far: 1' in log
    assert 'skipped undecodable image "digits-test.tfrecord-00000-of-00001__2" - skipped so far: 2' in log


def test_error_names_the_first_bad_record(photo_jpegs):
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"undecodable image in record.*__1"):
        list(_map(photo_jpegs, "error").as_numpy_iterator())
