"""Dataset facts, default configs and up-front validation (no data is touched)."""

import os
import subprocess
import sys

import pytest

import input_pipeline
from input_pipeline import default_data_config, validate_data_config


def test_every_dataset_has_a_spec_and_a_valid_default_config():
    for name in input_pipeline.DATASET_NAMES:
        spec = input_pipeline.get_dataset_spec(name)
        data = input_pipeline.default_data_config(name)
        assert spec.name == data.name == name
        assert data.image_size == spec.image_size
        assert (data.train_split, data.eval_split) == (spec.train_split, spec.eval_split)
        assert {spec.train_split, spec.eval_split} <= set(spec.splits) and min(spec.splits.values()) > 0
        input_pipeline.validate_data_config(data)


def test_spec_refuses_a_default_split_it_does_not_have():
    with pytest.raises(ValueError, match="mnist: default split 'validation' is not one of its splits train, test"):
        input_pipeline.DatasetSpec("mnist", 10, {"train": 60_000, "test": 10_000}, "train", "validation", 28)


def test_paper_recipes_are_the_defaults():
    imagenet = input_pipeline.default_data_config("imagenet2012")
    assert (imagenet.train_preprocess, imagenet.eval_preprocess, imagenet.image_size) == (
        "inception_crop", "resize_center_crop", 224)
    assert imagenet.eval_crop_ratio == pytest.approx(224 / 256)
    cifar = input_pipeline.default_data_config("cifar10")
    assert (cifar.train_preprocess, cifar.crop_padding, cifar.random_flip) == ("pad_and_crop", 4, True)
    tiny = input_pipeline.default_data_config("tiny_imagenet")
    assert tiny.image_size == 56 and 64 * tiny.eval_crop_ratio == 56
    assert input_pipeline.default_data_config("svhn_cropped").train_preprocess == "none"


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(ValueError, match="known datasets: digits, cifar10, cifar100, svhn_cropped"):
        input_pipeline.get_dataset_spec("mnist")
    with pytest.raises(ValueError, match="imagenet2012"):
        input_pipeline.default_data_config("imagenet")


def test_batch_not_divisible_by_processes_fails_before_any_work(tmp_path):
    """The iterators check their arguments (not the config, which they trust) before touching data."""
    data = input_pipeline.default_data_config("digits")
    data.data_dir = str(tmp_path / "never_created")
    with pytest.raises(ValueError, match="global_batch_size=10 must be a positive multiple of process_count=3"):
        input_pipeline.create_train_iterator(data, global_batch_size=10, seed=0, process_index=0, process_count=3)
    with pytest.raises(ValueError, match="process_count=4"):
        input_pipeline.create_eval_iterator(data, global_batch_size=6, process_index=0, process_count=4)
    assert not os.path.exists(data.data_dir)


@pytest.mark.parametrize(
    "field, value, valid",
    [("train_preprocess", "autoaugment", "inception_crop"), ("normalization", "zca", "minus_one_to_one"),
     ("on_corrupt", "ignore", "skip, error"), ("resize_method", "magic", "bicubic")],
)
def test_bad_choices_name_the_value_and_the_valid_ones(field, value, valid):
    data = input_pipeline.default_data_config("cifar10")
    data[field] = value
    with pytest.raises(ValueError, match=f"{field}='{value}'; valid: .*{valid}"):
        input_pipeline.validate_data_config(data)


def test_import_has_no_tensorflow_and_no_side_effects():
    code = "import sys, input_pipeline; input_pipeline.default_data_config('digits'); print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("field, value, message", [
    ("eval_split", "validation", "eval_split='validation': no split 'validation'; valid: train, test"),
    ("train_split", "train+bogus[:10%]", "train_split='train+bogus[:10%]': no split 'bogus'"),
    ("crop_area_range", (0.9, 0.1), "crop_area_range=(0.9, 0.1); valid: (low, high) with 0 < low ≤ high ≤ 1.0"),
    ("crop_area_range", (0.5,), "crop_area_range=(0.5,); valid: (low, high)"),
    ("crop_aspect_ratio_range", (0.0, 2.0), "crop_aspect_ratio_range=(0.0, 2.0); valid: (low, high)"),
])
def test_bad_splits_and_crop_ranges_are_named(field, value, message):
    data = default_data_config("digits")
    data[field] = value
    with pytest.raises(ValueError) as error:
        validate_data_config(data)
    assert message in str(error.value)


def test_split_expressions_of_known_splits_pass():
    data = default_data_config("svhn_cropped")
    data.train_split = "train+extra[:50%]"
    validate_data_config(data)


def test_threads_default_to_the_cores_this_process_may_use():
    import tensorflow as tf

    from input_pipeline import pipeline

    data = input_pipeline.default_data_config("digits")
    assert data.threads == 0 and pipeline.host_threads(data) == len(os.sched_getaffinity(0))
    data.threads = 3
    dataset = pipeline.with_host_threads(tf.data.Dataset.range(4), data)
    assert dataset.options().threading.private_threadpool_size == 3
    assert dataset.options().threading.max_intra_op_parallelism == 1
    data.threads = -1
    with pytest.raises(ValueError, match="threads=-1; valid: 0 \\(every core\\) or ≥ 1"):
        input_pipeline.validate_data_config(data)
