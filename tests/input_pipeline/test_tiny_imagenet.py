"""The tiny_imagenet builder on a generated miniature tiny-imagenet-200.zip with the real layout."""

import io
import zipfile

import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image

import input_pipeline

WNIDS = ("n02124075", "n01443537", "n09193705")  # wnids.txt order is not sorted, as in the real file
TRAIN_PER_CLASS = 4
VAL_WNIDS = ("n09193705", "n01443537", "n02124075", "n01443537", "n09193705")


def _jpeg(value: int, mode: str = "RGB") -> bytes:
    pixels = np.full((64, 64, 3), value, np.uint8)
    pixels[:, :32] = 255 - value
    image = Image.fromarray(pixels).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


def _write_miniature_archive(path):
    """Real layout: wnids.txt, words.txt, train/<wnid>/{images/,<wnid>_boxes.txt}, val/, test/."""
    root = "tiny-imagenet-200"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{root}/wnids.txt", "\n".join(WNIDS) + "\n")
        archive.writestr(f"{root}/words.txt", "".join(f"{w}\tthing {i}\n" for i, w in enumerate(WNIDS)))
        for class_index, wnid in enumerate(WNIDS):
            boxes = []
            for i in range(TRAIN_PER_CLASS):
                mode = "L" if (class_index, i) == (0, 0) else "RGB"  # the real archive has greyscale JPEGs
                archive.writestr(f"{root}/train/{wnid}/images/{wnid}_{i}.JPEG", _jpeg(40 * class_index + i, mode))
                boxes.append(f"{wnid}_{i}.JPEG\t0\t0\t63\t63\n")
            archive.writestr(f"{root}/train/{wnid}/{wnid}_boxes.txt", "".join(boxes))
        annotations = []
        for i, wnid in enumerate(VAL_WNIDS):
            archive.writestr(f"{root}/val/images/val_{i}.JPEG", _jpeg(200 - 10 * i))
            annotations.append(f"val_{i}.JPEG\t{wnid}\t1\t2\t60\t61\n")
        archive.writestr(f"{root}/val/val_annotations.txt", "".join(annotations))
        archive.writestr(f"{root}/test/images/test_0.JPEG", _jpeg(7))


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory):
    manual_dir = tmp_path_factory.mktemp("manual")
    _write_miniature_archive(manual_dir / "tiny-imagenet-200.zip")
    data = input_pipeline.default_data_config("tiny_imagenet")
    data.data_dir = str(tmp_path_factory.mktemp("tfds"))
    data.manual_dir = str(manual_dir)
    return data


def test_builder_reads_train_and_annotated_validation_splits(tiny_config):
    assert input_pipeline.steps_per_epoch(tiny_config, 4) == 3  # prepares from the zip
    builder = tfds.builder("tiny_imagenet", data_dir=tiny_config.data_dir)
    label_of = {wnid: i for i, wnid in enumerate(sorted(WNIDS))}
    train = list(tfds.as_numpy(builder.as_dataset(split="train")))
    assert len(train) == len(WNIDS) * TRAIN_PER_CLASS
    for example in train:
        wnid = example["wnid"].decode()
        assert example["file_name"].decode().startswith(wnid)
        assert example["label"] == label_of[wnid] and example["image"].shape == (64, 64, 3)
    validation = {e["file_name"].decode(): e for e in tfds.as_numpy(builder.as_dataset(split="validation"))}
    assert sorted(validation) == [f"val_{i}.JPEG" for i in range(len(VAL_WNIDS))]
    for i, wnid in enumerate(VAL_WNIDS):
        assert validation[f"val_{i}.JPEG"]["label"] == label_of[wnid]


def test_pipeline_gives_56_pixel_train_and_centre_eval_batches(tiny_config):
    train = next(input_pipeline.create_train_iterator(tiny_config, global_batch_size=4, seed=0))
    assert train["image"].shape == (4, 56, 56, 3)
    evaluated = list(input_pipeline.create_eval_iterator(tiny_config, global_batch_size=4))
    masks = np.concatenate([b["mask"] for b in evaluated])
    assert masks.sum() == len(VAL_WNIDS) and len(masks) == 8
    assert evaluated[0]["image"].shape == (4, 56, 56, 3)


def test_missing_archive_names_the_file_and_the_manual_dir(tmp_path):
    data = input_pipeline.default_data_config("tiny_imagenet")
    data.data_dir = str(tmp_path / "tfds")
    data.manual_dir = str(tmp_path / "manual")
    with pytest.raises(FileNotFoundError, match=r"tiny-imagenet-200\.zip in manual_dir .*manual"):
        input_pipeline.create_train_iterator(data, global_batch_size=4, seed=0)
