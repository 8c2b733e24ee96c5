"""clcNet on ImageNet (Zhang, CVPR 2018; seed 002).

    python main.py --config=configs/imagenet_clcnet.py:A --workdir=gs://BUCKET/clcnet_a
    python main.py --config=configs/imagenet_clcnet.py:B --workdir=...     # clcNet-B
    python main.py --config=configs/imagenet_clcnet.py:Ap --workdir=...    # clcNet-Ap (IGC → GC, §5.2)

Paper results (seed 002, Table 3 / Table 4, single 224 crop): clcNet-A 70.4% top-1 / 89.5% top-5,
clcNet-B 71.6% / 90.3%, clcNet-Ap 67.7% / 87.8%.

Hyperparameters (seed 002 §5 unless noted):
  SGD, momentum 0.9, Nesterov ("default setting in the ResNet codebase ... nesterov momentum is enabled").
  lr 0.1, polynomial schedule with power 1.0 (linear decay), 100 epochs.
  Weight decay 1e-4, "the same for all convolution kernels" → coupled L2 on conv/FC kernels.
  Data: fb.resnet.torch augmentation (random-resized crop, color jitter 0.4, PCA lighting 0.1, flip); eval
  resize 256 / centre crop 224 (input_pipeline's imagenet2012 defaults plus the jitter/lighting below).
  Batch size: not stated; fb.resnet.torch's default is 256 (the codebase the paper says it used).
  BN: per-device statistics, as Torch's multi-GPU DataParallelTable ran (batch_stats averaged per step).
"""

import ml_collections

from configs import default

MODELS = {"A": "clcnet_a", "B": "clcnet_b", "Ap": "clcnet_ap"}


def get_config(variant: str = "A") -> ml_collections.ConfigDict:
    if variant not in MODELS:
        raise ValueError(f"clcNet variant {variant!r}; valid: {', '.join(MODELS)}")
    config = default.get_config("imagenet2012", MODELS[variant])
    config.data.color_jitter = 0.4
    config.data.pca_lighting = 0.1
    config.bn_mode = "per_device"
    config.batch_size = 256
    config.num_epochs = 100.0
    config.optimizer = "sgd"
    config.momentum = 0.9
    config.nesterov = True
    config.learning_rate = 0.1
    config.schedule = "polynomial"
    config.lr_power = 1.0
    config.weight_decay = 1e-4
    config.weight_decay_params = "kernels"
    config.log_every_steps = 500
    config.checkpoint_every_steps = 5000
    return config
