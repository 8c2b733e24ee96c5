"""train_lib.device_preprocessing against the TensorFlow ops it replaced (fb.resnet.torch's ColorJitter and
Lighting, mean/std normalisation): the application exactly on the same inputs and draws, the draws by their
distribution; and the per-example, per-step keys of the train step."""

import ml_collections
import numpy as np
import pytest
import tensorflow as tf

import jax
import jax.numpy as jnp

from train_lib import device_preprocessing as dp


def _images(n=4, size=9):
    return np.random.default_rng(0).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


# TensorFlow reference: the host-side implementation these ops replaced, with its draws made explicit.
def _tf_grayscale(image):
    return tf.reduce_sum(image * tf.constant(dp.LUMA_WEIGHTS), axis=-1, keepdims=True)


def _tf_blend(image, other, alpha):
    return image * alpha + other * (1 - alpha)


def tf_color_jitter(image, order, alphas):
    transforms = (
        lambda x: _tf_blend(x, tf.zeros_like(x), alphas[0]),
        lambda x: _tf_blend(x, tf.reduce_mean(_tf_grayscale(x)), alphas[1]),
        lambda x: _tf_blend(x, _tf_grayscale(x), alphas[2]),
    )
    for position in range(3):
        image = tf.switch_case(order[position], [lambda t=t: t(image) for t in transforms])
    return image


def tf_pca_lighting(image, alpha):
    return image + tf.linalg.matvec(tf.constant(dp.PCA_EIGENVECTORS), alpha * tf.constant(dp.PCA_EIGENVALUES))


def _data(**fields):
    values = dict(normalization="mean_std", mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                  color_jitter=0.4, pca_lighting=0.1)
    return ml_collections.ConfigDict({**values, **fields})


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
def test_color_jitter_applies_as_the_tensorflow_reference(order):
    image = _images(1)[0].astype(np.float32) / 255
    alphas = np.array([1.3, 0.7, 1.2], np.float32)
    ours = dp.apply_color_jitter(jnp.asarray(image), jnp.asarray(order), jnp.asarray(alphas))
    reference = tf_color_jitter(tf.constant(image), tf.constant(order), tf.constant(alphas))
    np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=1e-6)


def test_pca_lighting_applies_as_the_tensorflow_reference():
    image = _images(1)[0].astype(np.float32) / 255
    alpha = np.array([0.05, -0.12, 0.2], np.float32)
    np.testing.assert_allclose(dp.apply_pca_lighting(jnp.asarray(image), jnp.asarray(alpha)),
                               tf_pca_lighting(tf.constant(image), tf.constant(alpha)), rtol=1e-6, atol=1e-6)


def test_draws_follow_the_reference_distributions():
    keys = jax.random.split(jax.random.key(0), 4000)
    orders, alphas = jax.vmap(lambda k: dp.draw_color_jitter(k, 0.4))(keys)
    orders, alphas = np.asarray(orders), np.asarray(alphas)
    assert all(sorted(o) == [0, 1, 2] for o in orders[:100])
    permutations = {tuple(o) for o in orders}
    assert len(permutations) == 6  # every order of brightness, contrast, saturation occurs
    counts = np.unique(orders[:, 0], return_counts=True)[1]
    assert counts.min() > 4000 / 3 * 0.9  # each op first about a third of the time
    assert alphas.min() >= 0.6 and alphas.max() <= 1.4  # 1 + U(-0.4, 0.4)
    np.testing.assert_allclose(alphas.mean(0), 1.0, atol=0.02)
    np.testing.assert_allclose(alphas.std(0), 0.8 / np.sqrt(12), rtol=0.05)
    lighting = np.asarray(jax.vmap(lambda k: dp.draw_pca_lighting(k, 0.1))(keys))
    np.testing.assert_allclose(lighting.mean(0), 0.0, atol=0.01)
    np.testing.assert_allclose(lighting.std(0), 0.1, rtol=0.05)


def test_normalisations_match_their_formulas():
    images = np.full((1, 2, 2, 3), 0.5, np.float32)
    out = dp.normalize(jnp.asarray(images), method="mean_std", mean=(0.5, 0.25, 0.0), std=(1.0, 0.5, 0.25))
    np.testing.assert_allclose(out[0, 0, 0], [0.0, 0.5, 2.0])
    np.testing.assert_allclose(dp.normalize(jnp.asarray(images), method="minus_one_to_one"), 0.0)
    with pytest.raises(ValueError, match="normalization='zca'; valid: mean_std, minus_one_to_one"):
        dp.normalize(jnp.asarray(images), method="zca")


def test_eval_preprocessing_is_divide_and_normalise():
    images = _images()
    data = _data()
    expected = (images / 255.0 - np.array(data.mean)) / np.array(data.std)
    np.testing.assert_allclose(dp.eval_preprocessing(data)(jnp.asarray(images)), expected, rtol=1e-5, atol=1e-5)


def test_train_preprocessing_without_augmentation_equals_eval():
    images = jnp.asarray(_images())
    data = _data(color_jitter=0.0, pca_lighting=0.0)
    np.testing.assert_array_equal(dp.train_preprocessing(data)(images, jax.random.key(1)),
                                  dp.eval_preprocessing(data)(images))


def test_train_preprocessing_draws_per_example_and_per_key():
    images = jnp.asarray(np.repeat(_images(1), 4, axis=0))  # four copies of one image
    preprocess = jax.jit(dp.train_preprocessing(_data()))
    first = np.asarray(preprocess(images, jax.random.key(1)))
    np.testing.assert_array_equal(first, preprocess(images, jax.random.key(1)))  # a pure function of the key
    assert len({row.tobytes() for row in first}) == 4  # each example its own draw
    assert not np.array_equal(first, preprocess(images, jax.random.key(2)))
    # Example i uses split(key, B)[i]: the same as augmenting it alone with that key.
    key_2 = jax.random.split(jax.random.key(1), 4)[2]
    alone = dp.augment_image(dp.to_unit_range(images[2]), key_2, color_jitter=0.4, pca_lighting=0.1)
    np.testing.assert_allclose(first[2], dp.normalization(_data())(alone), rtol=1e-5,
                               atol=1e-5)
