"""tfds builder `digits`: the 1,797 handwritten digits scikit-learn ships, as 32×32×3 images.

The embedded default dataset: generated offline from `sklearn.datasets.load_digits` (UCI optdigits test
set, 8×8 pixels with values 0–16), so it flows through the same tfds code path as ImageNet with no download.
Split: within each class, every 5th example (class rank % 5 == 4) is test: 1,442 train / 355 test.
"""

import numpy as np
import tensorflow_datasets as tfds
from PIL import Image

IMAGE_SIZE = 32
TEST_EVERY = 5


def upsampled_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images uint8 [1797, 32, 32, 3], labels int [1797], is_test bool [1797])."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = np.round(digits.images * (255 / 16)).astype(np.uint8)
    images = np.stack(
        [np.asarray(Image.fromarray(p).resize((IMAGE_SIZE, IMAGE_SIZE), Image.BILINEAR)) for p in pixels]
    )
    labels = digits.target
    rank_in_class = np.zeros(len(labels), dtype=int)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        rank_in_class[members] = np.arange(len(members))
    is_test = rank_in_class % TEST_EVERY == TEST_EVERY - 1
    return np.repeat(images[..., None], 3, axis=-1), labels, is_test


class Digits(tfds.core.GeneratorBasedBuilder):
    """scikit-learn handwritten digits upsampled (bilinear) from 8×8 to 32×32×3, PNG-encoded."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Stratified 1,442 / 355 split, bilinear 8→32 upsampling."}

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(IMAGE_SIZE, IMAGE_SIZE, 3), encoding_format="png"),
                    "label": tfds.features.ClassLabel(num_classes=10),
                }
            ),
            supervised_keys=("image", "label"),
            homepage="https://archive.ics.uci.edu/dataset/80",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # everything is local
        images, labels, is_test = upsampled_digits()
        return {
            "train": self._generate_examples(images, labels, np.flatnonzero(~is_test)),
            "test": self._generate_examples(images, labels, np.flatnonzero(is_test)),
        }

    def _generate_examples(self, images, labels, indices):
        for index in indices:
            yield int(index), {"image": images[index], "label": int(labels[index])}
