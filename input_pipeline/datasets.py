"""The datasets lightnets trains on: names, split sizes and where manually downloaded files go.

Pure Python (no TensorFlow) so that train_lib can read dataset facts on machines without TF.
"""

import dataclasses
from collections.abc import Mapping

DATASET_NAMES = ("digits", "cifar10", "cifar100", "svhn_cropped", "tiny_imagenet", "imagenet2012")


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What lightnets needs to know about one dataset (not tfds's ``tfds.core.DatasetInfo``, which describes
    a prepared builder): its classes, every split tfds provides with its number of examples, the default
    train and eval splits (keys of ``splits``) and the default train/eval input size."""

    name: str
    num_classes: int
    splits: Mapping[str, int] = dataclasses.field(hash=False)  # split name → number of examples
    train_split: str
    eval_split: str
    image_size: int

    def __post_init__(self):
        for split in (self.train_split, self.eval_split):
            if split not in self.splits:
                raise ValueError(f"{self.name}: default split {split!r} is not one of its splits "
                                 f"{', '.join(self.splits)}")


_SPECS = {
    spec.name: spec
    for spec in (
        # 1,797 scikit-learn digits; within each class every 5th example is test: 1,442 train / 355 test.
        DatasetSpec("digits", 10, {"train": 1_442, "test": 355}, "train", "test", 32),
        DatasetSpec("cifar10", 10, {"train": 50_000, "test": 10_000}, "train", "test", 32),
        DatasetSpec("cifar100", 100, {"train": 50_000, "test": 10_000}, "train", "test", 32),
        # XSepConv §4 trains on train+extra (73,257 + 531,131): set data.train_split='train+extra'.
        DatasetSpec("svhn_cropped", 10, {"train": 73_257, "test": 26_032, "extra": 531_131}, "train", "test", 32),
        DatasetSpec("tiny_imagenet", 200, {"train": 100_000, "validation": 10_000}, "train", "validation", 56),
        DatasetSpec("imagenet2012", 1000, {"train": 1_281_167, "validation": 50_000}, "train", "validation", 224),
    )
}

# Files that must sit in `manual_dir` before the first use (tfds default: ~/tensorflow_datasets/downloads/manual).
MANUAL_FILES = {
    "imagenet2012": ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar"),
    "tiny_imagenet": ("tiny-imagenet-200.zip",),
}


def get_dataset_spec(name: str) -> DatasetSpec:
    """The `DatasetSpec` of a dataset in `DATASET_NAMES`; raises ValueError listing them for another name."""
    if name not in _SPECS:
        raise ValueError(f"Unknown dataset {name!r}; known datasets: {', '.join(DATASET_NAMES)}")
    return _SPECS[name]
