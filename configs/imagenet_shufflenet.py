"""ShuffleNet V1 / V2 on ImageNet (Zhang et al. CVPR 2018; Ma et al. ECCV 2018).

    python main.py --config=configs/imagenet_shufflenet.py:shufflenet_v1_g3_100 --workdir=...
    python main.py --config=configs/imagenet_shufflenet.py:shufflenet_v2_100 --workdir=...
    arg: any registered shufflenet_v1_* / shufflenet_v2_* name

Paper results (recalled, not in shared/seeds): V1 1x g=3 32.6% top-1 error (Table 2: 67.4% top-1); V2 1x
69.4% top-1 (V2 Table 8). clcNet's Table 5 (seed 002) quotes "ShuffleNet 2× 70.9% (v1), 524M, 5.3M".

Hyperparameters: ShuffleNet V1 §4 "weight decay 4e-5, linear-decay learning rate policy (decreased from 0.5
to 0), batch size 1024, 3×10^5 iterations"; V2 follows V1's settings. megvii-model/ShuffleNet-Series
train.py (recalled): SGD momentum 0.9, lr·(1 − step/total) per step, label smoothing 0.1, weight decay only
on conv/FC weights. 300,000 iterations × 1,024 / 1,281,167 ≈ 240 epochs.
"""

import ml_collections

from configs import default

ITERATIONS, BATCH = 300_000, 1_024


def get_config(model: str = "shufflenet_v2_100") -> ml_collections.ConfigDict:
    if not model.startswith(("shufflenet_v1_", "shufflenet_v2_")):
        raise ValueError(f"model {model!r}; valid: a shufflenet_v1_* or shufflenet_v2_* name")
    config = default.get_config("imagenet2012", model)
    config.batch_size = BATCH
    config.num_train_steps = ITERATIONS
    config.optimizer = "sgd"
    config.momentum = 0.9
    config.learning_rate = 0.5
    config.schedule = "polynomial"
    config.lr_power = 1.0
    config.weight_decay = 4e-5
    config.weight_decay_params = "kernels"
    config.label_smoothing = 0.1
    config.log_every_steps = 200
    config.checkpoint_every_steps = 2000
    return config
