"""Xception on ImageNet (Chollet, CVPR 2017).

    python main.py --config=configs/imagenet_xception.py --workdir=...

Paper result (Xception Table 1, recalled, not in shared/seeds): 79.0% top-1 / 94.5% top-5 at 299 px.

Hyperparameters (Xception §4.3 "Training infrastructure"/"Optimization configuration", recalled): SGD,
momentum 0.9, initial lr 0.045 decayed ×0.94 every 2 epochs, weight decay 1e-5, dropout 0.5 before the
classifier (model default), Polyak averaging at inference (→ EMA of params; decay 0.9999 is ours), 299 px
inputs. Batch size and epochs are not stated (60 K80 GPUs, ~3 days); we use batch 256 (TF-slim default
scale) and 100 epochs.
"""

import ml_collections

from configs import default


def get_config() -> ml_collections.ConfigDict:
    config = default.get_config("imagenet2012", "xception")
    config.data.image_size = 299
    config.batch_size = 256
    config.num_epochs = 100.0
    config.optimizer = "sgd"
    config.momentum = 0.9
    config.learning_rate = 0.045
    config.schedule = "exponential"
    config.lr_decay_rate = 0.94
    config.lr_decay_epochs = 2.0
    config.weight_decay = 1e-5
    config.weight_decay_params = "kernels"
    config.ema_decay = 0.9999
    config.log_every_steps = 500
    config.checkpoint_every_steps = 5000
    return config
