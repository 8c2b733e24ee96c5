"""Every config file loads for its documented args and names registered models and valid choices."""

import importlib

import pytest

from lightnets import list_models
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
