"""Preprocessing ops and recipes: eager == inside tf.data.map, Inception-crop statistics on real photos."""

import numpy as np
import pytest
import tensorflow as tf

import input_pipeline
from input_pipeline import preprocessing, recipes

SEED = tf.constant([3, 4], tf.int64)


def _eager_and_mapped(fn, *inputs):
    """fn(*inputs) run eagerly and inside tf.data.Dataset.map."""
    mapped = next(iter(tf.data.Dataset.from_tensors(inputs).map(fn)))
    return tf.nest.map_structure(np.asarray, fn(*inputs)), tf.nest.map_structure(np.asarray, mapped)


def _image(height=37, width=53):
    return tf.constant(np.random.default_rng(0).integers(0, 256, (height, width, 3)), tf.uint8)


@pytest.mark.parametrize(
    "op",
    [
        lambda b: preprocessing.decode_image(b),
        lambda b: preprocessing.image_shape(b),
        lambda b: preprocessing.decode_and_crop(b, tf.constant([2, 3, 10, 20])),
        lambda b: preprocessing.decode_and_random_resized_crop(b, seed=SEED, size=24),
        lambda b: preprocessing.decode_and_random_resized_crop(b, seed=SEED, size=96),
        lambda b: preprocessing.center_crop_window(preprocessing.image_shape(b), crop_ratio=0.875),
        lambda b: preprocessing.pad_and_random_crop(preprocessing.decode_image(b), seed=SEED, size=37, padding=4),
        lambda b: preprocessing.random_flip(preprocessing.decode_image(b), seed=SEED),
    ],
)
@pytest.mark.parametrize("encode", [tf.io.encode_png, tf.io.encode_jpeg])
def test_op_runs_eagerly_and_in_dataset_map_with_equal_results(op, encode):
    eager, mapped = _eager_and_mapped(op, encode(_image()))
    np.testing.assert_allclose(eager, mapped, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("shape", [(37, 53), (224, 100), (223, 224), (224, 224), (300, 100), (100, 300), (400, 500)])
def test_antialiased_bilinear_resize_equals_tensorflows_on_every_shape(shape):
    """The plain-kernel shortcut (no axis shrinks) gives TensorFlow's antialiased pixels; shrinking ones are
    TensorFlow's exactly."""
    image = _image(*shape)
    ours = preprocessing.resize(image, [224, 224], method="bilinear")
    reference = tf.image.resize(image, [224, 224], method="bilinear", antialias=True)
    assert ours.shape == reference.shape == (224, 224, 3)
    tolerance = 2e-3 if max(shape) <= 224 else 0.0  # float rounding on the 0–255 scale
    np.testing.assert_allclose(ours, reference, rtol=0, atol=tolerance)


def test_inception_crop_area_and_aspect_stay_in_range_on_real_photos(photo_jpegs):
    areas, aspects = [], []
    for name, jpeg in photo_jpegs.items():
        shape = preprocessing.image_shape(jpeg)
        for draw in range(100):
            window = preprocessing.random_resized_crop_window(shape, seed=tf.constant([draw, len(name)]))
            _, _, height, width = window.numpy()
            areas.append(height * width / (shape[0] * shape[1]).numpy())
            aspects.append(width / height)
    areas, aspects = np.array(areas), np.array(aspects)
    pixel_slack = 0.02  # windows are whole pixels
    assert areas.min() >= 0.08 - pixel_slack and areas.max() <= 1.0
    assert aspects.min() >= 3 / 4 - pixel_slack and aspects.max() <= 4 / 3 + pixel_slack
    # The draws cover the range rather than sticking to one value.
    assert areas.min() < 0.15 and areas.max() > 0.85 and np.ptp(aspects) > 0.4
    assert len(np.unique(np.round(areas, 3))) > 150


def test_inception_crop_is_deterministic_per_seed_and_varies_across_seeds(photo_jpegs):
    jpeg = photo_jpegs["chelsea"]
    first = preprocessing.decode_and_random_resized_crop(jpeg, seed=SEED, size=64).numpy()
    again = preprocessing.decode_and_random_resized_crop(jpeg, seed=SEED, size=64).numpy()
    other = preprocessing.decode_and_random_resized_crop(jpeg, seed=SEED + 1, size=64).numpy()
    np.testing.assert_array_equal(first, again)
    assert first.shape == (64, 64, 3) and not np.array_equal(first, other)


def test_fused_jpeg_crop_equals_crop_of_full_decode(photo_jpegs):
    jpeg = photo_jpegs["coffee"]
    window = tf.constant([40, 100, 120, 200])
    fused = preprocessing.decode_and_crop(jpeg, window).numpy()
    full = preprocessing.decode_image(jpeg).numpy()[40:160, 100:300]
    assert np.abs(fused.astype(int) - full.astype(int)).max() <= 2  # JPEG block decoding may differ by ±1-2


def test_pad_and_crop_shifts_the_image_within_the_padding():
    image = tf.cast(_image(32, 32), tf.float32)
    for draw in range(8):
        crop = preprocessing.pad_and_random_crop(image, seed=tf.constant([draw, 0]), size=32, padding=4).numpy()
        padded = np.pad(image.numpy(), [(4, 4), (4, 4), (0, 0)])
        matches = [(dy, dx) for dy in range(9) for dx in range(9)
                   if np.array_equal(padded[dy:dy + 32, dx:dx + 32], crop)]
        assert matches, "crop is not a 32×32 window of the zero-padded image"


def test_tiny_imagenet_eval_is_the_centre_56_of_64():
    image = _image(64, 64)
    data = input_pipeline.default_data_config("tiny_imagenet")
    out = recipes.eval_image(tf.io.encode_png(image), data=data).numpy()
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, image.numpy()[4:60, 4:60])


@pytest.mark.parametrize("name", ["imagenet2012", "cifar10", "svhn_cropped"])  # one per distinct recipe
def test_default_recipes_give_the_configured_shape(name, photo_jpegs):
    data = input_pipeline.default_data_config(name)
    jpeg = photo_jpegs["rocket"]
    train, mapped_train = _eager_and_mapped(lambda b, s: recipes.train_image(b, s, data=data), jpeg, SEED)
    eval_, mapped_eval = _eager_and_mapped(lambda b: recipes.eval_image(b, data=data), jpeg)
    size = data.image_size
    assert train.shape == eval_.shape == (size, size, 3) and train.dtype == eval_.dtype == np.uint8
    np.testing.assert_array_equal(train, mapped_train)
    np.testing.assert_array_equal(eval_, mapped_eval)
    assert train.std() > 10 and eval_.std() > 10
