"""The digits config on the real input pipeline: a short run's training loss falls (tiny test model)."""

import pytest
from tensorboard.backend.event_processing import event_accumulator

import input_pipeline
import train_fakes
from configs import digits
from train_lib import ConfigError, evaluate, train_and_evaluate


def logged(workdir, tag: str) -> list[float]:
    """The values TensorBoard lists as scalars under ``tag``."""
    events = event_accumulator.EventAccumulator(str(workdir), size_guidance={"scalars": 0})
    events.Reload()
    assert tag in events.Tags()["scalars"], events.Tags()
    return [e.value for e in events.Scalars(tag)]


def test_digits_loss_falls(tmp_path):
    config = digits.get_config(f"{train_fakes.MODEL_NAME},width=16")
    config.num_train_steps = 40
    config.log_every_steps = 10
    results = train_and_evaluate(config, str(tmp_path), data_source=input_pipeline)
    losses = logged(tmp_path, "train/loss")[1:]  # step 1 is logged too (the end of compilation)
    assert len(losses) == 4
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses
    assert losses[-1] < losses[0] - 0.1, losses
    final = results["final"]
    assert final["examples"] == input_pipeline.get_dataset_spec("digits").splits["test"]
    assert final["top1"] > 0.15, results  # chance is 0.1
    assert logged(tmp_path, "eval/top1")[-1] == pytest.approx(final["top1"])
    events = event_accumulator.EventAccumulator(str(tmp_path))
    events.Reload()
    assert events.PluginTagToContent("hparams"), "the hparams (config, params, MAdds) are in the event file"


def test_eval_mode_evaluates_latest_best_and_named_checkpoints(tmp_path):
    config = digits.get_config(f"{train_fakes.MODEL_NAME},width=16")
    config.num_train_steps, config.eval_every_epochs, config.checkpoint_every_steps = 44, 1.0, 22
    results = train_and_evaluate(config, str(tmp_path), data_source=input_pipeline)
    latest = evaluate(config, str(tmp_path), data_source=input_pipeline)
    assert latest == results["final"]  # the same exact eval: every example once
    assert evaluate(config, str(tmp_path), data_source=input_pipeline, checkpoint="best") == results["best"]
    assert evaluate(config, str(tmp_path), data_source=input_pipeline, checkpoint="22")["step"] == 22
    with pytest.raises(ConfigError, match=r"--checkpoint=999; valid: latest, best or a saved step \(22, 44\)"):
        evaluate(config, str(tmp_path), data_source=input_pipeline, checkpoint="999")
    with pytest.raises(ConfigError, match="has no checkpoints$"):
        evaluate(config, str(tmp_path / "empty"), data_source=input_pipeline)
