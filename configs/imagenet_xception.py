"""Xception on ImageNet (Chollet, CVPR 2017, "Xception: Deep Learning with Depthwise Separable Convolutions").

    .venv/bin/python main.py --config=configs/imagenet_xception.py --workdir=/tmp/xception

Paper result: Xception Table 1, 79.0% top-1 / 94.5% top-5 (single crop, 299 px).

From the paper: SGD, momentum 0.9, lr 0.045 decayed by 0.94 every 2 epochs (§4.2 "On ImageNet"; applied as
a staircase every 2 epochs, TF exponential_decay(staircase=True) as TF-slim train_image_classifier.py builds
it: our reading); "all models were evaluated using Polyak averaging at inference time" (§4.2) → an
exponential moving average of the weights and BN statistics, decay not stated: our choice 0.9999 with TF's
num_updates warmup, the convention of train_image_classifier.py --moving_average_decay; weight decay 1e-5
(§4.3), read as TF's l2_regularizer (1e-5·Σw²/2; a Keras l2(1e-5) would double it); dropout 0.5 before the
classifier (§4.3, the model's default); no auxiliary tower (§4.3); synchronous data-parallel SGD on 60 K80
GPUs (§4.4).

Not stated in the paper: weight-decay targets (our choice: conv and FC kernels, depthwise included); input
299 px and pixels in [-1, 1] (reference code keras.applications.xception: default_size=299,
preprocess_input mode 'tf'); BN momentum 0.99 and ε 1e-3 (Keras BatchNormalization defaults used by
keras.applications.xception; the model's default); label smoothing (our choice: none); batch size (our
choice: 256); epochs (our choice: 100, Inception V3 §8's, since §4.2 reuses the optimisation configuration
"tuned for best performance with Inception V3"); training augmentation and eval crop (our choice: Inception
crop, area 8–100%, + flip; eval central square of 87.5% of the shorter side).
"""

import ml_collections

from configs import default


def get_config() -> ml_collections.ConfigDict:
    config = default.get_config("imagenet2012", "xception")
    config.data.image_size = 299
    config.data.normalization = "minus_one_to_one"
    config.batch_size = 256
    config.num_epochs = 100.0
    config.optimizer = "sgd"
    config.momentum = 0.9
    config.nesterov = False
    config.learning_rate = 0.045
    config.schedule = "exponential"
    config.lr_decay_rate = 0.94
    config.lr_decay_epochs = 2.0
    config.weight_decay = 1e-5
    config.weight_decay_params = "kernels"
    config.ema_decay, config.ema_warmup = 0.9999, True
    config.log_every_steps = 500
    config.checkpoint_every_steps = 5000
    return config
