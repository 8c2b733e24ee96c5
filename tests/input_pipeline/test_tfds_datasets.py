"""imagenet2012, cifar10, cifar100 and svhn_cropped through the real pipeline under tfds mock_data."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

import input_pipeline


@pytest.fixture
def imagenet_manual_dir(tmp_path):
    """The manual files in place (tfds.testing.mock_data makes download_and_prepare a no-op)."""
    for name in ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar"):
        (tmp_path / name).touch()
    return str(tmp_path)


@pytest.mark.parametrize("name", ["imagenet2012", "cifar10", "cifar100", "svhn_cropped"])
def test_train_and_eval_batches_under_mock_data(name, tmp_path, imagenet_manual_dir):
    data = input_pipeline.default_data_config(name)
    data.data_dir = str(tmp_path)
    data.manual_dir = imagenet_manual_dir
    data.shuffle_buffer = 8
    if name == "imagenet2012":
        data.color_jitter, data.pca_lighting = 0.4, 0.1
    size, classes = data.image_size, input_pipeline.get_dataset_spec(name).num_classes
    with tfds.testing.mock_data(num_examples=5):
        train = next(input_pipeline.create_train_iterator(data, global_batch_size=4, seed=0))
        evaluated = list(input_pipeline.create_eval_iterator(data, global_batch_size=4))
    assert train["image"].shape == (4, size, size, 3) and np.isfinite(train["image"]).all()
    assert ((0 <= train["label"]) & (train["label"] < classes)).all()
    assert [b["mask"].tolist() for b in evaluated] == [[True] * 4, [True, False, False, False]]
    assert evaluated[0]["image"].shape == (4, size, size, 3) and evaluated[0]["image"].std() > 0.1


def test_imagenet_without_manual_files_names_them_and_the_directory(tmp_path):
    data = input_pipeline.default_data_config("imagenet2012")
    data.data_dir = str(tmp_path / "tfds")
    with pytest.raises(FileNotFoundError) as error:
        input_pipeline.create_train_iterator(data, global_batch_size=8, seed=0)
    message = str(error.value)
    assert "ILSVRC2012_img_train.tar, ILSVRC2012_img_val.tar" in message
    assert str(tmp_path / "tfds" / "downloads" / "manual") in message
