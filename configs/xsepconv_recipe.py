"""The training recipe shared by XSepConv's experiments (Chen, Lu, Xue, Liao 2020, "XSepConv: Extremely
Separated Convolution", §4.1 "Training Settings"); not a config file itself: see cifar_xsepconv.py,
svhn_xsepconv.py and tiny_imagenet_xsepconv.py.

From the paper (§4.1): SGD with momentum 0.9 (plain, Nesterov not mentioned); BN after every convolution;
weight decay 6e-5; batch 128; cosine learning-rate decay after a gradual warmup over the first 5 epochs
"following [5]" (Goyal et al. 2017); CIFAR 400 epochs from lr 0.35, SVHN 20 epochs from 0.35, Tiny-ImageNet
200 epochs from 0.15; models implemented in PyTorch. Models (§4.2): MobileNetV3-Small (`mbv3`) against the
same net with XSepConv (`xsep`).

Not stated, and no code was published (docs/references.md#xsepconv); our choices: linear warmup from 0 to
the peak lr, per step (the warmup's start value is not given), then a per-step cosine to 0 over the
remaining steps; weight decay on conv and FC kernels only; BN momentum 0.99 / ε 1e-3 and dropout 0.2 before
the logits, the models' MobileNetV3 defaults (TF-slim's mobilenet training_scope keeps 0.8); no label
smoothing, no averaging; `small_input` geometry for the 32–64 px inputs (the paper's re-implementation does
not give its strides).
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
    config.nesterov = False
    config.learning_rate = learning_rate
    config.schedule = "cosine"
    config.warmup_epochs = 5.0
    config.warmup_init_factor = 0.0
    config.weight_decay = 6e-5
    config.weight_decay_params = "kernels"
    config.log_every_steps = 200
    config.checkpoint_every_steps = 5000
    return config
