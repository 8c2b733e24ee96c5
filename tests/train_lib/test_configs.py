"""Every config file loads for its documented args and names registered models and valid choices."""

import importlib

import jax
import jax.numpy as jnp
import pytest

from lightnets import create_model, list_models
from train_lib import losses, optimizers, schedules, steps

CONFIGS = [
    ("digits", None), ("digits", "mobilenet_v1_025,small_input=True"),
    ("imagenet_clcnet", "A"), ("imagenet_clcnet", "B"), ("imagenet_clcnet", "Ap"),
    ("imagenet_seesaw", "shuffle_d100"), ("imagenet_seesaw", "share_d050"), ("imagenet_seesaw", "igcv3_d100"),
    ("cifar_seesaw", "cifar100,shuffle_d050"), ("cifar_xsepconv", "cifar10,mbv3"), ("svhn_xsepconv", "xsep"),
    ("tiny_imagenet_xsepconv", "mbv3"), ("imagenet_mobilenet", "mobilenet_v1_100"),
    ("imagenet_mobilenet", "mobilenet_v2_100"), ("imagenet_shufflenet", "shufflenet_v1_g3_100"),
    ("imagenet_shufflenet", "shufflenet_v2_100"), ("imagenet_squeezenet", "squeezenet1_1"),
    ("imagenet_squeezenext", "sqnxt23_100"), ("imagenet_xception", None),
]


@pytest.mark.parametrize("module, arg", CONFIGS)
def test_config_loads_with_valid_choices(module, arg):
    get_config = importlib.import_module(f"configs.{module}").get_config
    config = get_config() if arg is None else get_config(arg)
    assert config.model in list_models()
    assert config.optimizer in optimizers.OPTIMIZERS and config.schedule in schedules.SCHEDULES
    assert config.bn_mode in steps.BN_MODES and config.weight_decay_params in losses.WEIGHT_DECAY_TARGETS
    assert config.learning_rate > 0 and (config.num_epochs > 0 or config.num_train_steps > 0)
    assert importlib.import_module(f"configs.{module}").__doc__.count("python main.py") >= 1


def test_bad_config_arg_is_named():
    with pytest.raises(ValueError, match="valid: A, B, Ap"):
        importlib.import_module("configs.imagenet_clcnet").get_config("C")


def load(module, arg):
    get_config = importlib.import_module(f"configs.{module}").get_config
    return get_config() if arg is None else get_config(arg)


def test_moving_average_only_where_the_paper_or_its_reference_code_averages():
    # Xception §4.2 (Polyak averaging at inference); MobileNetV2's TF-slim flags --moving_average_decay=0.9999.
    averaged = {(module, arg) for module, arg in CONFIGS if load(module, arg).ema_decay > 0}
    assert averaged == {("imagenet_mobilenet", "mobilenet_v2_100"), ("imagenet_xception", None)}


def test_mobilenet_v2_decays_every_kernel_but_the_17_depthwise_ones():
    config = load("imagenet_mobilenet", "mobilenet_v2_100")
    options = {name: value for name, value in config.model_kwargs.items() if value is not None}
    model = create_model(config.model, num_classes=1000, **options)
    assert (model.bn_momentum, model.bn_epsilon, model.dropout_rate) == (0.997, 1e-3, 0.2)  # TF-slim training_scope
    params = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, 224, 224, 3)), train=False))["params"]
    kernels = [(tuple(key.key for key in path), leaf) for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]
               if path[-1].key.startswith("kernel")]
    skipped = [path for path, leaf in kernels if not losses.is_decayed(path, leaf, target=config.weight_decay_params)]
    assert len(skipped) == 17 and all("depthwise" in path for path in skipped)


def test_squeezenext_learning_rate_equals_intel_caffe_after_the_warmup():
    config = load("imagenet_squeezenext", "sqnxt23_100")
    steps_per_epoch = 1_281_167 // config.batch_size
    lr = schedules.create_learning_rate_schedule(config, steps_per_epoch=steps_per_epoch,
                                                 num_train_steps=config.num_train_steps)
    max_iter, warmup_iter = 150_136, 780  # 1.0-SqNxt-23v5/solver.prototxt
    assert round(config.warmup_epochs * steps_per_epoch) == warmup_iter
    assert float(lr(0)) == pytest.approx(0.1)
    for step in (warmup_iter, 10_000, 75_068, 150_000):  # Intel Caffe: base_lr·(1 − iter/max_iter)^power
        assert float(lr(step)) == pytest.approx(0.4 * (1 - step / max_iter) ** 2, rel=1e-5)
