"""tfds builder `tiny_imagenet`: Tiny-ImageNet (200 classes, 64×64) read from the official zip.

Reads `tiny-imagenet-200.zip` from the manual dir with the real archive's layout:
  tiny-imagenet-200/wnids.txt                            200 WordNet ids, one per line
  tiny-imagenet-200/train/<wnid>/images/<wnid>_<i>.JPEG  500 per class
  tiny-imagenet-200/val/images/val_<i>.JPEG              10,000 images
  tiny-imagenet-200/val/val_annotations.txt              "<file>\t<wnid>\t<x>\t<y>\t<w>\t<h>" per line
The unlabelled test/ folder is not used. Labels index the sorted wnids. JPEG bytes are stored unchanged
(a few originals are greyscale; decoding with 3 channels makes them RGB).
"""

import io
import posixpath
import zipfile

import tensorflow_datasets as tfds

ARCHIVE = "tiny-imagenet-200.zip"
ROOT = "tiny-imagenet-200"
NUM_CLASSES = 200


class TinyImagenet(tfds.core.GeneratorBasedBuilder):
    """Tiny-ImageNet 200 (Stanford CS231n): 100,000 train and 10,000 validation images of 64×64."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Train and validation splits from tiny-imagenet-200.zip."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        f"Place {ARCHIVE} (http://cs231n.stanford.edu/{ARCHIVE}) unextracted in the manual_dir."
    )

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(64, 64, 3), encoding_format="jpeg"),
                    "label": tfds.features.ClassLabel(num_classes=NUM_CLASSES),
                    "wnid": tfds.features.Text(),
                    "file_name": tfds.features.Text(),
                }
            ),
            supervised_keys=("image", "label"),
            homepage="http://cs231n.stanford.edu/",
        )

    def _split_generators(self, dl_manager):
        archive_path = dl_manager.manual_dir / ARCHIVE
        if not archive_path.exists():
            raise FileNotFoundError(f"{ARCHIVE} not found in manual_dir {dl_manager.manual_dir}")
        return {
            "train": self._generate_examples(archive_path, "train"),
            "validation": self._generate_examples(archive_path, "validation"),
        }

    def _generate_examples(self, archive_path, split: str):
        with zipfile.ZipFile(archive_path.open("rb")) as archive:
            wnids = sorted(archive.read(f"{ROOT}/wnids.txt").decode().split())
            label_of = {wnid: index for index, wnid in enumerate(wnids)}
            labelled_files = _train_files(archive) if split == "train" else _validation_files(archive)
            for member, wnid in labelled_files:
                file_name = posixpath.basename(member)
                yield file_name, {
                    "image": io.BytesIO(archive.read(member)),
                    "label": label_of[wnid],
                    "wnid": wnid,
                    "file_name": file_name,
                }


def _train_files(archive: zipfile.ZipFile):
    """(member, wnid) for train/<wnid>/images/*.JPEG."""
    for member in sorted(archive.namelist()):
        parts = member.split("/")
        if len(parts) == 5 and parts[1] == "train" and parts[3] == "images" and parts[4].endswith(".JPEG"):
            yield member, parts[2]


def _validation_files(archive: zipfile.ZipFile):
    """(member, wnid) from val/val_annotations.txt."""
    annotations = archive.read(f"{ROOT}/val/val_annotations.txt").decode().splitlines()
    for line in annotations:
        if line.strip():
            file_name, wnid = line.split("\t")[:2]
            yield f"{ROOT}/val/images/{file_name}", wnid
