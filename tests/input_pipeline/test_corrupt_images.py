"""Undecodable images: skipped and counted in the log, or an error naming the record; never relabelled."""

import io
import itertools
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import input_pipeline
from benchmarks.input_pipeline import write_tiny_imagenet_archive
from input_pipeline import corrupt_images, recipes


def _records(photo_jpegs):
    good_png = tf.io.encode_png(np.full((32, 32, 3), 9, np.uint8)).numpy()
    truncated_jpeg = photo_jpegs["coffee"][:2000]
    images = [good_png, b"not an image at all", truncated_jpeg, photo_jpegs["chelsea"]]
    return tf.data.Dataset.from_tensor_slices({
        "image": images,
        "label": np.arange(4, dtype=np.int32),
        "tfds_id": [f"digits-test.tfrecord-00000-of-00001__{i}" for i in range(4)],
    })


def _map(photo_jpegs, on_corrupt):
    data = input_pipeline.default_data_config("digits")
    return corrupt_images.map_images(
        _records(photo_jpegs), lambda ex: recipes.eval_image(ex["image"], data=data),
        image_size=data.image_size, on_corrupt=on_corrupt)


def test_skip_drops_undecodable_examples_with_their_labels_and_logs_a_count(photo_jpegs, capfd):
    kept = list(_map(photo_jpegs, "skip").as_numpy_iterator())
    assert [int(example["label"]) for example in kept] == [0, 3]
    assert all(example["image"].shape == (32, 32, 3) for example in kept)
    log = capfd.readouterr().err
    assert 'skipped undecodable image "digits-test.tfrecord-00000-of-00001__1" - skipped so far: 1' in log
    assert 'skipped undecodable image "digits-test.tfrecord-00000-of-00001__2" - skipped so far: 2' in log


def test_error_names_the_first_bad_record(photo_jpegs):
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"undecodable image in record.*__1"):
        list(_map(photo_jpegs, "error").as_numpy_iterator())


@pytest.mark.parametrize("block_size", [1, 2, 3, 32])
def test_attempt_marks_each_failure_in_order_for_any_block_size(photo_jpegs, block_size):
    # Records 1 and 2 fail: with block_size 2 the second block fails entirely, with 3 the last block is partial.
    attempted = corrupt_images.attempt_images(
        _records(photo_jpegs), lambda ex: tf.io.decode_image(ex["image"], channels=3, expand_animations=False)[:8, :8],
        placeholder=tf.zeros([8, 8, 3], tf.uint8), block_size=block_size)
    out = list(attempted.as_numpy_iterator())
    assert [bool(example["ok"]) for example in out] == [True, False, False, True]
    assert [int(example["label"]) for example in out] == [0, 1, 2, 3]
    assert [example["tfds_id"].decode()[-3:] for example in out] == ["__0", "__1", "__2", "__3"]
    assert (out[0]["image"] == 9).all() and not out[1]["image"].any() and out[3]["image"].any()


def _jpeg(value: int) -> bytes:
    pixels = np.full((64, 64, 3), value, np.uint8)
    pixels[:, :20] = 255 - value
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def corrupt_tiny_imagenet(tmp_path_factory):
    """tiny_imagenet from a generated archive: 16 train images (one garbage, one truncated), 6 validation
    images (one garbage)."""
    manual_dir = tmp_path_factory.mktemp("manual")
    write_tiny_imagenet_archive(
        manual_dir / "tiny-imagenet-200.zip",
        [{3: b"garbage", 11: _jpeg(index)[:300]}.get(index, _jpeg(10 * index)) for index in range(16)],
        validation=[b"garbage" if index == 4 else _jpeg(7 * index) for index in range(6)])
    data = input_pipeline.default_data_config("tiny_imagenet")
    data.data_dir, data.manual_dir = str(tmp_path_factory.mktemp("tfds")), str(manual_dir)
    data.on_corrupt = "skip"
    return data


def _train_and_eval(data):
    train = list(itertools.islice(input_pipeline.create_train_iterator(data, global_batch_size=4, seed=0), 9))
    return train, list(input_pipeline.create_eval_iterator(data, global_batch_size=4))


def test_iterators_turn_to_the_guard_at_the_failing_batch_as_a_guarded_run(corrupt_tiny_imagenet, monkeypatch, capfd):
    train, evaluation = _train_and_eval(corrupt_tiny_imagenet)
    log = capfd.readouterr().err
    assert log.count("continuing with the guarded pipeline") == 2  # once in train, once in eval
    assert 'skipped undecodable image "tiny_imagenet-validation.tfrecord' in log
    assert 'skipped undecodable image "tiny_imagenet-train.tfrecord' in log
    with monkeypatch.context() as patch:
        patch.setattr(corrupt_images, "guard_after_failure", lambda make_batches: make_batches(0, True))
        guarded_train, guarded_eval = _train_and_eval(corrupt_tiny_imagenet)
    for ours, guarded in ((train, guarded_train), (evaluation, guarded_eval)):
        assert len(ours) == len(guarded)
        for batch, reference in zip(ours, guarded, strict=True):
            assert batch.keys() == reference.keys()
            for key in batch:
                np.testing.assert_array_equal(batch[key], reference[key])
    assert sum(int(batch["mask"].sum()) for batch in evaluation) == 5


def test_error_mode_names_the_record_after_the_plain_pipeline_fails(corrupt_tiny_imagenet):
    data = corrupt_tiny_imagenet.copy_and_resolve_references()
    data.on_corrupt = "error"
    with pytest.raises(input_pipeline.CorruptImageError, match=r"^undecodable image in record 'tiny_imagenet-val"
                                                               r"[^']*' \(data.on_corrupt='error'\): ") as caught:
        list(input_pipeline.create_eval_iterator(data, global_batch_size=4))
    assert "\n" not in str(caught.value) and caught.value.tfds_id.startswith("tiny_imagenet-validation.tfrecord")


def test_main_stops_at_an_undecodable_image_with_one_line_naming_it(corrupt_tiny_imagenet, tmp_path):
    repository = pathlib.Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "main.py", "--config=configs/tiny_imagenet_xsepconv.py:mbv3", f"--workdir={tmp_path}",
         f"--config.data.data_dir={corrupt_tiny_imagenet.data_dir}",
         f"--config.data.manual_dir={corrupt_tiny_imagenet.manual_dir}", "--config.data.on_corrupt=error",
         "--config.data.image_size=32", "--config.batch_size=16", "--config.num_train_steps=1",
         "--config.warmup_epochs=0"],
        cwd=repository, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("main.py: error: ")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert errors[0].startswith("main.py: error: undecodable image in record 'tiny_imagenet-train.tfrecord")
    assert "--config.data.on_corrupt=skip" in errors[0]
