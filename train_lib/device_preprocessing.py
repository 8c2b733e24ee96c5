"""The float half of preprocessing, on the accelerator inside the jitted steps.

The host pipeline (``input_pipeline``) ends at uint8 [B, S, S, 3]: decode, crop, resize, flip. Everything
that needs floats runs here, in JAX: ÷255, fb.resnet.torch's colour jitter and PCA lighting (training) and
the normalisation (training and eval). A uint8 batch is a quarter of the host→device traffic of a float32
one, and the float work leaves the host's cores to decoding (the measured bottleneck; docs/input_pipeline.md).

Randomness: example ``i`` of the global batch of step ``s`` uses ``split(augment_key_s, B)[i]``, where
``augment_key_s`` comes from the run's key and ``s`` (``train_lib.steps``); a resumed run draws exactly
what an uninterrupted one would. Each op draws its parameters (``draw_*``) separately from applying them
(``apply_*``), so tests can check the application exactly against the TensorFlow reference and the draws
by their distribution.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp

# fb.resnet.torch (datasets/imagenet.lua): ImageNet RGB PCA, used by its `Lighting` transform.
PCA_EIGENVALUES = (0.2175, 0.0188, 0.0045)
PCA_EIGENVECTORS = (
    (-0.5675, 0.7192, 0.4009),
    (-0.5808, -0.0045, -0.8140),
    (-0.5836, -0.6948, 0.4203),
)
# fb.resnet.torch `Grayscale`: ITU-R 601 luma weights.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)

Images = jax.Array  # [B, H, W, 3]


def to_unit_range(images: Images) -> Images:
    """uint8 [0, 255] → float32 [0, 1]."""
    return images.astype(jnp.float32) / 255.0


def normalize(images: Images, *, method: str, mean: Sequence[float] = (), std: Sequence[float] = ()) -> Images:
    """A [0, 1] image to network input: 'mean_std' per channel, or 'minus_one_to_one'.

    Raises ValueError naming an unknown ``method``.
    """
    if method == "mean_std":
        return (images - jnp.asarray(mean, jnp.float32)) / jnp.asarray(std, jnp.float32)
    if method == "minus_one_to_one":
        return images * 2 - 1
    raise ValueError(f"normalization={method!r}; valid: mean_std, minus_one_to_one")


def _grayscale(image: jax.Array) -> jax.Array:
    return jnp.sum(image * jnp.asarray(LUMA_WEIGHTS, image.dtype), axis=-1, keepdims=True)


def _blend(image: jax.Array, other: jax.Array, alpha: jax.Array) -> jax.Array:
    return image * alpha + other * (1 - alpha)


def draw_color_jitter(key: jax.Array, strength: float) -> tuple[jax.Array, jax.Array]:
    """(order int32 [3]: a random permutation of brightness, contrast, saturation; alphas float32 [3]:
    1 + U(-strength, strength) each), as fb.resnet.torch's `ColorJitter` draws them."""
    order_key, alpha_key = jax.random.split(key)
    order = jnp.argsort(jax.random.uniform(order_key, (3,))).astype(jnp.int32)
    alphas = 1 + jax.random.uniform(alpha_key, (3,), minval=-strength, maxval=strength)
    return order, alphas


def apply_color_jitter(image: jax.Array, order: jax.Array, alphas: jax.Array) -> jax.Array:
    """One [H, W, 3] image: brightness (blend with black), contrast (with its mean gray) and saturation (with
    its grayscale), each by its ``alphas`` entry, in ``order``; no clipping, as in fb.resnet.torch."""
    transforms = (
        lambda x: _blend(x, jnp.zeros_like(x), alphas[0]),
        lambda x: _blend(x, jnp.mean(_grayscale(x)), alphas[1]),
        lambda x: _blend(x, _grayscale(x), alphas[2]),
    )
    for position in range(3):
        image = jax.lax.switch(order[position], transforms, image)
    return image


def draw_pca_lighting(key: jax.Array, alpha_std: float) -> jax.Array:
    """alpha float32 [3] ~ N(0, alpha_std²), AlexNet's lighting draw (Krizhevsky et al. 2012, §4.1)."""
    return alpha_std * jax.random.normal(key, (3,))


def apply_pca_lighting(image: jax.Array, alpha: jax.Array) -> jax.Array:
    """Adds ``eigvec @ (alpha * eigval)`` to every pixel of one [H, W, 3] image (fb.resnet.torch `Lighting`)."""
    rgb = jnp.asarray(PCA_EIGENVECTORS, jnp.float32) @ (alpha * jnp.asarray(PCA_EIGENVALUES, jnp.float32))
    return image + rgb


def augment_image(image: jax.Array, key: jax.Array, *, color_jitter: float, pca_lighting: float) -> jax.Array:
    """One [H, W, 3] image in [0, 1]: colour jitter then PCA lighting (each skipped at 0), drawn from ``key``."""
    jitter_key, lighting_key = jax.random.split(key)
    if color_jitter > 0:
        image = apply_color_jitter(image, *draw_color_jitter(jitter_key, color_jitter))
    if pca_lighting > 0:
        image = apply_pca_lighting(image, draw_pca_lighting(lighting_key, pca_lighting))
    return image


def train_preprocessing(data) -> Callable[[Images, jax.Array], Images]:
    """``preprocess(images_uint8, key) -> float32 network input`` for the training recipe of ``data``
    (the ``config.data`` fields ``color_jitter``, ``pca_lighting``, ``normalization``, ``mean``, ``std``).

    Order as fb.resnet.torch: colour jitter, lighting, normalisation (the host's flip commutes with them).
    """
    color_jitter, pca_lighting = float(data.color_jitter), float(data.pca_lighting)
    normalize_unit_range = normalization(data)

    def preprocess(images: Images, key: jax.Array) -> Images:
        images = to_unit_range(images)
        if color_jitter > 0 or pca_lighting > 0:
            keys = jax.random.split(key, images.shape[0])
            images = jax.vmap(
                lambda image, k: augment_image(image, k, color_jitter=color_jitter, pca_lighting=pca_lighting)
            )(images, keys)
        return normalize_unit_range(images)

    return preprocess


def eval_preprocessing(data) -> Callable[[Images], Images]:
    """``preprocess(images_uint8) -> float32 network input``: ÷255, then ``normalization(data)``."""
    normalize_unit_range = normalization(data)
    return lambda images: normalize_unit_range(to_unit_range(images))


def normalization(data) -> Callable[[Images], Images]:
    """The normalisation of ``data`` (validated by ``input_pipeline.validate_data_config``) for [0, 1] images."""
    method, mean, std = data.normalization, tuple(data.mean or ()), tuple(data.std or ())
    return lambda images: normalize(images, method=method, mean=mean, std=std)
