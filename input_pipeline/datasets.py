"""The datasets lightnets trains on: names, split sizes and where manually downloaded files go.

Pure Python (no TensorFlow) so that train_lib can read dataset facts on machines without TF.
"""

import dataclasses

DATASET_NAMES = ("digits", "cifar10", "cifar100", "svhn_cropped", "tiny_imagenet", "imagenet2012")


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Facts about one dataset with its default splits; `image_size` is the default train/eval input size,
    `splits` every split tfds provides."""

    name: str
    num_classes: int
    num_train_examples: int
    num_eval_examples: int
    train_split: str
    eval_split: str
    image_size: int
    splits: tuple[str, ...] = ("train", "test")


_INFOS = {
    info.name: info
    for info in (
        # 1,797 scikit-learn digits; within each class every 5th example is test: 1,442 train / 355 test.
        DatasetInfo("digits", 10, 1_442, 355, "train", "test", 32),
        DatasetInfo("cifar10", 10, 50_000, 10_000, "train", "test", 32),
        DatasetInfo("cifar100", 100, 50_000, 10_000, "train", "test", 32),
        # XSepConv §4 trains on train+extra (73,257 + 531,131); `default_data_config` can select it.
        DatasetInfo("svhn_cropped", 10, 73_257, 26_032, "train", "test", 32, ("train", "test", "extra")),
        DatasetInfo("tiny_imagenet", 200, 100_000, 10_000, "train", "validation", 56, ("train", "validation")),
        DatasetInfo("imagenet2012", 1000, 1_281_167, 50_000, "train", "validation", 224, ("train", "validation")),
    )
}

# Files that must sit in `manual_dir` before the first use (tfds default: ~/tensorflow_datasets/downloads/manual).
MANUAL_FILES = {
    "imagenet2012": ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar"),
    "tiny_imagenet": ("tiny-imagenet-200.zip",),
}


def get_dataset_info(name: str) -> DatasetInfo:
    """The `DatasetInfo` of a dataset in `DATASET_NAMES`."""
    check_dataset_name(name)
    return _INFOS[name]


def check_dataset_name(name: str) -> None:
    """Raises ValueError listing the known datasets when `name` is not one of them."""
    if name not in _INFOS:
        raise ValueError(f"Unknown dataset {name!r}; known datasets: {', '.join(DATASET_NAMES)}")
