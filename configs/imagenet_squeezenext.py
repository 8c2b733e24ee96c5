"""SqueezeNext on ImageNet (Gholami et al., CVPR 2018 workshops, "SqueezeNext: Hardware-Aware Neural Network
Design"), the official Intel Caffe solver.

    .venv/bin/python main.py --config=configs/imagenet_squeezenext.py:sqnxt23_100 --workdir=/tmp/sqnxt23
    arg: any of sqnxt23_100, sqnxt23_200, g_sqnxt23_100, sqnxt23v5_100, sqnxt34_100, sqnxt44_100

Paper result (the paper's ImageNet results table; table number not verified here): 1.0-SqNxt-23 59.05% top-1
/ 82.60% top-5, 1.0-SqNxt-23v5 59.24% / 82.41%.

Training hyperparameters come from the reference code, amirgholami/SqueezeNext, whose README says every
network was trained with the same hyperparameters on 32 Intel KNL nodes with Intel Caffe:
1.0-SqNxt-23v5/solver.prototxt (run directory "e120 ... b_1024 lr_0.4") — base_lr 0.4, lr_policy "poly"
power 2 (every iteration), max_iter 150,136 (120 epochs at batch 1,024), momentum 0.9, weight_decay 1e-4,
warmup_iter 780 (≈ 0.62 epoch) linear from warmup_start_lr 0.1 (Intel Caffe sgd_solver.cpp GetWarmUpLR).
Caffe's SGD puts the lr inside the momentum history (lr_in_momentum) and decays every learnable blob with
the default decay_mult 1: conv weights and the Scale layers' γ/β (train_val.prototxt sets decay_mult 0 only
on the BatchNorm statistics) → 'all'. BatchNorm: moving_average_fraction .999 and eps 1e-5 (caffe.proto
defaults) → bn_momentum 0.999. train_val.prototxt data layer: batch 32 per node, crop_size 227, mean_value
104/117/123 (BGR) on 0–255 pixels, no mirror; the unpadded stem conv (caffe_stem) for the 227 crop
(docs/references.md#squeezenext). Input handling as configs/imagenet_squeezenet.py. No dropout, no label
smoothing, no averaging.

After the warmup Intel Caffe evaluates the poly on the absolute iteration, 0.4·(1 − iter/150,136)²; our
polynomial runs over the steps left after the warmup, so learning_rate is set to 0.4·(1 − 780/150,136)²
≈ 0.3959, which makes every post-warmup step's lr equal Caffe's exactly.

Deviations kept: the warmup therefore rises from 0.1 to 0.3959 instead of towards 0.4 (≤ 1% lower over
its 780 steps); the Caffe random-crop-of-256×256 augmentation is replaced by the Inception crop (see
imagenet_squeezenet.py); BN over the global batch (each KNL node normalised its own 32).
"""

import ml_collections

from configs import default
from configs.imagenet_squeezenet import caffe_input

ITERATIONS, BATCH, WARMUP_ITERATIONS = 150_136, 1_024, 780
BASE_LR, WARMUP_START_LR = 0.4, 0.1
IMAGENET_TRAIN_IMAGES = 1_281_167
# Caffe's poly on the absolute iteration, re-based to start where our post-warmup polynomial starts.
PEAK_LR = BASE_LR * (1 - WARMUP_ITERATIONS / ITERATIONS) ** 2


def get_config(model: str = "sqnxt23_100") -> ml_collections.ConfigDict:
    config = default.get_config("imagenet2012", model, caffe_stem=True, bn_momentum=0.999, bn_epsilon=1e-5)
    caffe_input(config)
    config.batch_size = BATCH
    config.num_train_steps = ITERATIONS
    config.optimizer = "sgd"
    config.momentum = 0.9
    config.nesterov = False
    config.lr_in_momentum = True
    config.learning_rate = PEAK_LR
    config.schedule = "polynomial"
    config.lr_power = 2.0
    config.warmup_epochs = WARMUP_ITERATIONS * BATCH / IMAGENET_TRAIN_IMAGES
    config.warmup_init_factor = WARMUP_START_LR / PEAK_LR
    config.weight_decay = 1e-4
    config.weight_decay_params = "all"
    config.log_every_steps = 200
    config.checkpoint_every_steps = 2000
    return config
