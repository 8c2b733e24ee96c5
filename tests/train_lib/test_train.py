"""train_and_evaluate on the tiny model and fake data, on 8 simulated CPU devices (tests/conftest.py)."""

import json
import shutil

import jax
import numpy as np
import optax
import orbax.checkpoint as ocp
import pytest

import train_fakes
from lightnets import create_model
from train_lib import ConfigError, DivergenceError, partitioning, steps, train_and_evaluate
from train_lib.state import create_train_state


def final_checkpoint(workdir) -> dict:
    """The newest checkpoint in ``workdir`` as a plain tree of numpy arrays."""
    with ocp.CheckpointManager(workdir / "checkpoints") as manager:
        return jax.device_get(manager.restore(manager.latest_step(), args=ocp.args.StandardRestore()))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The tiny config trained for 8 steps on all 8 devices (checkpoints at steps 4 and 8): (workdir, results)."""
    workdir = tmp_path_factory.mktemp("trained")
    return workdir, train_and_evaluate(train_fakes.tiny_config(), str(workdir), data_source=train_fakes.FakeDataSource())


def test_few_steps_train_evaluate_and_report(trained):
    tmp_path, results = trained
    assert results == json.loads((tmp_path / "results.json").read_text())
    assert set(results) == {"final", "best", "complete"} and results["complete"]
    final, best = results["final"], results["best"]
    assert set(final) == {"top1", "top5", "loss", "step", "examples"}
    assert final["step"] == 8 and final["examples"] == 20
    assert final["top1"] >= 0.5  # 4 balanced classes: chance is 0.25
    assert best["top1"] >= final["top1"] and best["step"] in (4, 8)
    assert list(tmp_path.glob("events.out.tfevents.*"))
    assert json.loads((tmp_path / "config.json").read_text())["model"] == train_fakes.MODEL_NAME


def test_two_steps_with_every_option(tmp_path):
    config = train_fakes.tiny_config(
        num_train_steps=2, warmup_epochs=0.25, bn_mode="per_device", dtype="bfloat16", optimizer="rmsprop", ema_decay=0.99,
        schedule="exponential", weight_decay_params="kernels_except_depthwise")
    results = train_and_evaluate(config, str(tmp_path), data_source=train_fakes.FakeDataSource())
    assert results["final"]["step"] == 2
    state = final_checkpoint(tmp_path)
    assert jax.tree.leaves(state["params"])[0].dtype == np.float32
    ema, params = state["ema"]["params"], state["params"]
    assert not np.array_equal(ema["classifier"]["kernel"], params["classifier"]["kernel"])


def test_ops_autotune_measures_once_then_reuses_the_cache(tmp_path, caplog):
    """config.ops_autotune: the tiny model's op calls are timed at the per-device batch before the first step,
    and a second run (another workdir, the same cache) measures nothing."""
    config = train_fakes.tiny_config(num_train_steps=2, warmup_epochs=0.25, ops_autotune=True,
                                     ops_autotune_cache_dir=str(tmp_path / "tune"))
    for run in ("first", "second"):
        caplog.clear()
        with caplog.at_level("INFO", logger="absl"):
            results = train_and_evaluate(config, str(tmp_path / run), data_source=train_fakes.FakeDataSource())
        assert results["final"]["step"] == 2
        [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Autotune:")]
        assert ("Autotune: 0 op calls measured" in line) == (run == "second"), line
        assert "0 left to the static table" in line and str(tmp_path / "tune") in line
    saved = json.loads(next((tmp_path / "tune").glob("*.json")).read_text())["calls"]
    assert saved and all(key.split("|")[2].startswith("16x") for key in saved)  # bn_mode global: the global batch


def test_eight_devices_match_one_device_with_global_bn(tmp_path, trained):
    assert len(jax.devices()) == 8
    train_and_evaluate(train_fakes.tiny_config(), str(tmp_path), data_source=train_fakes.FakeDataSource(),
                       devices=jax.devices()[:1])
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6),
                 final_checkpoint(tmp_path), final_checkpoint(trained[0]))


def test_per_device_bn_averages_the_shards_gradients():
    """Ghost BN: one step on 8 devices = the mean of 8 one-shard gradients (each with its own BN moments)."""
    model = create_model(train_fakes.MODEL_NAME, num_classes=train_fakes.NUM_CLASSES, dropout_rate=0.0)
    data = train_fakes.FakeDataSource()
    batch = next(data.create_train_iterator(None, global_batch_size=16, seed=0))
    tx = optax.sgd(0.1)
    mesh = partitioning.create_mesh()
    state, shardings = create_train_state(model, tx, rng=jax.random.key(0), image_size=8, mesh=mesh, use_ema=False)
    params0, stats0 = jax.device_get((state.params, state.batch_stats))
    step = steps.make_train_step(model, mesh=mesh, state_shardings=shardings, num_classes=4, label_smoothing=0.0,
                                 weight_decay=0.0, weight_decay_params="kernels", bn_mode="per_device", ema_decay=0.0,
                                 ema_warmup=True)
    new_state, _ = step(state, partitioning.global_batch(batch, mesh), jax.random.key(1))

    def shard_grad(images, labels):
        def loss(p):
            logits, updates = model.apply({"params": p, "batch_stats": stats0}, images, train=True,
                                          mutable=["batch_stats"])
            return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean(), updates["batch_stats"]
        return jax.grad(loss, has_aux=True)(params0)

    shards = [shard_grad(batch["image"][2 * i:2 * i + 2], batch["label"][2 * i:2 * i + 2]) for i in range(8)]
    mean = lambda *xs: sum(xs) / len(xs)  # noqa: E731
    grads = jax.tree.map(mean, *[g for g, _ in shards])
    stats = jax.tree.map(mean, *[s for _, s in shards])
    expected = jax.tree.map(lambda p, g: p - 0.1 * g, params0, grads)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
                 jax.device_get(new_state.params), expected)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
                 jax.device_get(new_state.batch_stats), stats)


def test_workdir_of_another_run_is_refused(trained):
    config = train_fakes.tiny_config()
    config.model_kwargs.width = 16
    with pytest.raises(ConfigError, match=r"holds checkpoints up to step 8 of another config \(model_kwargs.width '\(absent\)' → 16\)"):
        train_and_evaluate(config, str(trained[0]), data_source=train_fakes.FakeDataSource())


def test_nonfinite_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    config = train_fakes.tiny_config(num_train_steps=8, checkpoint_every_steps=2, log_every_steps=1)
    with pytest.raises(DivergenceError, match=r"training loss is nan at step 5; .*checkpoint \(step 4\)"):
        train_and_evaluate(config, str(tmp_path), data_source=train_fakes.FakeDataSource(nan_at_step=5))
    with ocp.CheckpointManager(tmp_path / "checkpoints") as manager:
        assert manager.latest_step() == 4
    assert not json.loads((tmp_path / "results.json").read_text())["complete"]


def test_corrupt_latest_checkpoint_falls_back_to_previous(tmp_path, trained, caplog):
    tmp_path = tmp_path / "copy"
    shutil.copytree(trained[0], tmp_path)
    config = train_fakes.tiny_config()
    for path in (tmp_path / "checkpoints" / "8").rglob("*"):
        if path.is_file() and (path.parent.name == "d" or path.name.startswith("manifest")):
            path.write_bytes(b"garbage")
    config.num_train_steps = 10
    config.allow_config_change = True
    with caplog.at_level("WARNING"):
        results = train_and_evaluate(config, str(tmp_path), data_source=train_fakes.FakeDataSource())
    assert "Checkpoint 8 in" in caplog.text and "is corrupt" in caplog.text
    assert (tmp_path / "corrupt_checkpoints" / "8").is_dir()
    assert results["final"]["step"] == 10
