"""``train_and_evaluate``: the training loop on a device mesh, with eval, checkpoints and reporting."""

from __future__ import annotations

import time
from typing import Any

import jax
import ml_collections
from absl import logging
from clu import metric_writers, parameter_overview, periodic_actions

from lightnets.analysis import count_model
from train_lib import checkpointing, config_validation, metrics, optimizers, partitioning, schedules, steps, workdir
from train_lib.preemption import PreemptionGuard
from train_lib.state import TrainState, create_train_state


def train_and_evaluate(
    config: ml_collections.ConfigDict, workdir_path: str, *, data_source: Any,
    devices: list[jax.Device] | None = None,
) -> dict[str, float | int] | None:
    """Trains ``config`` in ``workdir_path`` (resuming from its newest checkpoint) and evaluates it.

    ``data_source`` provides the input pipeline (the ``input_pipeline`` package or an object with the
    same functions: get_dataset_info, validate_data_config, steps_per_epoch, create_train_iterator,
    create_eval_iterator), which keeps train_lib free of TensorFlow. ``devices`` defaults to all devices.
    Returns the final eval metrics (also written to ``results.json``), or None when stopped by SIGTERM
    after saving. Raises ``ConfigError`` before compiling anything and ``NonFiniteLossError`` on NaN/Inf.
    """
    mesh = partitioning.create_mesh(devices)
    run = config_validation.validate_config(
        config, data_source=data_source, device_count=mesh.size, process_count=jax.process_count())
    info, model, steps_per_epoch = run.dataset_info, run.model, run.steps_per_epoch
    workdir.check_run_identity(workdir_path, run_identity(config, info))
    num_train_steps = config.num_train_steps if config.num_train_steps > 0 else schedules.epochs_to_steps(
        config.num_epochs, steps_per_epoch)
    schedule = schedules.create_learning_rate_schedule(
        config, steps_per_epoch=steps_per_epoch, num_train_steps=num_train_steps)

    init_key, dropout_key = jax.random.split(jax.random.key(config.seed))
    state, shardings = create_train_state(
        model, optimizers.create_optimizer(config, schedule), rng=init_key, image_size=config.data.image_size,
        mesh=mesh, use_ema=config.ema_decay > 0)
    checkpointer = checkpointing.Checkpointer(
        workdir_path, keep=config.keep_checkpoints, keep_best=config.keep_best_checkpoint)
    state = checkpointer.restore_latest(state) or state
    start_step = int(jax.device_get(state.step))

    writer = metric_writers.create_default_writer(workdir_path, just_logging=jax.process_index() > 0)
    if start_step == 0:
        _log_model(writer, config, model, state, num_train_steps=num_train_steps, steps_per_epoch=steps_per_epoch)
    train_step = steps.make_train_step(
        model, mesh=mesh, state_shardings=shardings, num_classes=info.num_classes,
        label_smoothing=config.label_smoothing, weight_decay=config.weight_decay,
        weight_decay_params=config.weight_decay_params, bn_mode=config.bn_mode, ema_decay=config.ema_decay)
    eval_step = steps.make_eval_step(model, mesh=mesh, state_shardings=shardings)

    def evaluate(state: TrainState) -> dict[str, float | int]:
        batches = data_source.create_eval_iterator(config.data, global_batch_size=config.eval_batch_size)
        sums = [eval_step(state, partitioning.global_batch(b, mesh)) for b in batches]
        results = metrics.summarize_eval(sums, step=int(jax.device_get(state.step)))
        writer.write_scalars(results["step"], {f"eval/{k}": results[k] for k in ("top1", "top5", "loss")})
        return results

    eval_every = max(1, round(config.eval_every_epochs * steps_per_epoch))
    logging.info("Training %s on %s: steps %d → %d (%d per epoch), %d devices, %d processes.", config.model,
                 info.name, start_step, num_train_steps, steps_per_epoch, mesh.size, jax.process_count())
    train_iter = data_source.create_train_iterator(
        config.data, global_batch_size=config.batch_size, seed=config.seed, start_step=start_step)
    report = periodic_actions.ReportProgress(num_train_steps=num_train_steps, writer=writer,
                                             every_steps=config.log_every_steps)
    pending: list[dict[str, jax.Array]] = []
    last_log = (start_step, time.perf_counter())

    def flush_train_metrics(step: int) -> None:
        """Writes the averaged metrics of the steps since the last flush; raises on a non-finite loss."""
        nonlocal pending, last_log
        if not pending:
            return
        try:
            averages = metrics.average_train_metrics(pending, first_step=step - len(pending) + 1)
        except metrics.NonFiniteLossError as error:
            checkpointer.wait()
            raise metrics.NonFiniteLossError(
                f"{error}; stopping. The last good checkpoint (step {checkpointer.latest_step()}) in "
                f"{checkpointer.directory} is left untouched.") from None
        first, started = last_log
        images_per_sec = (step - first) * config.batch_size / max(time.perf_counter() - started, 1e-9)
        writer.write_scalars(step, {**{f"train/{k}": v for k, v in averages.items()},
                                    "train/learning_rate": float(schedule(step - 1)),
                                    "train/images_per_sec": images_per_sec})
        pending, last_log = [], (step, time.perf_counter())

    eval_results = None
    with PreemptionGuard() as guard:
        for step in range(start_step + 1, num_train_steps + 1):
            state, step_metrics = train_step(state, partitioning.global_batch(next(train_iter), mesh), dropout_key)
            pending.append(step_metrics)
            report(step)
            if step % config.log_every_steps == 0:
                flush_train_metrics(step)
            is_last = step == num_train_steps
            eval_results = None
            if step % eval_every == 0 or is_last:
                flush_train_metrics(step)
                with report.timed("eval"):
                    eval_results = evaluate(state)
                logging.info("Eval at step %d: %s", step, eval_results)
            stop = guard.should_stop(step)
            if eval_results or stop or step % config.checkpoint_every_steps == 0:
                flush_train_metrics(step)
                checkpointer.save(state, metrics=eval_results and {"top1": eval_results["top1"]})
            if stop:
                checkpointer.wait()
                logging.warning("Stopped at step %d on SIGTERM/preemption; checkpoint saved, rerun to resume.", step)
                writer.flush()
                return None
    if eval_results is None:  # resumed after the last step: evaluate the restored state
        eval_results = evaluate(state)
    checkpointer.wait()
    writer.flush()
    workdir.write_results(workdir_path, eval_results)
    return eval_results


def run_identity(config: ml_collections.ConfigDict, info: Any) -> dict[str, Any]:
    """What makes two runs the same run: a workdir with a different identity is refused."""
    return {"model": config.model, "model_kwargs": config.model_kwargs.to_dict(), "dataset": info.name,
            "num_classes": info.num_classes, "image_size": config.data.image_size}


def _log_model(writer, config, model, state, *, num_train_steps: int, steps_per_epoch: int) -> None:
    """Parameter overview and hparams (with the model's params/MAdds) at the start of a run."""
    parameter_overview.log_parameter_overview(state.params)
    counts = count_model(model, config.data.image_size)
    hparams = {**_flatten(config.to_dict()), "params": counts.params, "madds": counts.madds,
               "num_train_steps": num_train_steps, "steps_per_epoch": steps_per_epoch}
    writer.write_hparams(hparams)


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value if isinstance(value, (int, float, str, bool)) else str(value)
    return flat
