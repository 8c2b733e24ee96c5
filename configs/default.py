"""Shared defaults of every training config; each paper's config starts from ``get_config()`` and
overrides what its paper states.

Every field can be overridden on the command line, e.g. ``--config.batch_size=256``.
"""

from typing import Any

import ml_collections
from ml_collections import config_dict

from input_pipeline import default_data_config
from lightnets.registry import check_option_names, model_options


def get_config(dataset: str = "digits", model: str = "mobilenet_v2_100", **model_kwargs: Any
               ) -> ml_collections.ConfigDict:
    """Defaults for training ``model`` on ``dataset`` (its preprocessing from ``default_data_config``).

    ``model_kwargs`` set options of the model (see ``model_kwargs_config``).
    """
    config = ml_collections.ConfigDict()
    config.seed = 0

    # Model: any name from `.venv/bin/python -m lightnets.summary --list`; model_kwargs go to create_model.
    config.model = model
    config.model_kwargs = model_kwargs_config(model, **model_kwargs)
    config.dtype = "float32"  # compute dtype: 'float32' | 'bfloat16' (params, BN statistics, loss stay float32)
    config.bn_mode = "global"  # 'global' (all-reduced BN moments) | 'per_device' (ghost BN, as the papers' GPUs)

    config.data = default_data_config(dataset)
    config.batch_size = 128  # global, over all devices and processes
    config.eval_batch_size = 256

    # Duration: num_train_steps > 0 overrides num_epochs.
    config.num_epochs = 100.0
    config.num_train_steps = -1

    # Optimizer ('sgd' | 'rmsprop'; see train_lib/optimizers.py).
    config.optimizer = "sgd"
    config.momentum = 0.9
    config.nesterov = False
    # sgd: v ← μv + lr·g, w ← w − v (Caffe's SGD solver) instead of v ← μv + g, w ← w − lr·v (PyTorch,
    # Torch, TF MomentumOptimizer); the two differ only while the learning rate changes. No Nesterov form.
    config.lr_in_momentum = False
    config.rmsprop_decay = 0.9
    config.rmsprop_epsilon = 1.0
    config.rmsprop_initial_scale = 1.0

    # Learning rate (see train_lib/schedules.py); epochs may be fractional.
    config.learning_rate = 0.1
    config.schedule = "cosine"  # 'constant' | 'exponential' | 'multistep' | 'polynomial' | 'cosine'
    config.warmup_epochs = 0.0
    config.warmup_init_factor = 0.0
    config.lr_decay_rate = 0.98  # exponential: factor per lr_decay_epochs
    config.lr_decay_epochs = 1.0
    config.lr_boundaries_epochs = (200, 300, 350)  # multistep
    config.lr_boundary_factor = 0.1
    config.lr_power = 1.0  # polynomial
    config.lr_end = 0.0

    # Regularisation: coupled L2 (weight_decay/2·Σw²) on 'kernels' | 'kernels_except_depthwise' | 'all'.
    config.weight_decay = 1e-4
    config.weight_decay_params = "kernels"
    config.label_smoothing = 0.0
    # Exponential moving average of params and BN statistics, evaluated instead of the trained ones; 0 = off.
    # ema_warmup: decay min(ema_decay, (1+t)/(10+t)) at update t, as TF's ExponentialMovingAverage with
    # num_updates=global_step; False = the constant ema_decay from the first step.
    config.ema_decay = 0.0
    config.ema_warmup = True

    # Start from weights (docs/models.md, "Pretrained weights"): a fresh run (no checkpoint in the workdir) takes
    # its params and BN statistics from init_from, a lightnets .msgpack weights file or a published PyTorch
    # state_dict of this model (.safetensors, or .pth with PyTorch); None = random initialisation. The
    # classifier starts fresh when it does not fit (another num_classes) or with init_from_new_classifier (a
    # new task with as many classes). The optimizer state, step and schedule start fresh. Both act at step 0
    # only, so they may change between restarts.
    config.init_from = config_dict.placeholder(str)
    config.init_from_new_classifier = False

    # Reporting and checkpoints.
    config.log_every_steps = 100
    config.eval_every_epochs = 1.0
    config.checkpoint_every_steps = 1000
    config.keep_checkpoints = 3
    config.keep_best_checkpoint = True

    # Safety. Stop (without saving) when the mean train cross-entropy exceeds divergence_factor × ln(classes),
    # the loss of a uniform guess. Resuming a workdir whose config.json differs in a field that changes what
    # is trained is refused unless allow_config_change (docs/training.md, "Resuming").
    config.divergence_factor = 10.0
    config.allow_config_change = False

    # JAX's persistent compilation cache (runtime/compilation_cache.py): a restart or a second run of the same
    # program loads its compiled steps instead of compiling them. None = $LIGHTNETS_COMPILATION_CACHE_DIR,
    # else $XDG_CACHE_HOME/lightnets/jax_compilation_cache (~/.cache/...); '' = off. Not part of the
    # experiment: it may change between restarts.
    config.compilation_cache_dir = config_dict.placeholder(str)

    # Autotune (lightnets.ops.autotune, docs/ops.md#autotune): before the train step is compiled, time every
    # implementation of each structured-op call of the model on this device (within ops_autotune_budget_s
    # seconds) and use the fastest. Winners are cached per device kind and jax version in
    # ops_autotune_cache_dir (None = $LIGHTNETS_AUTOTUNE_CACHE, else ~/.cache/lightnets/autotune; '' = not kept),
    # so later runs and restarts reuse them. Off by default: not yet measured on an accelerator. Single-process
    # runs only (each host would measure its own winners, and every process must compile the same program).
    config.ops_autotune = False
    config.ops_autotune_budget_s = 120.0
    config.ops_autotune_cache_dir = config_dict.placeholder(str)
    return config


def model_kwargs_config(model: str, **values: Any) -> ml_collections.ConfigDict:
    """Every option of ``model`` as a typed field, so ``--config.model_kwargs.OPTION=VALUE`` works.

    Options left unset are ``None`` (typed placeholders) and the registered variant's default applies;
    ``values`` set some. Raises ValueError for an unknown model or option (with the valid ones).
    """
    options = model_options(model)
    check_option_names(model, values)  # unknown names, each with the option it most likely means
    if config_set := sorted(set(values) - set(options)):
        raise ValueError(f"{model}: {', '.join(config_set)} is set from the dataset and config.dtype, not "
                         f"model_kwargs; valid: {', '.join(options)}")
    return ml_collections.ConfigDict(
        {name: config_dict.placeholder(kind) if values.get(name) is None else values[name]
         for name, kind in options.items()})
