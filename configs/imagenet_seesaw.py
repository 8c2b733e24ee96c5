"""SeesawNet / IGCV3 on ImageNet (Zhang 2019, seed 000 §5.1).

    python main.py --config=configs/imagenet_seesaw.py:shuffle_d100 --workdir=...
    arg: {shuffle, share, igcv3}_{d100, d050}

Paper result (seed 000 Table 5): Seesaw-shuffleNet 1.0D 72.9% top-1 (3.6M params, 361M MAdds); IGCV3 1.0D
72.2%; the reference training log (REFERENCE.md §1) peaks at 72.91%.

Hyperparameters (seed 000 §5.1 "ImageNet"): SGD momentum 0.9, batch size 96, weight decay 4e-5, lr 0.045
multiplied by 0.98 every epoch, 400 epochs, Inception augmentation, eval resize 256 / centre crop 224.
Weight decay on conv/FC kernels (the paper does not say otherwise). BN: per-device statistics as in the
PyTorch reference's DataParallel.
"""

import ml_collections

from configs import default

FAMILIES = {"shuffle": "seesaw_shuffle", "share": "seesaw_share", "igcv3": "igcv3"}
DEPTHS = ("d100", "d050")


def model_name(arg: str) -> str:
    family, _, depth = arg.partition("_")
    if family not in FAMILIES or depth not in DEPTHS:
        raise ValueError(f"model {arg!r}; valid: {{{', '.join(FAMILIES)}}}_{{{', '.join(DEPTHS)}}}")
    return f"{FAMILIES[family]}_{depth}"


def get_config(arg: str = "shuffle_d100") -> ml_collections.ConfigDict:
    config = default.get_config("imagenet2012", model_name(arg))
    config.bn_mode = "per_device"
    config.batch_size = 96
    config.num_epochs = 400.0
    config.optimizer = "sgd"
    config.momentum = 0.9
    config.nesterov = False
    config.learning_rate = 0.045
    config.schedule = "exponential"
    config.lr_decay_rate = 0.98
    config.lr_decay_epochs = 1.0
    config.weight_decay = 4e-5
    config.weight_decay_params = "kernels"
    config.log_every_steps = 500
    config.checkpoint_every_steps = 5000
    return config
