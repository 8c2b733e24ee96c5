"""Weights from outside the workdir (``train_lib.weights``): ``init_from``, ``--mode=eval --weights`` and
``--mode=save_weights``, on the tiny model and the fake data."""

import jax
import numpy as np
import pytest
from flax import traverse_util

from lightnets import create_model, pretrained
from tests.train_lib import train_fakes
from train_lib import ConfigError, check_config, evaluate, save_weights, train_and_evaluate, weights


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The tiny config trained for 8 steps, and its last checkpoint saved as a weights file: (workdir, file)."""
    workdir = tmp_path_factory.mktemp("trained")
    train_and_evaluate(train_fakes.tiny_config(), str(workdir), data_source=train_fakes.FakeDataSource())
    path = str(workdir / "weights.msgpack")
    assert save_weights(train_fakes.tiny_config(), str(workdir), path, data_source=train_fakes.FakeDataSource()) == 8
    return workdir, path


def saved_variables(path):
    return traverse_util.flatten_dict(pretrained.load_weights(path)["variables"])


def test_a_saved_weights_file_evaluates_like_its_checkpoint(trained):
    workdir, path = trained
    source = train_fakes.FakeDataSource()
    from_checkpoint = evaluate(train_fakes.tiny_config(), str(workdir), data_source=source)
    from_file = evaluate(train_fakes.tiny_config(), None, data_source=source, weights_path=path)
    assert from_file == {**from_checkpoint, "step": 0}
    assert pretrained.load_weights(path)["origin"] == f"{workdir} checkpoint 8"


def test_init_from_starts_every_layer_but_a_misfit_classifier_from_the_file(trained, tmp_path, caplog):
    _, path = trained
    other = create_model(train_fakes.MODEL_NAME, num_classes=7)  # another task's classifier
    variables = other.init(jax.random.key(1), np.zeros((1, 8, 8, 3), np.float32), train=False)
    variables = {"params": variables["params"], "batch_stats": variables["batch_stats"]}
    seven = str(tmp_path / "seven.msgpack")
    pretrained.save_weights(seven, model=train_fakes.MODEL_NAME, model_options={}, variables=variables, origin="test")
    config = train_fakes.tiny_config(init_from=seven, learning_rate=1e-12, num_train_steps=1, warmup_epochs=0.0)
    with caplog.at_level("INFO", logger="absl"):
        train_and_evaluate(config, str(tmp_path / "run"), data_source=train_fakes.FakeDataSource())
    assert "initialised fresh: params/classifier/bias, params/classifier/kernel" in caplog.text
    run = tmp_path / "run.msgpack"
    save_weights(config, str(tmp_path / "run"), str(run), data_source=train_fakes.FakeDataSource())
    started, loaded = saved_variables(str(run)), traverse_util.flatten_dict(variables)
    for key, value in loaded.items():
        if key[0] == "params" and "classifier" not in key:  # BN statistics moved in the one train step
            np.testing.assert_allclose(started[key], value, atol=1e-6, err_msg="/".join(key))
    assert started[("params", "classifier", "kernel")].shape == (8, 4)


def test_init_from_new_classifier_starts_a_fitting_classifier_fresh(trained):
    _, path = trained
    loaded = pretrained.load_weights(path)["variables"]
    target = jax.tree.map(np.zeros_like, loaded)
    kept_all, kept = weights.fit_variables(target, loaded, field="init_from", path=path, classifier=("classifier",))
    assert kept == []
    fitted, kept = weights.fit_variables(target, loaded, field="init_from", path=path, classifier=("classifier",),
                                         new_classifier=True)
    assert kept == ["params/classifier/bias", "params/classifier/kernel"]
    assert not fitted["params"]["classifier"]["kernel"].any() and kept_all["params"]["classifier"]["kernel"].any()


def test_weights_that_do_not_fit_the_model_are_named(trained):
    _, path = trained
    loaded = pretrained.load_weights(path)["variables"]
    target = jax.tree.map(np.zeros_like, loaded)
    layer = loaded["params"]["ConvBnAct_0"]
    wide = {**loaded, "params": {**loaded["params"], "ConvBnAct_0": {**layer, "conv": {"kernel": np.zeros((3, 3, 3, 9))}}}}
    with pytest.raises(ConfigError, match=r"variable params/ConvBnAct_0/conv/kernel has shape \(3, 3, 3, 9\); the "
                                          r"model's is \(3, 3, 3, 8\)"):
        weights.fit_variables(target, wide, field="init_from", path=path, classifier=("classifier",))
    missing = {**loaded, "params": {k: v for k, v in loaded["params"].items() if k != "ConvBnAct_1"}}
    with pytest.raises(ConfigError, match="has no variable params/ConvBnAct_1/bn/bias"):
        weights.fit_variables(target, missing, field="init_from", path=path)
    extra = {**loaded, "params": {**loaded["params"], "head": {"kernel": np.zeros(2)}}}
    with pytest.raises(ConfigError, match="has variable params/head/kernel, which the model lacks"):
        weights.fit_variables(target, extra, field="init_from", path=path)
    small = {**loaded, "params": {**loaded["params"], "classifier": {"kernel": np.zeros((8, 7)), "bias": np.zeros(7)}}}
    with pytest.raises(ConfigError, match="params/classifier/bias has shape"):  # eval: nothing may start fresh
        weights.fit_variables(target, small, field="--weights", path=path)


@pytest.mark.parametrize("value, message", [
    ("/nonexistent/w.msgpack", "init_from='/nonexistent/w.msgpack': no such file"),
    ("weights.npz", r"unsupported suffix '.npz'; valid: .msgpack, .safetensors, .pth"),
])
def test_a_bad_init_from_is_refused_before_any_work(value, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        train_and_evaluate(train_fakes.tiny_config(init_from=value), str(tmp_path), data_source=train_fakes.FakeDataSource())
    assert not (tmp_path / "checkpoints").exists()


def test_a_state_dict_needs_a_model_with_published_weights(tmp_path):
    (tmp_path / "w.safetensors").write_bytes(b"")
    with pytest.raises(ConfigError, match=f"no published PyTorch weights for model '{train_fakes.MODEL_NAME}'"):
        train_and_evaluate(train_fakes.tiny_config(init_from=str(tmp_path / "w.safetensors")), str(tmp_path / "run"),
                           data_source=train_fakes.FakeDataSource())


def test_weights_of_another_model_are_refused(trained, tmp_path):
    _, path = trained
    config = train_fakes.tiny_config(model="mobilenet_v2_035")
    with pytest.raises(ConfigError, match="holds test_tiny_cnn weights, not mobilenet_v2_035"):
        evaluate(config, None, data_source=train_fakes.FakeDataSource(), weights_path=path)


def test_save_weights_writes_msgpack_files_only(trained, tmp_path):
    workdir, _ = trained
    with pytest.raises(ConfigError, match="lightnets weights files end in .msgpack"):
        save_weights(train_fakes.tiny_config(), str(workdir), str(tmp_path / "w.pth"),
                     data_source=train_fakes.FakeDataSource())
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match=r"^--weights: cannot write weights file '.*/file/w.msgpack'"):
        save_weights(train_fakes.tiny_config(), str(workdir), str(tmp_path / "file" / "w.msgpack"),
                     data_source=train_fakes.FakeDataSource())
    assert save_weights(train_fakes.tiny_config(), str(workdir), str(tmp_path / "new" / "w.msgpack"),
                        data_source=train_fakes.FakeDataSource()) == 8  # parent directories are made


def test_check_mode_reads_init_from_and_names_a_misfit(trained, tmp_path):
    _, path = trained
    source = train_fakes.FakeDataSource()
    check_config(train_fakes.tiny_config(init_from=path), str(tmp_path / "ok"), data_source=source)
    loaded = pretrained.load_weights(path)["variables"]
    layer = loaded["params"]["ConvBnAct_0"]
    wide = {**loaded, "params": {**loaded["params"], "ConvBnAct_0": {**layer, "conv": {"kernel": np.zeros((3, 3, 3, 9))}}}}
    misfit = str(tmp_path / "wide.msgpack")
    pretrained.save_weights(misfit, model=train_fakes.MODEL_NAME, model_options={}, variables=wide, origin="test")
    with pytest.raises(ConfigError, match=r"^init_from='.*wide.msgpack': variable params/ConvBnAct_0/conv/kernel has "
                                          r"shape \(3, 3, 3, 9\)"):
        check_config(train_fakes.tiny_config(init_from=misfit), str(tmp_path / "bad"), data_source=source)
