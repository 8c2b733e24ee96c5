"""The `data` ConfigDict: per-dataset defaults (each paper's preprocessing) and up-front validation."""

import ml_collections
from ml_collections import config_dict

from input_pipeline.datasets import get_dataset_spec

TRAIN_PREPROCESS = ("inception_crop", "pad_and_crop", "none")
EVAL_PREPROCESS = ("resize_center_crop", "none")
NORMALIZATIONS = ("mean_std", "minus_one_to_one")
RESIZE_METHODS = ("bilinear", "bicubic", "area", "lanczos3", "nearest")
ON_CORRUPT = ("skip", "error")

# Per-channel statistics of the training split on [0, 1] pixels.
_MEAN_STD = {
    "digits": ((0.3054,) * 3, (0.3237,) * 3),  # measured on the 1,442 upsampled training images
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "svhn_cropped": ((0.4377, 0.4438, 0.4728), (0.1980, 0.2010, 0.1970)),
    "tiny_imagenet": ((0.4802, 0.4481, 0.3975), (0.2302, 0.2265, 0.2262)),
    "imagenet2012": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),  # fb.resnet.torch
}

# (train_preprocess, eval_preprocess, random_flip, shuffle_buffer, cache), per paper:
_RECIPES = {
    # Digits: small shifts only (a mirrored digit is another glyph).
    "digits": ("pad_and_crop", "none", False, 2_048, True),
    # SeesawNet §4 and XSepConv §4: pad 4, random crop 32, flip, channel mean/std.
    "cifar10": ("pad_and_crop", "none", True, 50_000, True),
    "cifar100": ("pad_and_crop", "none", True, 50_000, True),
    # XSepConv §4: no augmentation, channel mean/std.
    "svhn_cropped": ("none", "none", False, 100_000, True),
    # XSepConv §4: random-resized-crop (area ≥ 8%, aspect 3/4–4/3) to 56 + flip; eval centre 56 of 64.
    "tiny_imagenet": ("inception_crop", "resize_center_crop", True, 100_000, True),
    # SeesawNet §4: Inception augmentation; eval resize 256, centre crop 224.
    "imagenet2012": ("inception_crop", "resize_center_crop", True, 16_384, False),
}


def default_data_config(name: str) -> ml_collections.ConfigDict:
    """The per-dataset defaults: the paper's preprocessing for `name` (one of `DATASET_NAMES`).

    Fields:
      name: dataset name, one of DATASET_NAMES.
      data_dir: tfds data directory, None = tfds default (~/tensorflow_datasets). digits and
        tiny_imagenet are prepared there on first use.
      manual_dir: where manually downloaded archives sit (imagenet2012: ILSVRC2012_img_train.tar and
        ILSVRC2012_img_val.tar; tiny_imagenet: tiny-imagenet-200.zip); None = <data_dir>/downloads/manual.
      train_split, eval_split: tfds split strings; svhn_cropped 'train+extra' reproduces XSepConv §4.
      prepared_size: 0 = the original images; N ≥ 1 = the copy written once by `python -m
        input_pipeline.prepare NAME --size=N` into data_dir (JPEGs with shorter side ≤ N, never upscaled;
        undecodable images left out; docs/input_pipeline.md, "Prepared datasets"), read like the original.
      image_size: network input side, train and eval.
      train_preprocess: 'inception_crop' | 'pad_and_crop' | 'none' (see preprocessing.train_image).
      eval_preprocess: 'resize_center_crop' | 'none' (see preprocessing.eval_image).
      crop_area_range, crop_aspect_ratio_range: Inception crop ranges, (0.08, 1) and (3/4, 4/3).
      crop_padding: zero padding per side for 'pad_and_crop' (CIFAR: 4).
      random_flip: horizontal flip with probability 1/2 in training.
      normalization: 'mean_std' (uses mean, std: per-channel on [0, 1] pixels) or 'minus_one_to_one'.
      mean, std: per-channel statistics for 'mean_std'.
      resize_method: tf.image.resize method, one of RESIZE_METHODS.
      resize_antialias: True filters when downscaling (as PIL and torchvision do); False samples without a
        filter (TF-slim's resize_images), 1.8× the host rate on 500×375 JPEGs (docs/input_pipeline.md).
      eval_crop_ratio: centre-crop side / shorter image side for 'resize_center_crop' (0.875 = 224/256).
      color_jitter: fb.resnet.torch ColorJitter strength for brightness/contrast/saturation, 0 = off
        (clcNet used fb.resnet.torch's 0.4).
      pca_lighting: AlexNet PCA lighting alpha std, 0 = off (fb.resnet.torch: 0.1).
      on_corrupt: undecodable image: 'skip' (dropped, logged with a running count) or 'error' (raise,
        naming the record).
      shuffle_buffer: examples in the shuffle buffer (≥ split size gives a full permutation per epoch).
      prefetch: batches prepared ahead of the consumer.
      threads: threads of the pipeline's private tf.data pool; 0 = every core this process may use.
      cache: keep the encoded split in memory after the first pass.
    """
    spec = get_dataset_spec(name)
    train_preprocess, eval_preprocess, random_flip, shuffle_buffer, cache = _RECIPES[name]
    mean, std = _MEAN_STD[name]
    return ml_collections.ConfigDict(
        {
            "name": name,
            "data_dir": config_dict.placeholder(str),
            "manual_dir": config_dict.placeholder(str),
            "train_split": spec.train_split,
            "eval_split": spec.eval_split,
            "prepared_size": 0,
            "image_size": spec.image_size,
            "train_preprocess": train_preprocess,
            "eval_preprocess": eval_preprocess,
            "crop_area_range": (0.08, 1.0),
            "crop_aspect_ratio_range": (3 / 4, 4 / 3),
            "crop_padding": 4,
            "random_flip": random_flip,
            "normalization": "mean_std",
            "mean": mean,
            "std": std,
            "resize_method": "bilinear",
            "resize_antialias": True,
            "eval_crop_ratio": 0.875,
            "color_jitter": 0.0,
            "pca_lighting": 0.0,
            "on_corrupt": "error",
            "shuffle_buffer": shuffle_buffer,
            "prefetch": 2,
            "threads": 0,
            "cache": cache,
        }
    )


def validate_data_config(data: ml_collections.ConfigDict) -> None:
    """Checks every field of `data`; raises ValueError (one line naming the bad value and the valid ones).

    Reads no data. Call it once per run before creating iterators (train_lib's `validate_config` does):
    the iterators trust a validated config and do not check it again.
    """
    spec = get_dataset_spec(data.name)
    for field in ("train_split", "eval_split"):
        _check_split(field, data[field], tuple(spec.splits))
    prepared_size = data.get("prepared_size", 0)
    if isinstance(prepared_size, bool) or not isinstance(prepared_size, int) or prepared_size < 0:
        raise ValueError(f"prepared_size={prepared_size!r}; valid: 0 (the original images) or N ≥ 1 (the copy "
                         f"written by `python -m input_pipeline.prepare {data.name} --size=N`)")
    for field, highest in (("crop_area_range", 1.0), ("crop_aspect_ratio_range", float("inf"))):
        low, high = (tuple(data[field]) + (None, None))[:2]
        if len(data[field]) != 2 or not (isinstance(low, (int, float)) and isinstance(high, (int, float))
                                         and 0 < low <= high <= highest):
            raise ValueError(f"{field}={tuple(data[field])}; valid: (low, high) with 0 < low ≤ high ≤ {highest}")
    _check_choice("train_preprocess", data.train_preprocess, TRAIN_PREPROCESS)
    _check_choice("eval_preprocess", data.eval_preprocess, EVAL_PREPROCESS)
    _check_choice("normalization", data.normalization, NORMALIZATIONS)
    _check_choice("resize_method", data.resize_method, RESIZE_METHODS)
    _check_choice("on_corrupt", data.on_corrupt, ON_CORRUPT)
    if data.normalization == "mean_std" and not (len(data.mean) == len(data.std) == 3 and min(data.std) > 0):
        raise ValueError(f"mean={data.mean}, std={data.std}; need 3 values each and std > 0")
    if not 0 < data.eval_crop_ratio <= 1:
        raise ValueError(f"eval_crop_ratio={data.eval_crop_ratio}; valid: (0, 1]")
    if data.image_size < 1:
        raise ValueError(f"image_size={data.image_size}; must be ≥ 1")
    for field in ("color_jitter", "pca_lighting", "crop_padding"):
        if data[field] < 0:
            raise ValueError(f"{field}={data[field]}; must be ≥ 0")
    for field in ("shuffle_buffer", "prefetch"):
        if data[field] < 1:
            raise ValueError(f"{field}={data[field]}; must be ≥ 1")
    if data.threads < 0:
        raise ValueError(f"threads={data.threads}; valid: 0 (every core) or ≥ 1")


def _check_split(field: str, split: str, splits: tuple[str, ...]) -> None:
    """`split` is a tfds split expression ('train', 'train+extra', 'train[:90%]'); each name must exist."""
    names = [part.split("[")[0].strip() for part in split.split("+")]
    unknown = [name for name in names if name not in splits]
    if unknown:
        raise ValueError(f"{field}={split!r}: no split {unknown[0]!r}; valid: {', '.join(splits)} (tfds split "
                         f"expressions such as 'train[:90%]' or 'train+extra' work too)")


def _check_choice(field: str, value, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ValueError(f"{field}={value!r}; valid: {', '.join(valid)}")

