"""`python -m input_pipeline.prepare` and `data.prepared_size`, on a generated miniature tiny-imagenet-200.zip
whose JPEGs have assorted sizes, a greyscale one, a PNG and two undecodable ones."""

import io
import logging
import os
import re
import shlex
import zipfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image
from tensorflow_datasets.core import shuffle as tfds_shuffle

import input_pipeline
from input_pipeline import prepare, sources

SIZE = 32
WNIDS = ("n01443537", "n02124075")
# (width, height, mode, format) per image; every image gets its own colour so the order can be checked.
TRAIN = (
    (64, 48, "RGB", "JPEG"), (48, 64, "RGB", "JPEG"), (30, 40, "RGB", "JPEG"), (32, 32, "RGB", "JPEG"),
    (100, 50, "RGB", "JPEG"), (37, 90, "RGB", "JPEG"), (80, 60, "L", "JPEG"), (70, 50, "RGB", "PNG"),
)
VALIDATION = ((60, 45, "RGB", "JPEG"), (20, 24, "RGB", "JPEG"), (45, 60, "RGB", "JPEG"))
TRUNCATED_TRAIN = f"{WNIDS[1]}_99.JPEG"  # the first half of a 64×48 JPEG
GARBAGE_VALIDATION = "val_9.JPEG"  # not an image at all


def _colour(index: int) -> tuple[int, int, int]:
    return (40 + 23 * index % 180, 200 - 17 * index % 150, 60 + 29 * index % 170)


def _encode(width: int, height: int, mode: str, image_format: str, colour) -> bytes:
    pixels = np.empty((height, width, 3), np.uint8)
    pixels[:] = colour
    pixels[:, : width // 4] //= 2  # some structure, the same mean colour in every version of the image
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buffer, format=image_format, quality=95)
    return buffer.getvalue()


def _write_archive(path) -> dict[str, tuple[int, int, float]]:
    """The archive (tiny_imagenet's real layout) and, per file name, (width, height, mean pixel value)."""
    facts, root = {}, "tiny-imagenet-200"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{root}/wnids.txt", "\n".join(WNIDS) + "\n")
        for index, (width, height, mode, image_format) in enumerate(TRAIN):
            wnid = WNIDS[index % 2]
            name = f"{wnid}_{index}.JPEG"
            data = _encode(width, height, mode, image_format, _colour(index))
            archive.writestr(f"{root}/train/{wnid}/images/{name}", data)
            facts[name] = (width, height, np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), float).mean())
        archive.writestr(f"{root}/train/{WNIDS[1]}/images/{TRUNCATED_TRAIN}",
                         (data := _encode(64, 48, "RGB", "JPEG", (9, 99, 199)))[: len(data) // 2])
        annotations = []
        for index, (width, height, mode, image_format) in enumerate(VALIDATION):
            name = f"val_{index}.JPEG"
            data = _encode(width, height, mode, image_format, _colour(50 + index))
            archive.writestr(f"{root}/val/images/{name}", data)
            facts[name] = (width, height, np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), float).mean())
            annotations.append(f"{name}\t{WNIDS[index % 2]}\t0\t0\t1\t1\n")
        archive.writestr(f"{root}/val/images/{GARBAGE_VALIDATION}", b"not an image at all")
        annotations.append(f"{GARBAGE_VALIDATION}\t{WNIDS[0]}\t0\t0\t1\t1\n")
        archive.writestr(f"{root}/val/val_annotations.txt", "".join(annotations))
    return facts


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """The source (prepared by the command itself) and its prepared copy at SIZE, written once with tfds's
    in-memory shuffle buffer shrunk so that the examples go through its on-disk buckets, as ImageNet's do."""
    manual_dir = tmp_path_factory.mktemp("manual")
    facts = _write_archive(manual_dir / "tiny-imagenet-200.zip")
    data = input_pipeline.default_data_config("tiny_imagenet")
    data.data_dir, data.manual_dir = str(tmp_path_factory.mktemp("tfds")), str(manual_dir)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tfds_shuffle, "MAX_MEM_BUFFER_SIZE", 1)
        done = prepare.prepare("tiny_imagenet", size=SIZE, data_dir=data.data_dir, manual_dir=data.manual_dir,
                               workers=2)
    return data, facts, done


def _examples(builder, split):
    return list(sources.process_examples(builder, split, process_index=0, process_count=1,
                                         drop_remainder=False).as_numpy_iterator())


def _source_records(data, split):
    """The source split in stored order: {'file_name', 'tfds_id', 'label', 'image' (bytes)}."""
    source = tfds.builder("tiny_imagenet", data_dir=data.data_dir)
    records = source.as_dataset(split=split, shuffle_files=False, decoders={"image": tfds.decode.SkipDecoding()},
                                read_config=tfds.ReadConfig(add_tfds_id=True))
    return [{key: value.decode() if isinstance(value, bytes) and key != "image" else value
             for key, value in record.items()} for record in tfds.as_numpy(records)]


def test_images_are_resized_never_upscaled_in_order_with_their_labels(prepared):
    data, facts, done = prepared
    source = tfds.builder("tiny_imagenet", data_dir=data.data_dir)
    copy = tfds.builder_from_directory(done.directory)
    assert done.directory == os.path.join(data.data_dir, "prepared_images", f"tiny_imagenet_{SIZE}", "1.0.0")
    assert list(copy.info.splits) == list(source.info.splits) == ["train", "validation"]
    assert copy.info.features["label"].names == source.info.features["label"].names
    assert copy.info.features["image"].encoding_format == "jpeg"
    for split in ("train", "validation"):
        records = _source_records(data, split)
        kept = [record for record in records if record["file_name"] in facts]  # the undecodable one dropped
        written = _examples(copy, split)
        assert len(written) == len(kept) == len(records) - 1
        assert [int(e["label"]) for e in written] == [int(r["label"]) for r in kept]
        for record, example in zip(kept, written):
            name = record["file_name"]
            width, height, mean = facts[name]
            image = Image.open(io.BytesIO(example["image"]))
            assert (image.format, image.mode) == ("JPEG", "RGB")
            if min(width, height) <= SIZE:
                assert image.size == (width, height), name  # re-encoded at its size, not upscaled
            else:
                assert min(image.size) == SIZE, name  # shorter side N, aspect kept to ±1 px, orientation kept
                assert abs(max(image.size) - max(width, height) * SIZE / min(width, height)) <= 1, name
                assert (image.width > image.height) == (width > height), name
            assert np.asarray(image, float).mean() == pytest.approx(mean, abs=4), name  # the same picture


def test_undecodable_images_are_left_out_and_named(prepared):
    data, _, done = prepared
    bad = {split: [r["tfds_id"] for r in _source_records(data, split)
                   if r["file_name"] in (TRUNCATED_TRAIN, GARBAGE_VALIDATION)] for split in ("train", "validation")}
    assert done.left_out == bad and all(len(ids) == 1 for ids in bad.values())
    assert done.examples == {"train": len(TRAIN), "validation": len(VALIDATION)}
    assert prepare._read_metadata(done.directory)["left_out"] == bad


def test_command_reports_each_bad_image_and_is_idempotent(prepared, capsys):
    data, _, _ = prepared
    size = SIZE + 8
    args = ["tiny_imagenet", f"--size={size}", f"--data-dir={data.data_dir}", f"--manual-dir={data.manual_dir}"]
    levels = [logging.getLogger(name).level for name in ("absl", "tensorflow")]
    assert prepare.main(args) == 0
    assert [logging.getLogger(name).level for name in ("absl", "tensorflow")] == levels  # NOTSET stays NOTSET
    out, err = capsys.readouterr()
    lines = re.findall(r"input_pipeline\.prepare: [^\r\n]*", err)  # between tfds's progress bars
    assert len(lines) == 3, err
    assert 'left out undecodable image "tiny_imagenet-train.tfrecord-' in lines[0]
    assert 'left out undecodable image "tiny_imagenet-validation.tfrecord-' in lines[1]
    assert "2 undecodable image(s) left out (train 1, validation 1)" in lines[2]
    assert f"tiny_imagenet_{size} written to" in out and "train 8, validation 3 images" in out
    directory = prepare.prepared_dir("tiny_imagenet", size, data.data_dir)
    stamps = {name: os.stat(os.path.join(directory, name)).st_mtime_ns for name in os.listdir(directory)}
    assert prepare.main(args) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"tiny_imagenet_{size} is already prepared in {directory}; nothing to do"
    assert "left out" not in err
    assert {name: os.stat(os.path.join(directory, name)).st_mtime_ns for name in os.listdir(directory)} == stamps
    assert prepare.main([*args, "--quality=80"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert f"already prepared with JPEG quality 90 in {directory}: delete that directory" in line


def test_prepared_size_feeds_the_normal_iterators(prepared):
    data, _, _ = prepared
    data = data.copy_and_resolve_references()
    data.prepared_size = SIZE
    input_pipeline.validate_data_config(data)
    input_pipeline.check_data_available(data)
    assert input_pipeline.steps_per_epoch(data, 4) == 2  # 8 decodable training images
    train = next(input_pipeline.create_train_iterator(data, global_batch_size=4, seed=0))
    assert train["image"].shape == (4, 56, 56, 3) and train["label"].shape == (4,)
    batches = list(input_pipeline.create_eval_iterator(data, global_batch_size=2))
    masks = np.concatenate([b["mask"] for b in batches])
    assert masks.sum() == len(VALIDATION) and len(masks) == 4
    assert all(np.isfinite(b["image"]).all() and b["image"].shape == (2, 56, 56, 3) for b in batches)


def test_missing_prepared_dataset_names_the_command_that_writes_it(prepared, capsys):
    data, _, _ = prepared
    data = data.copy_and_resolve_references()
    data.prepared_size = 24
    with pytest.raises(FileNotFoundError) as error:
        input_pipeline.check_data_available(data)
    (message,) = str(error.value).splitlines()
    command = prepare.command("tiny_imagenet", 24, data_dir=data.data_dir, manual_dir=data.manual_dir)
    assert f"tiny_imagenet is not prepared at prepared_size=24 in {data.data_dir}: run `{command}` once" in message
    with pytest.raises(FileNotFoundError, match="input_pipeline.prepare tiny_imagenet --size=24"):
        input_pipeline.create_train_iterator(data, global_batch_size=4, seed=0)
    words = shlex.split(command)
    assert words[:3] == [".venv/bin/python", "-m", "input_pipeline.prepare"]
    assert prepare.main(words[3:]) == 0  # the named command writes it
    capsys.readouterr()
    input_pipeline.check_data_available(data)


def test_bad_prepared_size_is_one_line():
    data = input_pipeline.default_data_config("imagenet2012")
    data.prepared_size = -1
    with pytest.raises(ValueError) as error:
        input_pipeline.validate_data_config(data)
    assert str(error.value) == ("prepared_size=-1; valid: 0 (the original images) or N ≥ 1 (the copy written by "
                                "`python -m input_pipeline.prepare imagenet2012 --size=N`)")


@pytest.mark.parametrize("args, message", [
    (["tiny_imagenet", "--size=0"], "--size=0; valid: a shorter-side bound N ≥ 1"),
    (["tiny_imagenet", "--quality=101"], "--quality=101; valid: 1 … 100"),
    (["imagenet"], "Unknown dataset 'imagenet'; known datasets: digits"),
])
def test_bad_arguments_are_one_line_before_any_work(args, message, tmp_path, capsys):
    assert prepare.main([*args, f"--data-dir={tmp_path / 'tfds'}"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("python -m input_pipeline.prepare: error: ") and message in line
    assert not (tmp_path / "tfds").exists()


def test_missing_manual_file_is_named_before_any_work(tmp_path, capsys):
    args = ["imagenet2012", f"--data-dir={tmp_path / 'tfds'}", f"--manual-dir={tmp_path / 'manual'}"]
    assert prepare.main(args) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "needs ILSVRC2012_img_train.tar, ILSVRC2012_img_val.tar in manual_dir" in line


def test_target_size_keeps_the_aspect_and_never_upscales():
    assert prepare.target_size(500, 375, 256) == (341, 256)
    assert prepare.target_size(375, 500, 256) == (256, 341)
    assert prepare.target_size(256, 1000, 256) == (256, 1000)
    assert prepare.target_size(200, 100, 256) == (200, 100)
    assert prepare.target_size(5000, 257, 256) == (4981, 256)
    assert prepare.target_size(3, 2, 1) == (2, 1)  # 1.5 rounds half up
    rng = np.random.default_rng(0)
    for width, height, size in zip(rng.integers(1, 3000, 200), rng.integers(1, 3000, 200), rng.integers(1, 600, 200)):
        expected = prepare.target_size(int(width), int(height), int(size))[::-1]
        shape = prepare._target_shape(tf.constant([height, width], tf.int64), int(size)).numpy()
        assert tuple(shape) == expected  # the graph computes what the documentation states
        if min(width, height) > size:
            assert abs(expected[1] / expected[0] - width / height) <= 1 / size


def test_large_jpeg_is_decoded_at_a_dct_scale_and_still_gets_the_exact_size():
    jpeg = _encode(203, 150, "RGB", "JPEG", (30, 140, 220))

    def by_hand(size, dct_scale):  # decode at 1/dct_scale, area resize, encode
        image = tf.io.decode_jpeg(jpeg, channels=3, ratio=dct_scale)
        target = prepare.target_size(203, 150, size)[::-1]
        resized = tf.cast(tf.clip_by_value(tf.round(tf.image.resize(image, target, method="area")), 0, 255), tf.uint8)
        return tf.io.encode_jpeg(resized, quality=90).numpy()

    # size 16: 150 / 4 = 37 ≥ 2 × 16 > 150 / 8; size 40: 150 / 2 < 2 × 40.
    for size, dct_scale, other in ((16, 4, 1), (40, 1, 2)):
        out = prepare.reencode(tf.constant(jpeg), size=size, quality=90).numpy()
        assert Image.open(io.BytesIO(out)).size == prepare.target_size(203, 150, size)
        assert out == by_hand(size, dct_scale) and out != by_hand(size, other)
    assert Image.open(io.BytesIO(prepare.reencode(tf.constant(jpeg), size=150, quality=90).numpy())).size == (203, 150)
