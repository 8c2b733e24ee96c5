"""SqueezeNet on ImageNet (Iandola et al. 2016), the official Caffe solver.

    python main.py --config=configs/imagenet_squeezenet.py:squeezenet1_0 --workdir=...
    arg: squeezenet1_0 | squeezenet1_1 | squeezenet1_0_bypass

Paper result (SqueezeNet Table 2, recalled, not in shared/seeds): v1.0 57.5% top-1 / 80.3% top-5; the
forresti/SqueezeNet README states v1.1 matches v1.0's accuracy with 2.4× less computation.

Hyperparameters: forresti/SqueezeNet ``SqueezeNet_v1.0/solver.prototxt`` as recalled (REFERENCE.md §6.3
read the prototxts, not the solver): base_lr 0.04, lr_policy poly power 1.0, max_iter 170,000, momentum
0.9, weight_decay 2e-4, batch 32 × iter_size 16 = 512 → 170,000·512/1,281,167 ≈ 68 epochs. Caffe decays
every blob (biases included; the prototxts set no decay_mult) → 'all'. No BN in SqueezeNet.
"""

import ml_collections

from configs import default

ITERATIONS, BATCH = 170_000, 512


def get_config(model: str = "squeezenet1_0") -> ml_collections.ConfigDict:
    config = default.get_config("imagenet2012", model)
    config.data.image_size = 227 if model.startswith("squeezenet1_0") else 224
    config.batch_size = BATCH
    config.num_epochs = ITERATIONS * BATCH / 1_281_167
    config.optimizer = "sgd"
    config.momentum = 0.9
    config.learning_rate = 0.04
    config.schedule = "polynomial"
    config.lr_power = 1.0
    config.weight_decay = 2e-4
    config.weight_decay_params = "all"
    config.log_every_steps = 200
    config.checkpoint_every_steps = 2000
    return config
