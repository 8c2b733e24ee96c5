"""The training recipe shared by XSepConv's experiments (Chen et al. 2020, seed 004 §4); not a config file
itself: see cifar_xsepconv.py, svhn_xsepconv.py and tiny_imagenet_xsepconv.py.

Seed 004 §4 "Training Settings": SGD momentum 0.9, BN after every conv, weight decay 6e-5, batch size 128,
cosine decay with a gradual (linear) warmup over the first 5 epochs (following Goyal et al. [5]);
CIFAR: 400 epochs from lr 0.35; SVHN: 20 epochs from 0.35; Tiny-ImageNet: 200 epochs from 0.15.
Models (§4.2): MobileNetV3-Small (``mbv3``) vs the same with XSepConv (``xsep``). Weight decay on conv/FC
kernels (not stated otherwise). ``small_input`` geometry for 32–56 px inputs is ours: the paper's
re-implementation does not give its strides. Table 1's accuracies did not survive the seed's text
extraction; compare mbv3 vs xsep under this same recipe.
"""

import ml_collections

from configs import default

MODELS = {"mbv3": "mobilenet_v3_small_100", "xsep": "mobilenet_v3_small_xsep"}


def xsepconv_config(dataset: str, model: str, *, learning_rate: float, num_epochs: float) -> ml_collections.ConfigDict:
    if model not in MODELS:
        raise ValueError(f"model {model!r}; valid: {', '.join(MODELS)}")
    config = default.get_config(dataset, MODELS[model], small_input=True)
    config.batch_size = 128
    config.num_epochs = num_epochs
    config.optimizer = "sgd"
    config.momentum = 0.9
    config.learning_rate = learning_rate
    config.schedule = "cosine"
    config.warmup_epochs = 5.0
    config.weight_decay = 6e-5
    config.weight_decay_params = "kernels"
    config.log_every_steps = 200
    config.checkpoint_every_steps = 5000
    return config
