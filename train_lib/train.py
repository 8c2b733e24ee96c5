"""``train_and_evaluate`` and ``evaluate``: the training loop on a device mesh, with exact eval,
checkpoints that are never lost, and a console that tells the story."""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
from absl import logging
from clu import parameter_overview
from etils import epath

from lightnets import pretrained
from lightnets.analysis import count_model
from train_lib import (
    autotuning, checkpointing, config_validation, device_preprocessing, metrics, optimizers, partitioning, reporting,
    schedules, steps, weights, workdir,
)
from train_lib.config_validation import ConfigError
from train_lib.preemption import PreemptionGuard
from train_lib.state import TrainState, create_train_state, initial_variables

CHECKPOINT_CHOICES = ("latest", "best")


@dataclasses.dataclass
class _Run:
    """Everything built from a validated config before the first step."""

    config: ml_collections.ConfigDict
    workdir: str
    dataset_spec: Any
    model: Any
    mesh: Any
    steps_per_epoch: int
    num_train_steps: int
    schedule: Any
    state: TrainState
    shardings: Any
    abstract_state: Any


def train_and_evaluate(
    config: ml_collections.ConfigDict, workdir_path: str, *, data_source: Any,
    devices: list[jax.Device] | None = None,
) -> dict[str, Any] | None:
    """Trains ``config`` in ``workdir_path`` (resuming from its newest checkpoint) and evaluates it.

    ``data_source`` provides the input pipeline (the ``input_pipeline`` package or an object with the
    same functions: get_dataset_spec, validate_data_config, check_data_available, steps_per_epoch,
    create_train_iterator, create_eval_iterator), which keeps train_lib free of TensorFlow. The data config
    is validated once, by ``validate_config``; the iterators trust it. ``devices`` defaults to all devices.
    Returns the content of ``results.json``, ``{'final': eval, 'best': eval, 'complete': True}`` (each eval a
    dict of metrics), or None when stopped by SIGTERM after saving. Raises ``ConfigError`` before any data or
    compile work (and before training for a checkpoint that does not fit the config), ``DivergenceError`` on
    a non-finite or diverging loss, ``CheckpointReadError``/``CheckpointWriteError`` for unreadable or
    unwritable files.
    """
    launched = time.perf_counter()
    workdir_path = workdir.resolve(workdir_path)
    mesh = partitioning.create_mesh(devices)
    validated = config_validation.validate_config(
        config, data_source=data_source, device_count=mesh.size, process_count=jax.process_count())
    workdir.check_writable(workdir_path)
    changes = workdir.check_resumable(workdir_path, config)
    run = _build(config, workdir_path, validated, mesh=mesh, data_source=data_source)
    with checkpointing.Checkpointer(workdir_path, keep=config.keep_checkpoints,
                                    keep_best=config.keep_best_checkpoint) as checkpointer:
        run.state = _restore_or_keep(run, checkpointer, changes)
        workdir.write_config(workdir_path, config)
        return _train(run, checkpointer, data_source=data_source, launched=launched)


def check_config(
    config: ml_collections.ConfigDict, workdir_path: str, *, data_source: Any, devices: list[jax.Device] | None = None,
) -> None:
    """Everything ``train_and_evaluate`` checks before touching data or compiling: the config, the data
    files, the workdir's writability and whether its checkpoints fit, whether the network takes the image
    size, and whether ``init_from``'s weights fit the model. Raises ConfigError; logs a summary."""
    mesh = partitioning.create_mesh(devices)
    validated = config_validation.validate_config(
        config, data_source=data_source, device_count=mesh.size, process_count=jax.process_count())
    workdir.check_writable(workdir_path)
    workdir.check_resumable(workdir_path, config)
    check_image_size(validated.model, config.model, config.data.image_size)
    if config.init_from:  # reads the file: its tensors must fit, as at the run's step 0
        _init_from_variables(config, validated.model, _abstract_variables(validated.model, config.data.image_size))
    counts = count_model(validated.model, config.data.image_size)
    logging.info("Config OK: %s (%.2fM params, %.1fM MAdds at %d px) on %s, batch %d on %d device(s); workdir %s.",
                 config.model, counts.params / 1e6, counts.madds / 1e6, config.data.image_size,
                 validated.dataset_spec.name, config.batch_size, mesh.size, workdir_path)


def evaluate(
    config: ml_collections.ConfigDict, workdir_path: str | None, *, data_source: Any, checkpoint: str = "latest",
    weights_path: str | None = None, devices: list[jax.Device] | None = None,
) -> dict[str, Any]:
    """Exact eval (every example once) of checkpoint ``checkpoint`` ('latest', 'best' or a step number)
    of ``workdir_path``, or of the weights file ``weights_path`` (``train_lib.weights``: a lightnets
    ``.msgpack`` or a published state_dict of ``config.model``; the workdir is then unused); returns the
    metrics (``step`` 0 for a weights file). Reads the checkpoint's variables only (its moving average when
    it keeps one), so training-only fields may differ from the run's; creates and moves nothing.

    Raises ConfigError when there is no such checkpoint or the model differs from the one in the workdir's
    ``config.json``, or the weights file cannot be read or does not fit the model exactly; CheckpointReadError
    when the checkpoint cannot be read or is corrupt.
    """
    if weights_path is not None:  # before the data checks: a mistyped path is the likelier mistake
        weights.check_weights_file(weights_path, field="--weights", model=config.model)
    mesh = partitioning.create_mesh(devices)
    validated = config_validation.validate_config(
        config, data_source=data_source, device_count=mesh.size, process_count=jax.process_count())
    check_image_size(validated.model, config.model, config.data.image_size)
    if weights_path is not None:
        variables, step = _weights_file_variables(config, validated.model, weights_path, mesh=mesh), 0
    else:
        variables, step = _checkpoint_variables(config, validated.model, workdir_path, checkpoint, mesh=mesh)
    return _evaluate_variables(config, validated.model, variables, mesh=mesh, data_source=data_source, step=step)


def save_weights(
    config: ml_collections.ConfigDict, workdir_path: str, weights_path: str, *, data_source: Any,
    checkpoint: str = "latest",
) -> int:
    """Writes the eval variables of checkpoint ``checkpoint`` of ``workdir_path`` (its moving average when it keeps
    one) as a lightnets weights file ``weights_path`` (``.msgpack``), which ``init_from`` and ``--mode=eval
    --weights`` read; returns the checkpoint's step. Raises ConfigError as ``evaluate`` does, and for a path not
    ending in ``.msgpack``."""
    if not weights_path.endswith(pretrained.WEIGHTS_SUFFIX):
        raise ConfigError(f"--weights={weights_path!r}: lightnets weights files end in {pretrained.WEIGHTS_SUFFIX}")
    mesh = partitioning.create_mesh(jax.local_devices()[:1])
    validated = config_validation.validate_config(
        config, data_source=data_source, device_count=mesh.size, process_count=jax.process_count())
    variables, step = _checkpoint_variables(config, validated.model, workdir_path, checkpoint, mesh=mesh)
    try:
        pretrained.save_weights(weights_path, model=config.model, model_options=config_validation.model_kwargs(config),
                                variables=jax.device_get(variables),
                                origin=f"{workdir.resolve(workdir_path)} checkpoint {step}")
    except pretrained.PretrainedError as error:
        raise ConfigError(f"--weights: {error}") from None
    return step


def _weights_file_variables(config: ml_collections.ConfigDict, model: nn.Module, path: str, *, mesh
                            ) -> dict[str, Any]:
    """The variables of weights file ``path`` (checked by ``weights.check_weights_file``), which must fit ``model``
    exactly, replicated on ``mesh``."""
    abstract = jax.eval_shape(lambda key: initial_variables(model, rng=key, image_size=config.data.image_size),
                              jax.random.key(0))
    loaded = weights.read_weights(path, field="--weights", config=config, model=model)
    variables, _ = weights.fit_variables({"params": abstract["params"], "batch_stats": abstract.get("batch_stats", {})},
                                         loaded, field="--weights", path=path)
    replicated = partitioning.replicated(mesh)
    return weights.place(variables, jax.tree.map(lambda _: replicated, variables))


def _checkpoint_variables(config: ml_collections.ConfigDict, model: nn.Module, workdir_path: str, checkpoint: str, *,
                          mesh) -> tuple[dict[str, Any], int]:
    """The eval variables of checkpoint ``checkpoint`` of ``workdir_path`` and its step (``restore_eval_variables``)."""
    workdir_path = workdir.resolve(workdir_path)
    if not workdir.saved_steps(workdir_path):
        raise ConfigError(f"--workdir={workdir_path} has no checkpoints")
    workdir.check_same_model(workdir_path, config)
    with checkpointing.Checkpointer(workdir_path, keep=config.keep_checkpoints, keep_best=config.keep_best_checkpoint,
                                    read_only=True) as checkpointer:
        step = checkpoint_step(checkpointer, checkpoint, workdir_path)
        variables, _ = restore_eval_variables(checkpointer, step, model, image_size=config.data.image_size, mesh=mesh)
    return variables, step


def _evaluate_variables(config: ml_collections.ConfigDict, model: nn.Module, variables: dict[str, Any], *, mesh,
                        data_source: Any, step: int) -> dict[str, Any]:
    eval_step = steps.make_eval_step(model, mesh=mesh, preprocess=device_preprocessing.eval_preprocessing(config.data))
    batches = data_source.create_eval_iterator(config.data, global_batch_size=config.eval_batch_size)
    return metrics.summarize_eval([eval_step(variables, partitioning.global_batch(b, mesh)) for b in batches],
                                  step=step)


def restore_eval_variables(checkpointer: checkpointing.Checkpointer, step: int, model, *, image_size: int,
                           mesh) -> tuple[dict[str, Any], bool]:
    """The variables to evaluate from checkpoint ``step``: its ``ema`` when it keeps one, else ``params`` and
    ``batch_stats``; returns (variables, whether they are the moving average). Raises ConfigError when the
    checkpoint holds another model's variables."""
    sharding = partitioning.replicated(mesh)
    variables = jax.tree.map(lambda leaf: jax.ShapeDtypeStruct(leaf.shape, leaf.dtype, sharding=sharding),
                             _abstract_variables(model, image_size))
    try:
        return checkpointer.restore_parts(step, {"ema": variables})["ema"], True
    except checkpointing.CheckpointMismatchError:  # no moving average kept (or another model: said below)
        pass
    try:
        restored = checkpointer.restore_parts(step, {name: tree for name, tree in variables.items() if tree})
    except checkpointing.CheckpointMismatchError as error:
        raise ConfigError(f"{error}: the checkpoint holds another model's variables") from None
    return {"batch_stats": {}, **restored}, False


def _abstract_variables(model: nn.Module, image_size: int) -> dict[str, Any]:
    """{'params', 'batch_stats'} of ``model`` as shapes and dtypes (``jax.ShapeDtypeStruct``), computing nothing."""
    abstract = jax.eval_shape(lambda key: initial_variables(model, rng=key, image_size=image_size), jax.random.key(0))
    return {"params": abstract["params"], "batch_stats": abstract.get("batch_stats", {})}


def checkpoint_step(checkpointer: checkpointing.Checkpointer, checkpoint: str, workdir_path: str) -> int:
    """The step of checkpoint `checkpoint` ('latest', 'best' or a saved step) of `workdir_path`; raises ConfigError
    naming the saved steps when there is no such checkpoint."""
    saved = checkpointer.all_steps()
    if not saved:
        raise ConfigError(f"--workdir={workdir_path} has no checkpoints")
    if checkpoint == "latest":
        return saved[-1]
    if checkpoint == "best":
        best = checkpointer.best_step()
        if best is None:
            raise ConfigError(f"--checkpoint=best: no checkpoint in {workdir_path} was saved with an eval result")
        return best
    if not checkpoint.isdigit() or int(checkpoint) not in saved:
        raise ConfigError(f"--checkpoint={checkpoint}; valid: {', '.join(CHECKPOINT_CHOICES)} or a saved step "
                          f"({', '.join(map(str, saved))})")
    return int(checkpoint)


def check_image_size(model: nn.Module, name: str, image_size: int) -> None:
    """Traces ``model`` at ``image_size`` (``jax.eval_shape``: no compilation, no data); raises ConfigError
    when the network cannot take it — the trace fails, or a layer's output is empty — naming the smallest
    size it takes, or the trace's error when no size works (e.g. a model option the layers reject)."""
    problem = _image_size_problem(model, image_size)
    if problem is None:
        return
    low, high = image_size, max(image_size + 1, 2 * type(model).default_input_size)
    if _image_size_problem(model, high) is not None:
        raise ConfigError(f"model {name!r} cannot be built at image_size={image_size}: {problem}")
    while high - low > 1:  # the networks take every size above their smallest one
        middle = (low + high) // 2
        low, high = (middle, high) if _image_size_problem(model, middle) else (low, middle)
    raise ConfigError(f"data.image_size={image_size} is too small for {name} ({problem}); valid: ≥ {high}")


def _image_size_problem(model: nn.Module, image_size: int) -> str | None:
    def init():
        variables = initial_variables(model, rng=jax.random.key(0), image_size=image_size, capture_intermediates=True)
        return variables["intermediates"]

    try:
        intermediates = jax.eval_shape(init)
    except Exception as error:  # noqa: BLE001 — any failure to trace is the answer
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".rstrip(": ")
    empty = [jax.tree_util.keystr(path) for path, leaf in jax.tree_util.tree_flatten_with_path(intermediates)[0]
             if 0 in leaf.shape]
    return f"empty output at {empty[0]}" if empty else None


def _build(config, workdir_path: str, validated, *, mesh, data_source) -> _Run:
    """Builds the run from a validated config: traces the model at the image size (``check_image_size``,
    before any data work), then prepares the data (its epoch length) and creates the train state — the
    first data and compile work."""
    check_image_size(validated.model, config.model, config.data.image_size)
    steps_per_epoch = data_source.steps_per_epoch(config.data, config.batch_size)
    config_validation.check_run_length(config, steps_per_epoch=steps_per_epoch)
    num_train_steps = config.num_train_steps if config.num_train_steps > 0 else schedules.epochs_to_steps(
        config.num_epochs, steps_per_epoch)
    schedule = schedules.create_learning_rate_schedule(
        config, steps_per_epoch=steps_per_epoch, num_train_steps=num_train_steps)
    state, shardings = create_train_state(
        validated.model, optimizers.create_optimizer(config, schedule), rng=jax.random.split(
            jax.random.key(config.seed))[0], image_size=config.data.image_size, mesh=mesh,
        use_ema=config.ema_decay > 0)
    abstract = jax.tree.map(lambda leaf, sharding: jax.ShapeDtypeStruct(leaf.shape, leaf.dtype, sharding=sharding),
                            state, shardings)
    return _Run(config=config, workdir=workdir_path, dataset_spec=validated.dataset_spec, model=validated.model,
                mesh=mesh, steps_per_epoch=steps_per_epoch, num_train_steps=num_train_steps, schedule=schedule,
                state=state, shardings=shardings, abstract_state=abstract)


def _restore_or_keep(run: _Run, checkpointer: checkpointing.Checkpointer, changes: list[str]) -> TrainState:
    """The newest usable checkpoint's state, or the fresh one when there is none.

    With ``allow_config_change`` a checkpoint whose optimizer state or EMA no longer fits continues with
    its step, params and BN statistics (and its EMA when both keep one); the rest starts fresh.
    """
    for step in reversed(checkpointer.all_steps()):
        try:
            restored = checkpointer.restore(step, run.abstract_state)
        except checkpointing.CheckpointMismatchError as error:
            if not run.config.allow_config_change:
                raise ConfigError(f"{error}: use a new --workdir, or pass --config.allow_config_change=True to "
                                  f"continue from its weights with a fresh optimizer state and EMA") from None
            restored = _restore_weights(run, checkpointer, step)
        if restored is not None:
            if changes:
                logging.warning("Continuing from step %d with a changed config: %s.", step, "; ".join(changes))
            logging.info("Resumed from the checkpoint at step %d.", int(jax.device_get(restored.step)))
            return restored
    return _start_from_weights(run) if run.config.init_from else run.state


def _init_from_variables(config: ml_collections.ConfigDict, model: nn.Module, target: dict[str, Any]
                         ) -> tuple[dict[str, Any], list[str]]:
    """``config.init_from``'s variables laid onto ``target`` ({'params', 'batch_stats'}, arrays or shapes):
    ``weights.fit_variables`` with the model's classifier. Raises ConfigError for a file that does not fit."""
    loaded = weights.read_weights(config.init_from, field="init_from", config=config, model=model)
    return weights.fit_variables(target, loaded, field="init_from", path=config.init_from,
                                 classifier=weights.classifier_path(model, config.data.image_size),
                                 new_classifier=config.init_from_new_classifier)


def _start_from_weights(run: _Run) -> TrainState:
    """The fresh state with ``config.init_from``'s weights: params and BN statistics (and the EMA, a copy), the
    classifier kept fresh when it does not fit (another ``num_classes``) or ``config.init_from_new_classifier``;
    step 0 and a fresh optimizer state."""
    config, state = run.config, run.state
    variables, kept = _init_from_variables(config, run.model, state.variables)
    variables = weights.place(variables, {"params": run.shardings.params, "batch_stats": run.shardings.batch_stats})
    state = state.replace(params=variables["params"], batch_stats=variables["batch_stats"])
    if state.ema is not None:  # a copy: the donated train state must not hold one buffer twice
        state = state.replace(ema=jax.tree.map(jnp.copy, variables))
    logging.info("Starting from the weights in %s%s.", config.init_from,
                 f"; initialised fresh: {', '.join(kept)}" if kept else "")
    return state


def _restore_weights(run: _Run, checkpointer: checkpointing.Checkpointer, step: int) -> TrainState | None:
    fresh = run.state
    parts = {"step": run.abstract_state.step, "params": run.abstract_state.params,
             "batch_stats": run.abstract_state.batch_stats}
    try:
        restored = checkpointer.restore_parts(step, parts)
    except checkpointing.CheckpointMismatchError as error:
        raise ConfigError(f"{error}: a different model cannot continue this workdir; use a new --workdir") from None
    if restored is None:
        return None
    state = fresh.replace(step=restored["step"], params=restored["params"], batch_stats=restored["batch_stats"])
    if fresh.ema is not None:  # a copy: the donated train state must not hold one buffer twice
        state = state.replace(ema=jax.tree.map(jnp.copy, {"params": restored["params"],
                                                          "batch_stats": restored["batch_stats"]}))
    logging.warning("Checkpoint %d keeps its step, params and BN statistics; the optimizer state%s start fresh.",
                    step, " and EMA" if fresh.ema is not None else "")
    return state


def _evaluate(run: _Run, eval_step, state: TrainState, data_source) -> dict[str, Any]:
    batches = data_source.create_eval_iterator(run.config.data, global_batch_size=run.config.eval_batch_size)
    sums = [eval_step(state.eval_variables, partitioning.global_batch(batch, run.mesh)) for batch in batches]
    return metrics.summarize_eval(sums, step=int(jax.device_get(state.step)))


def _train(run: _Run, checkpointer: checkpointing.Checkpointer, *, data_source, launched: float) -> dict | None:
    """The loop from the restored step to the last; returns the content of results.json (None when stopped by a
    signal). Its TensorBoard writer is closed on every exit path."""
    with reporting.TensorBoardWriter(run.workdir) as writer:
        return _train_loop(run, checkpointer, writer, data_source=data_source, launched=launched)


def _train_loop(run: _Run, checkpointer: checkpointing.Checkpointer, writer: reporting.TensorBoardWriter, *,
                data_source, launched: float) -> dict | None:
    """Names: ``step_eval`` is the eval of the current step (None on steps without one), ``latest_eval``
    the newest eval (results.json's ``final``), ``best_eval`` the one with the highest top-1, and
    ``run_results`` the content of results.json (``final``, ``best``, ``complete``)."""
    config, state = run.config, run.state
    start_step = int(jax.device_get(state.step))
    counts = count_model(run.model, config.data.image_size)
    if start_step == 0:
        _write_overview(run, writer, counts)
    if config.ops_autotune:
        _autotune(run)
    train_step = steps.make_train_step(
        run.model, mesh=run.mesh, state_shardings=run.shardings, num_classes=run.dataset_spec.num_classes,
        label_smoothing=config.label_smoothing, weight_decay=config.weight_decay,
        weight_decay_params=config.weight_decay_params, bn_mode=config.bn_mode, ema_decay=config.ema_decay,
        ema_warmup=config.ema_warmup, preprocess=device_preprocessing.train_preprocessing(config.data))
    eval_step = steps.make_eval_step(run.model, mesh=run.mesh,
                                     preprocess=device_preprocessing.eval_preprocessing(config.data))
    eval_every = max(1, round(config.eval_every_epochs * run.steps_per_epoch))
    total = run.num_train_steps
    state_bytes = checkpointing.state_nbytes(run.abstract_state)
    checkpointing.check_free_space(checkpointer.directory, needed=2 * state_bytes)
    logging.info("Training %s (%.2fM params, %.1fM MAdds at %d px) on %s: steps %d → %d (%d per epoch, %g epochs), "
                 "batch %d on %d %s device(s) × %d process(es).", config.model, counts.params / 1e6,
                 counts.madds / 1e6, config.data.image_size, run.dataset_spec.name, start_step, total,
                 run.steps_per_epoch, total / run.steps_per_epoch, config.batch_size, run.mesh.size,
                 jax.devices()[0].platform, jax.process_count())
    saved_best_eval = (workdir.read_results(run.workdir) or {}).get("best")  # evals after start_step are redone
    best_eval = saved_best_eval if saved_best_eval and saved_best_eval["step"] <= start_step else None
    latest_eval = None
    progress = reporting.Progress(first_step=start_step, num_train_steps=total, batch_size=config.batch_size)
    pending: list[dict[str, jax.Array]] = []
    max_loss = config.divergence_factor * math.log(run.dataset_spec.num_classes)

    def flush(step: int) -> None:
        """Checks and reports the metrics of the steps since the last flush (the last good checkpoint is
        never overwritten by a diverged state: every save is preceded by this check)."""
        nonlocal pending
        if not pending:
            return
        try:
            averages = metrics.average_train_metrics(pending, first_step=step - len(pending) + 1, max_loss=max_loss)
        except metrics.DivergenceError as error:
            checkpointer.wait()
            raise metrics.DivergenceError(f"{error}; stopping without saving. The last good checkpoint (step "
                                          f"{checkpointer.latest_step()}) in {checkpointer.directory} is kept.") from None
        pending = []
        if step == start_step + 1:
            progress.start()
        learning_rate = float(run.schedule(step - 1))
        writer.write_scalars(step, {**{f"train/{k}": v for k, v in averages.items()},
                                    "train/learning_rate": learning_rate, **progress.scalars(step)})
        if step % config.log_every_steps == 0 or step == total:
            logging.info("%s", progress.line(step, averages, learning_rate=learning_rate,
                                              evals_left=(total - step) // eval_every))

    batches = partitioning.prefetch_to_mesh(data_source.create_train_iterator(
        config.data, global_batch_size=config.batch_size, seed=config.seed, start_step=start_step), run.mesh)
    rng = jax.random.split(jax.random.key(config.seed))[1]
    with PreemptionGuard() as guard:
        for step in range(start_step + 1, total + 1):
            state, step_metrics = train_step(state, next(batches), rng)
            pending.append(step_metrics)
            if step == start_step + 1 or step % config.log_every_steps == 0:
                flush(step)
            step_eval = None
            if step % eval_every == 0 or step == total:
                flush(step)
                began = time.perf_counter()
                step_eval = latest_eval = _evaluate(run, eval_step, state, data_source)
                progress.pause(time.perf_counter() - began)
                writer.write_scalars(step, {f"eval/{k}": step_eval[k] for k in ("top1", "top5", "loss")})
                if best_eval is None or step_eval["top1"] > best_eval["top1"]:
                    best_eval = step_eval
                logging.info("eval  %s  (best top-1 %.2f%% at step %d)", reporting.format_eval(step_eval),
                             100 * best_eval["top1"], best_eval["step"])
            stop = guard.should_stop(step)
            if step_eval or stop or step % config.checkpoint_every_steps == 0:
                flush(step)
                checkpointer.save(state, metrics=step_eval and {"top1": step_eval["top1"]}, state_bytes=state_bytes)
            if step_eval:
                workdir.write_results(run.workdir, {"final": latest_eval, "best": best_eval,
                                                    "complete": step == total})
            if stop:
                checkpointer.wait()
                logging.warning("Stopped at step %d on SIGTERM/preemption; checkpoint saved. Rerun the same "
                                "command to resume.", step)
                return None
    if latest_eval is None:  # resumed after the last step: evaluate the restored state
        latest_eval = _evaluate(run, eval_step, state, data_source)
        if best_eval is None or latest_eval["top1"] > best_eval["top1"]:
            best_eval = latest_eval
    run_results = {"final": latest_eval, "best": best_eval, "complete": True}
    workdir.write_results(run.workdir, run_results)
    checkpointer.wait()
    _log_summary(run, run_results, checkpointer, start_step=start_step, seconds=time.perf_counter() - launched,
                 progress=progress)
    return run_results


def _autotune(run: _Run) -> None:
    """``config.ops_autotune``: tunes the model's op implementations at the batch the train step traces, before
    the steps are traced (``train_lib.autotuning``); the eval step keeps the static table."""
    if jax.process_count() > 1:
        logging.warning("ops_autotune is off for this multi-process run: each host would measure its own winners, "
                        "and every process must compile the same program.")
        return
    config = run.config
    size = config.data.image_size
    # The batch the train step traces the model at: the global batch under one jit (bn_mode 'global'), a
    # device's share inside shard_map ('per_device'); the tuned choices are keyed by it.
    batch = config.batch_size if config.bn_mode == "global" else config.batch_size // run.mesh.size
    logging.info("Autotuning the model's op implementations (budget %g s)…", config.ops_autotune_budget_s)
    result = autotuning.autotune_model(
        run.model, (batch, size, size, 3), cache_dir=config.ops_autotune_cache_dir,
        time_budget_s=config.ops_autotune_budget_s)
    logging.info("Autotune: %s.", autotuning.describe(result))


def _write_overview(run: _Run, writer: reporting.TensorBoardWriter, counts) -> None:
    """The parameter table to ``<workdir>/parameters.txt`` and the hparams (config + params/MAdds)."""
    if jax.process_index() == 0:
        (epath.Path(run.workdir) / "parameters.txt").write_text(
            parameter_overview.get_parameter_overview(run.state.params) + "\n")
    config = {key: value if isinstance(value, (int, float, str, bool)) else str(value)
              for key, value in workdir.flatten(workdir.config_to_dict(run.config)).items()}
    writer.write_hparams({**config, "params": counts.params, "madds": counts.madds,
                          "num_train_steps": run.num_train_steps, "steps_per_epoch": run.steps_per_epoch})


def _tensorboard_command() -> str:
    """``tensorboard`` of this interpreter's environment (a venv's is not on PATH unless activated)."""
    beside = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    if not os.path.exists(beside):
        return "tensorboard"
    relative = os.path.relpath(beside)
    return beside if relative.startswith("..") else relative


def _log_summary(run: _Run, run_results: dict, checkpointer, *, start_step: int, seconds: float,
                 progress: reporting.Progress) -> None:
    final, best = run_results["final"], run_results["best"]
    compile_note = f" (first step incl. compilation {progress.compile_seconds:.1f} s)" if progress.compile_seconds else ""
    lines = [
        f"Done: {run.config.model} on {run.dataset_spec.name}, steps {start_step} → {run.num_train_steps} in "
        f"{reporting.format_duration(seconds)}{compile_note}.",
        f"  final  {reporting.format_eval(final)}",
        f"  best   {reporting.format_eval(best)}",
        f"  results      {epath.Path(run.workdir) / workdir.RESULTS_FILE}",
        f"  checkpoints  {checkpointer.directory} (steps {', '.join(map(str, checkpointer.all_steps()))}; best "
        f"{checkpointer.best_step()})",
        f"  config       {epath.Path(run.workdir) / workdir.CONFIG_FILE}",
        f"  TensorBoard  {_tensorboard_command()} --logdir={run.workdir}",
    ]
    for line in lines:
        logging.info("%s", line)

