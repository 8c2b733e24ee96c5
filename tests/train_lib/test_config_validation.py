"""Bad configs fail with one clear line before anything is compiled."""

import jax
import pytest

import train_fakes
from train_lib import ConfigError, check_config, train_and_evaluate
from train_lib.config_validation import validate_config
from train_lib.train import check_image_size

COMPILE_EVENT = "backend_compile"


@pytest.fixture
def compile_events():
    events = []

    def listener(event, duration, **kwargs):
        if COMPILE_EVENT in event:
            events.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    yield events
    jax.monitoring.unregister_event_duration_listener(listener)


@pytest.mark.parametrize("overrides, message", [
    ({"model": "no_such_net"}, "unknown model 'no_such_net'"),
    ({"data.name": "mnist"}, "Unknown dataset 'mnist'"),
    ({"optimizer": "adam"}, "optimizer='adam'; valid: sgd, rmsprop"),
    ({"schedule": "step"}, "schedule='step'; valid: constant, exponential"),
    ({"bn_mode": "sync"}, "bn_mode='sync'; valid: global, per_device"),
    ({"batch_size": 12}, "batch_size=12 must be a positive multiple of the device count 8"),
    ({"eval_batch_size": 4}, "eval_batch_size=4 must be a positive multiple of the device count 8"),
    ({"learning_rate": 0.0}, "learning_rate=0.0; valid: (0, ∞)"),
    ({"learning_rate": float("inf")}, "learning_rate=inf; valid: (0, ∞)"),
    ({"learning_rate": float("nan")}, "learning_rate=nan; valid: (0, ∞)"),
    ({"num_epochs": -1.0}, "num_epochs=-1.0; valid: > 0"),
    ({"warmup_epochs": 2.0}, "warmup_epochs=2.0; valid: below num_epochs=2.0"),
    ({"num_train_steps": 3, "warmup_epochs": 1.0}, "warmup_epochs=1.0 is 4 steps; valid: below num_train_steps=3"),
    ({"momentum": -0.9}, "momentum=-0.9; valid: [0, 1)"),
    ({"momentum": 1.0}, "momentum=1.0; valid: [0, 1)"),
    ({"weight_decay": -1e-4}, "weight_decay=-0.0001; valid: [0, ∞)"),
    ({"label_smoothing": 1.0}, "label_smoothing=1.0; valid: [0, 1)"),
    ({"ema_decay": 1.0}, "ema_decay=1.0; valid: [0, 1)"),
    ({"log_every_steps": 0}, "log_every_steps=0; valid: [1, ∞)"),
    ({"checkpoint_every_steps": 0}, "checkpoint_every_steps=0; valid: [1, ∞)"),
    ({"eval_every_epochs": 0.0}, "eval_every_epochs=0.0; valid: (0, ∞)"),
    ({"keep_checkpoints": 0}, "keep_checkpoints=0; valid: [1, ∞)"),
    ({"lr_end": 0.5}, "lr_end=0.5; valid: below learning_rate=0.1"),
    ({"schedule": "multistep", "lr_boundaries_epochs": (2, 1)}, "lr_boundaries_epochs=(2, 1); valid: increasing"),
    ({"model_kwargs": {"groups": 3}}, "groups=3 must divide in_features=8"),
    ({"model_kwargs": {"depth": 3}}, "unknown option(s) 'depth'"),
    ({"model_kwargs": {"widht": 3}}, "unknown option(s) 'widht' (did you mean 'width'?)"),
    ({"model_kwargs": {"dropout_rate": 2.0}}, "model_kwargs.dropout_rate=2.0; valid: [0, 1)"),
    ({"model_kwargs": {"bn_momentum": 1.5}}, "model_kwargs.bn_momentum=1.5; valid: [0, 1]"),
    ({"model_kwargs": {"bn_epsilon": -1.0}}, "model_kwargs.bn_epsilon=-1.0; valid: (0, ∞)"),
    ({"batch_size": 128, "eval_batch_size": 128}, "batch_size=128; valid: at most the 64 examples of fake's train"),
    ({"lr_boundaries_epochs": ("abc",)}, "lr_boundaries_epochs=('abc',); valid: increasing epochs > 0"),
    ({"ops_autotune_budget_s": -1.0}, "ops_autotune_budget_s=-1.0; valid: >= 0 seconds (finite)"),
    ({"ops_autotune_budget_s": float("nan")}, "ops_autotune_budget_s=nan; valid: >= 0 seconds (finite)"),
    # Traced where the run is built (train_lib.train.check_image_size), still before any data work:
    ({"model": "squeezenet1_1", "data.image_size": 16},
     ("data.image_size=16 is too small for squeezenet1_1 (ValueError: max_pool_ceil: input size 1 is too small "
      "for window 3, stride 2, padding 0: ceil mode gives no output); valid: ≥ 17")),
    ({"model": "sqnxt23_100", "data.image_size": 2}, "data.image_size=2 is too small for sqnxt23_100"),
    ({"model": "xception", "data.image_size": 4}, "data.image_size=4 is too small for xception"),
])
def test_bad_config_fails_before_compiling(tmp_path, compile_events, overrides, message):
    config = train_fakes.tiny_config()
    for key, value in overrides.items():
        if key == "model_kwargs":
            config.model_kwargs.update(value)
        else:
            config.update_from_flattened_dict({key: value})
    with pytest.raises(ConfigError) as error:
        train_and_evaluate(config, str(tmp_path), data_source=train_fakes.FakeDataSource())
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert compile_events == []


@pytest.mark.parametrize("subpath, message", [
    ("file", "is a file; valid: a directory"),
    ("file/sub", "is not writable: Not a directory"),
    ("/proc/lightnets_workdir", "is not writable"),
])
def test_unusable_workdir_fails_before_compiling(tmp_path, compile_events, subpath, message):
    (tmp_path / "file").write_text("")
    workdir = tmp_path / subpath
    with pytest.raises(ConfigError, match=message):
        train_and_evaluate(train_fakes.tiny_config(), str(workdir), data_source=train_fakes.FakeDataSource())
    assert compile_events == []


def test_bad_ops_autotune_fields_fail_before_compiling(tmp_path, compile_events):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    config = train_fakes.tiny_config(ops_autotune=True, ops_autotune_cache_dir=str(a_file))
    with pytest.raises(ConfigError, match=rf"^ops_autotune_cache_dir='{a_file}' is a file; valid: unset \(the "
                                          r"default directory\), '' \(winners not kept\) or a directory path$"):
        train_and_evaluate(config, str(tmp_path / "work"), data_source=train_fakes.FakeDataSource())
    config = train_fakes.tiny_config()
    with config.unlocked():  # a config built in Python, past ConfigDict's type check
        del config["ops_autotune"]
        config.ops_autotune = "yes"
    with pytest.raises(ConfigError, match=r"^ops_autotune='yes'; valid: True or False$"):
        train_and_evaluate(config, str(tmp_path / "work"), data_source=train_fakes.FakeDataSource())
    assert compile_events == []


@pytest.mark.parametrize("budget_s, cache_dir", [(0.0, None), (120.0, ""), (1e9, "new/dir"), (5.0, "~/x")])
def test_good_ops_autotune_fields_validate(tmp_path, budget_s, cache_dir):
    cache_dir = str(tmp_path / cache_dir) if cache_dir and not cache_dir.startswith("~") else cache_dir
    config = train_fakes.tiny_config(ops_autotune=True, ops_autotune_budget_s=budget_s,
                                     ops_autotune_cache_dir=cache_dir)
    validate_config(config, data_source=train_fakes.FakeDataSource(), device_count=8, process_count=1)
    if cache_dir and not cache_dir.startswith("~"):
        assert not (tmp_path / "new").exists()  # validation creates nothing


def test_batch_not_divisible_by_process_count(tmp_path, monkeypatch):
    monkeypatch.setattr(jax, "process_count", lambda: 3)
    with pytest.raises(ConfigError, match="batch_size=16 must be a positive multiple .* process count 3"):
        train_and_evaluate(train_fakes.tiny_config(), str(tmp_path), data_source=train_fakes.FakeDataSource())


def test_manual_download_dataset_without_files(tmp_path):
    import input_pipeline

    config = train_fakes.tiny_config(batch_size=256, eval_batch_size=256)
    config.data = input_pipeline.default_data_config("imagenet2012")
    config.data.data_dir = str(tmp_path / "tfds")
    config.model = "test_tiny_cnn"
    with pytest.raises(ConfigError, match="ILSVRC2012_img_train.tar"):
        train_and_evaluate(config, str(tmp_path / "work"), data_source=input_pipeline)
    assert not (tmp_path / "tfds").exists()  # the availability check is a pure existence check


def test_validate_config_traces_nothing_and_validates_the_data_once(monkeypatch):
    """validate_config is pure and fast: no model trace (the image size is checked where the run is built)
    and one validate_data_config call, for both batch sizes."""
    source = train_fakes.FakeDataSource()
    calls = []
    monkeypatch.setattr(source, "validate_data_config", lambda data: calls.append(data.name))

    def no_trace(*args, **kwargs):
        raise AssertionError("validate_config traced the model")

    config = train_fakes.tiny_config(model="sqnxt23_100", **{"data.image_size": 2})
    with monkeypatch.context() as patch:
        patch.setattr(jax, "eval_shape", no_trace)
        validated = validate_config(config, data_source=source, device_count=8, process_count=1)
    assert calls == ["fake"]
    with pytest.raises(ConfigError, match=r"^data.image_size=2 is too small for sqnxt23_100 .*; valid: ≥ \d+$"):
        check_image_size(validated.model, config.model, config.data.image_size)


def test_check_mode_traces_the_image_size(tmp_path):
    config = train_fakes.tiny_config(model="xception", **{"data.image_size": 4})
    with pytest.raises(ConfigError, match="data.image_size=4 is too small for xception"):
        check_config(config, str(tmp_path), data_source=train_fakes.FakeDataSource())


def test_model_option_refused_by_the_model_fails_at_validation(tmp_path, compile_events):
    import ml_collections

    config = train_fakes.tiny_config()
    config.model = "mobilenet_v2_035"
    config.model_kwargs = ml_collections.ConfigDict({"width_multiplier": -1.0})
    with pytest.raises(ConfigError, match=r"model 'mobilenet_v2_035': width_multiplier must be positive, got -1.0"):
        train_and_evaluate(config, str(tmp_path), data_source=train_fakes.FakeDataSource())
    assert compile_events == []
