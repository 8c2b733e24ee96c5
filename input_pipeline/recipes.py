"""Each paper's preprocessing recipe, chosen by the `data` config, composed from `preprocessing` ops: the host
half, which ends at uint8 [image_size, image_size, 3].

Training: decode, crop and resize (the recipe), flip. The float half (÷255, fb.resnet.torch's colour jitter and
PCA lighting, normalisation) runs on the accelerator inside the jitted steps (`train_lib.device_preprocessing`),
so the host spends its cores on decoding and sends a quarter of the bytes. Resized pixels are rounded to
uint8 before they leave the host (±0.5/255, below the resize's own interpolation error).
"""

import tensorflow as tf

from input_pipeline import preprocessing
from input_pipeline.config import EVAL_PREPROCESS, TRAIN_PREPROCESS


def train_image(image_bytes: tf.Tensor, seed: tf.Tensor, *, data) -> tf.Tensor:
    """uint8 [S, S, 3]: the training recipe `data.train_preprocess`, then the flip (`data.random_flip`).

    'inception_crop': ImageNet (SeesawNet §4 "Inception augmentation"; clcNet §4 via fb.resnet.torch) and
    Tiny-ImageNet (XSepConv §4 random-resized-crop, area ≥ 8 %, aspect 3/4–4/3, to 56).
    'pad_and_crop': CIFAR (SeesawNet §4, XSepConv §4): pad `crop_padding` zeros, random crop.
    'none': SVHN (XSepConv §4: no augmentation).
    """
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, num=2))
    size = data.image_size
    if data.train_preprocess == "inception_crop":
        image = preprocessing.decode_and_random_resized_crop(
            image_bytes,
            seed=crop_seed,
            size=size,
            area_range=tuple(data.crop_area_range),
            aspect_ratio_range=tuple(data.crop_aspect_ratio_range),
            resize_method=data.resize_method,
            antialias=data.resize_antialias,
        )
    elif data.train_preprocess == "pad_and_crop":
        image = preprocessing.pad_and_random_crop(
            _decode_at_size(image_bytes, data), seed=crop_seed, size=size, padding=data.crop_padding
        )
    elif data.train_preprocess == "none":
        image = _decode_at_size(image_bytes, data)
    else:
        raise ValueError(f"train_preprocess={data.train_preprocess!r}; valid: {', '.join(TRAIN_PREPROCESS)}")
    image = _to_uint8(image, data)
    if data.random_flip:
        image = preprocessing.random_flip(image, seed=flip_seed)
    return image


def eval_image(image_bytes: tf.Tensor, *, data) -> tf.Tensor:
    """uint8 [S, S, 3]: the evaluation recipe `data.eval_preprocess` (normalised on the device).

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
            preprocessing.decode_and_crop(image_bytes, window), [size, size], method=data.resize_method,
            antialias=data.resize_antialias,
        )
    elif data.eval_preprocess == "none":
        image = _decode_at_size(image_bytes, data)
    else:
        raise ValueError(f"eval_preprocess={data.eval_preprocess!r}; valid: {', '.join(EVAL_PREPROCESS)}")
    return _to_uint8(image, data)


def _decode_at_size(image_bytes: tf.Tensor, data) -> tf.Tensor:
    """Decoded uint8 image, resized to image_size only when its size differs."""
    image = preprocessing.decode_image(image_bytes)
    size = data.image_size
    return tf.cond(
        tf.reduce_all(tf.equal(tf.shape(image)[:2], size)),
        lambda: image,
        lambda: preprocessing.round_to_uint8(
            preprocessing.resize(image, [size, size], method=data.resize_method, antialias=data.resize_antialias)
        ),
    )


def _to_uint8(image: tf.Tensor, data) -> tf.Tensor:
    """A [0, 255] image (float from a resize, or uint8) as uint8 [S, S, 3], rounded to nearest."""
    if image.dtype != tf.uint8:
        image = preprocessing.round_to_uint8(image)
    image.set_shape([data.image_size, data.image_size, 3])
    return image
