"""SqueezeNext on ImageNet (Gholami et al., CVPR 2018), the official Caffe solver.

    python main.py --config=configs/imagenet_squeezenext.py:sqnxt23_100 --workdir=...
    arg: any of sqnxt23_100, sqnxt23_200, g_sqnxt23_100, sqnxt23v5_100, sqnxt34_100, sqnxt44_100

Paper result (SqueezeNext Table 2, recalled, not in shared/seeds): 1.0-SqNxt-23 59.05% top-1 / 82.60% top-5.

Hyperparameters: amirgholami/SqueezeNext ``1.0-SqNxt-23v5/solver.prototxt`` (the run directory name says
"e120 ... b_1024 lr_0.4"): base_lr 0.4, lr_policy poly with power 2, max_iter 150,136 (= 120 epochs at
batch 1,024), momentum 0.9, weight_decay 1e-4, warmup_iter 780 (≈ 0.62 epoch) from warmup_start_lr 0.1.
Caffe applies weight_decay to every learnable blob that sets no decay_mult → 'all' (our reading).
"""

import ml_collections

from configs import default

ITERATIONS, BATCH = 150_136, 1_024


def get_config(model: str = "sqnxt23_100") -> ml_collections.ConfigDict:
    config = default.get_config("imagenet2012", model)
    config.batch_size = BATCH
    config.num_epochs = ITERATIONS * BATCH / 1_281_167
    config.optimizer = "sgd"
    config.momentum = 0.9
    config.learning_rate = 0.4
    config.schedule = "polynomial"
    config.lr_power = 2.0
    config.warmup_epochs = 780 * BATCH / 1_281_167
    config.warmup_init_factor = 0.1 / 0.4
    config.weight_decay = 1e-4
    config.weight_decay_params = "all"
    config.log_every_steps = 200
    config.checkpoint_every_steps = 2000
    return config
