"""Shared fixtures: a digits dataset prepared once per worker, real photos encoded as JPEG."""

import numpy as np
import pytest
import skimage.data
import tensorflow as tf

import input_pipeline

PHOTO_NAMES = ("astronaut", "coffee", "chelsea", "rocket")


@pytest.fixture(scope="session")
def digits_data_dir(tmp_path_factory):
    """A tfds data_dir in which digits has been prepared (offline) by the pipeline itself."""
    data_dir = str(tmp_path_factory.mktemp("tfds"))
    data = input_pipeline.default_data_config("digits")
    data.data_dir = data_dir
    input_pipeline.steps_per_epoch(data, 1)  # prepares on first use
    return data_dir


@pytest.fixture
def digits_config(digits_data_dir):
    data = input_pipeline.default_data_config("digits")
    data.data_dir = digits_data_dir
    return data


@pytest.fixture(scope="session")
def photo_jpegs() -> dict[str, bytes]:
    """scikit-image's bundled photos (300–640 px) re-encoded as JPEG bytes."""
    return {
        name: tf.io.encode_jpeg(np.asarray(getattr(skimage.data, name)(), np.uint8), quality=90).numpy()
        for name in PHOTO_NAMES
    }
