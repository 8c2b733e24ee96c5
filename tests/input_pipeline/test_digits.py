"""The embedded digits dataset end to end: offline builder, split, statistics, train batches."""

import numpy as np
import tensorflow_datasets as tfds

import input_pipeline
from train_lib import device_preprocessing


def test_digits_builder_prepares_the_real_stratified_split(digits_config):
    builder = tfds.builder("digits", data_dir=digits_config.data_dir)
    spec = input_pipeline.get_dataset_spec("digits")
    assert {name: split.num_examples for name, split in builder.info.splits.items()} == spec.splits
    assert spec.splits == {"train": 1442, "test": 355}
    test = tfds.as_numpy(builder.as_dataset(split="test", batch_size=-1))
    assert test["image"].shape == (355, 32, 32, 3) and test["image"].dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(test["label"]), [35, 36, 35, 36, 36, 36, 36, 35, 34, 36])
    # Grey digits on black: channels equal, strokes bright.
    np.testing.assert_array_equal(test["image"][..., 0], test["image"][..., 2])
    assert test["image"].max() == 255


def test_digits_config_mean_std_match_the_training_images(digits_config):
    builder = tfds.builder("digits", data_dir=digits_config.data_dir)
    pixels = tfds.as_numpy(builder.as_dataset(split="train", batch_size=-1))["image"] / 255.0
    np.testing.assert_allclose(digits_config.mean, pixels.mean(axis=(0, 1, 2)), atol=5e-4)
    np.testing.assert_allclose(digits_config.std, pixels.std(axis=(0, 1, 2)), atol=5e-4)


def test_digits_train_batches_are_uint8_images_normalised_on_the_device(digits_config):
    batches = input_pipeline.create_train_iterator(digits_config, global_batch_size=64, seed=0)
    batch = next(batches)
    assert set(batch) == {"image", "label"}
    assert batch["image"].shape == (64, 32, 32, 3) and batch["image"].dtype == np.uint8
    assert batch["label"].shape == (64,) and batch["label"].dtype == np.int32
    images = np.asarray(device_preprocessing.eval_preprocessing(digits_config)(batch["image"]))
    assert abs(images.mean()) < 0.3 and 0.7 < images.std() < 1.3
    assert len(np.unique(batch["label"])) >= 8
    assert input_pipeline.steps_per_epoch(digits_config, 64) == 1442 // 64
