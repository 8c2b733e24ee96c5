"""A restart never discards a usable checkpoint: a changed config stops with one line naming the change, an
unreadable file stops with its cause, only undecodable checkpoints are moved aside."""

import errno
import json
import os
import shutil
from collections import namedtuple

import orbax.checkpoint as ocp
import pytest

import train_fakes
from train_lib import ConfigError, DivergenceError, checkpointing, evaluate, metrics, train_and_evaluate

STEPS = 8  # checkpoints at 4 and 8 (tiny_config: 4 steps per epoch, eval every epoch)


@pytest.fixture(scope="module")
def trained_workdir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("trained")
    train_and_evaluate(train_fakes.tiny_config(), str(workdir), data_source=train_fakes.FakeDataSource())
    return workdir


@pytest.fixture
def workdir(tmp_path, trained_workdir):
    """A private copy of the trained workdir."""
    copy = tmp_path / "workdir"
    shutil.copytree(trained_workdir, copy)
    return copy


def saved_steps(workdir) -> list[int]:
    return sorted(int(p.name) for p in (workdir / "checkpoints").iterdir() if p.name.isdigit())


def run(workdir, **overrides):
    config = train_fakes.tiny_config(**{k: v for k, v in overrides.items() if k != "model_kwargs"})
    config.model_kwargs.update(overrides.get("model_kwargs", {}))
    return train_and_evaluate(config, str(workdir), data_source=train_fakes.FakeDataSource())


@pytest.mark.parametrize("overrides, change", [
    ({"optimizer": "rmsprop"}, "optimizer 'sgd' → 'rmsprop'"),
    ({"ema_decay": 0.9}, "ema_decay 0.0 → 0.9"),
    ({"model_kwargs": {"width": 16}}, "model_kwargs.width '(absent)' → 16"),
    ({"dtype": "bfloat16"}, "dtype 'float32' → 'bfloat16'"),
    ({"learning_rate": 0.2, "num_epochs": 3.0}, "learning_rate 0.1 → 0.2; num_epochs 2.0 → 3.0"),
])
def test_changed_config_stops_before_training_and_keeps_checkpoints(workdir, overrides, change):
    with pytest.raises(ConfigError) as error:
        run(workdir, **overrides)
    message = str(error.value)
    assert f"holds checkpoints up to step {STEPS} of another config ({change})" in message
    assert "--config.allow_config_change=True" in message and "\n" not in message
    assert saved_steps(workdir) == [4, 8] and not (workdir / checkpointing.QUARANTINE_DIR).exists()


def test_reporting_changes_resume(workdir):
    results = run(workdir, log_every_steps=1, eval_batch_size=8, keep_checkpoints=2)
    assert results["final"]["step"] == STEPS and saved_steps(workdir) == [4, 8]


def test_allowed_change_continues_with_fresh_optimizer_state(workdir, caplog):
    with caplog.at_level("WARNING"):
        results = run(workdir, optimizer="rmsprop", ema_decay=0.9, num_train_steps=10, allow_config_change=True)
    assert results["final"]["step"] == 10
    assert "keeps its step, params and BN statistics; the optimizer state and EMA start fresh" in caplog.text
    assert json.loads((workdir / "config.json").read_text())["optimizer"] == "rmsprop"


def test_allowed_change_refuses_another_model(workdir):
    with pytest.raises(ConfigError, match="a different model cannot continue this workdir; use a new --workdir"):
        run(workdir, model_kwargs={"width": 16}, allow_config_change=True)
    assert saved_steps(workdir) == [4, 8]


def test_workdir_without_config_json_is_checked_by_structure(workdir):
    (workdir / "config.json").unlink()
    with pytest.raises(ConfigError, match=r"checkpoint 8 in .* does not fit this config's train state: the "
                                          r"checkpoint lacks ema/batch_stats"):
        run(workdir, ema_decay=0.9)
    assert saved_steps(workdir) == [4, 8]


def test_truncated_checkpoint_is_moved_aside_and_the_previous_one_used(workdir):
    for data in (workdir / "checkpoints" / "8").rglob("d/*"):  # the array data files (OCDBT)
        data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    results = run(workdir, num_train_steps=10, allow_config_change=True)
    assert (workdir / checkpointing.QUARANTINE_DIR / "8").is_dir()
    assert results["final"]["step"] == 10 and 4 in saved_steps(workdir)


@pytest.mark.parametrize("error", [
    PermissionError(errno.EACCES, "Permission denied"),
    OSError(errno.EIO, "Input/output error"),
    ValueError("tensorstore: PERMISSION_DENIED: error opening file"),
])
def test_transient_read_error_stops_and_moves_nothing(workdir, monkeypatch, error):
    def fail(self, *args, **kwargs):
        raise error

    monkeypatch.setattr(ocp.CheckpointManager, "restore", fail)
    with pytest.raises(checkpointing.CheckpointReadError, match="cannot read checkpoint 8 .*nothing was moved"):
        run(workdir)
    assert saved_steps(workdir) == [4, 8] and not (workdir / checkpointing.QUARANTINE_DIR).exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_files_stop_and_move_nothing(workdir):
    for path in (workdir / "checkpoints").rglob("*"):
        if path.is_file():
            path.chmod(0)
    with pytest.raises(checkpointing.CheckpointReadError, match="Permission denied"):
        run(workdir)
    assert saved_steps(workdir) == [4, 8]


def test_full_disk_fails_before_training(tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1024, 1024))
    with pytest.raises(checkpointing.CheckpointWriteError, match=r"checkpoints has 0\.0 MiB free, a checkpoint "
                                                                 r"needs about .* MiB"):
        run(tmp_path)
    assert saved_steps(tmp_path) == []


def test_finite_but_huge_loss_is_divergence():
    steps = [{"loss": 1.3, "l2": 0.0, "accuracy": 0.5}, {"loss": 2e4, "l2": 1e6, "accuracy": 0.0}]
    with pytest.raises(DivergenceError, match="cross-entropy is 2e\\+04 at step 11, above the divergence limit 13.86"):
        metrics.average_train_metrics(steps, first_step=10, max_loss=10 * 1.3863)


def test_diverging_run_keeps_the_last_good_checkpoint(tmp_path):
    config = train_fakes.tiny_config(num_train_steps=8, checkpoint_every_steps=2, log_every_steps=1, divergence_factor=1.05)
    with pytest.raises(DivergenceError, match="above the divergence limit .* last good checkpoint"):
        train_and_evaluate(config, str(tmp_path), data_source=train_fakes.FakeDataSource())


def test_best_checkpoint_is_known_after_a_restart(workdir):
    best = json.loads((workdir / "results.json").read_text())["best"]
    with checkpointing.Checkpointer(str(workdir), keep=1, keep_best=True) as checkpointer:  # a fresh manager
        assert checkpointer.best_step() == best["step"]


def test_eval_of_another_model_is_refused(workdir):
    config = train_fakes.tiny_config()
    config.model_kwargs.width = 16
    with pytest.raises(ConfigError, match=r"was trained with another model \(model_kwargs.width '\(absent\)' → 16\)"):
        evaluate(config, str(workdir), data_source=train_fakes.FakeDataSource())


def test_eval_of_a_corrupt_checkpoint_stops_and_moves_nothing(workdir):
    for data in (workdir / "checkpoints" / "8").rglob("d/*"):
        data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    with pytest.raises(checkpointing.CheckpointReadError, match="checkpoint 8 in .* is corrupt"):
        evaluate(train_fakes.tiny_config(), str(workdir), data_source=train_fakes.FakeDataSource())
    assert saved_steps(workdir) == [4, 8] and not (workdir / checkpointing.QUARANTINE_DIR).exists()


def test_eval_needs_only_the_variables(workdir):
    results = json.loads((workdir / "results.json").read_text())["final"]
    other_training = train_fakes.tiny_config(optimizer="rmsprop", learning_rate=0.5)  # training-only fields
    assert evaluate(other_training, str(workdir), data_source=train_fakes.FakeDataSource()) == results


def test_a_field_added_by_a_later_version_does_not_block_resuming(tmp_path):
    from train_lib import workdir

    config = train_fakes.tiny_config()
    stored = workdir.config_to_dict(config)
    del stored["data"]["image_size"]  # as if written before the field existed
    assert workdir.config_changes(stored, config) == []
    stored["batch_size"] = 32
    assert workdir.config_changes(stored, config) == ["batch_size 32 → 16"]


def test_an_alias_of_the_stored_model_is_the_same_model():
    from train_lib import workdir

    config = train_fakes.tiny_config(model="mobilenet_v2")
    stored = workdir.config_to_dict(train_fakes.tiny_config(model="mobilenet_v2_100"))
    assert workdir.config_changes(stored, config) == []
    stored["model"] = "mobilenet_v2_140"
    assert workdir.config_changes(stored, config) == ["model 'mobilenet_v2_140' → 'mobilenet_v2_100'"]
