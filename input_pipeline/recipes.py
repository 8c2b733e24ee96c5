"""Each paper's preprocessing recipe, chosen by the `data` config, composed from `preprocessing` ops.

Train order follows fb.resnet.torch (crop, colour jitter, lighting, normalise, flip); flipping commutes
with the colour ops. Images leave as float32 [image_size, image_size, 3].
"""

import tensorflow as tf

from input_pipeline import preprocessing
from input_pipeline.config import EVAL_PREPROCESS, TRAIN_PREPROCESS


def train_image(image_bytes: tf.Tensor, seed: tf.Tensor, *, data) -> tf.Tensor:
    """The training recipe `data.train_preprocess`, then flip, colour jitter, lighting, normalisation.

    'inception_crop': ImageNet (SeesawNet §4 "Inception augmentation"; clcNet §4 via fb.resnet.torch) and
    Tiny-ImageNet (XSepConv §4 random-resized-crop, area ≥ 8 %, aspect 3/4–4/3, to 56).
    'pad_and_crop': CIFAR (SeesawNet §4, XSepConv §4): pad `crop_padding` zeros, random crop.
    'none': SVHN (XSepConv §4: no augmentation).
    """
    crop_seed, flip_seed, jitter_seed, lighting_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, num=4)
    )
    size = data.image_size
    if data.train_preprocess == "inception_crop":
        image = preprocessing.decode_and_random_resized_crop(
            image_bytes,
            seed=crop_seed,
            size=size,
            area_range=tuple(data.crop_area_range),
            aspect_ratio_range=tuple(data.crop_aspect_ratio_range),
            resize_method=data.resize_method,
        )
    elif data.train_preprocess == "pad_and_crop":
        image = preprocessing.pad_and_random_crop(
            _decode_at_size(image_bytes, data), seed=crop_seed, size=size, padding=data.crop_padding
        )
    elif data.train_preprocess == "none":
        image = _decode_at_size(image_bytes, data)
    else:
        raise ValueError(f"train_preprocess={data.train_preprocess!r}; valid: {', '.join(TRAIN_PREPROCESS)}")
    image = image / 255.0
    if data.random_flip:
        image = preprocessing.random_flip(image, seed=flip_seed)
    if data.color_jitter > 0:
        image = preprocessing.color_jitter(image, seed=jitter_seed, strength=data.color_jitter)
    if data.pca_lighting > 0:
        image = preprocessing.pca_lighting(image, seed=lighting_seed, alpha_std=data.pca_lighting)
    return _normalize(image, data)


def eval_image(image_bytes: tf.Tensor, *, data) -> tf.Tensor:
    """The evaluation recipe `data.eval_preprocess`, then normalisation.

    'resize_center_crop': the centred square of `eval_crop_ratio` × shorter side, decoded alone (fused for
    JPEG) and resized to `image_size`: the same pixels as "resize to S/ratio, centre crop S" (ImageNet
    256 → 224, SeesawNet §4; Tiny-ImageNet centre 56 of 64). 'none': decode only.
    """
    size = data.image_size
    if data.eval_preprocess == "resize_center_crop":
        window = preprocessing.center_crop_window(
            preprocessing.image_shape(image_bytes), crop_ratio=data.eval_crop_ratio
        )
        image = preprocessing.resize(
            preprocessing.decode_and_crop(image_bytes, window), [size, size], method=data.resize_method
        )
    elif data.eval_preprocess == "none":
        image = _decode_at_size(image_bytes, data)
    else:
        raise ValueError(f"eval_preprocess={data.eval_preprocess!r}; valid: {', '.join(EVAL_PREPROCESS)}")
    return _normalize(image / 255.0, data)


def _decode_at_size(image_bytes: tf.Tensor, data) -> tf.Tensor:
    """Decoded float32 [0, 255] image, resized to image_size only when its size differs."""
    image = tf.cast(preprocessing.decode_image(image_bytes), tf.float32)
    size = data.image_size
    return tf.cond(
        tf.reduce_all(tf.equal(tf.shape(image)[:2], size)),
        lambda: image,
        lambda: preprocessing.resize(image, [size, size], method=data.resize_method),
    )


def _normalize(image: tf.Tensor, data) -> tf.Tensor:
    image = preprocessing.normalize(image, method=data.normalization, mean=data.mean, std=data.std)
    image.set_shape([data.image_size, data.image_size, 3])
    return image
