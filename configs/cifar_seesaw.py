"""SeesawNet / IGCV3 on CIFAR-10/100 (Jintao Zhang 2019, "SeesawNet: Convolution Neural Network With Uneven
Group Convolution", §5.1 "CIFAR").

    .venv/bin/python main.py --config=configs/cifar_seesaw.py:cifar10,shuffle_d100 --workdir=/tmp/seesaw_c10
    arg: {cifar10, cifar100},{shuffle, share, igcv3}_{d100, d050}

Paper results: SeesawNet Table 3 (CIFAR-10) Seesaw-shuffleNet 1.0D 95.28%, 0.5D 95.10%, IGCV3 1.0D 95.01%;
Table 4 (CIFAR-100) Seesaw-shuffleNet 1.0D 79.26%, 0.5D 77.82%, IGCV3 1.0D 78.24%.

From the paper (§5.1): SGD, momentum 0.9, weight decay 1e-4, lr 0.1 divided by 10 at epochs 200, 300 and
350, batch 64; pad 4 + random 32 crop + flip, normalised by the channel means. Epochs: 400, the paper's
schedule ends after its last boundary at 350, and the reference configs (below) run 400.

From the reference code, cvtower/SeesawNet_pytorch cifar_test/baseline_version (train.py,
config/cifar100_test_exp_cv3.json, cifar100data.py), where the paper is silent: plain momentum
(torch.optim.SGD); weight decay on model.parameters(), BN γ/β and biases included → 'all'; num_epochs 400;
dropout 0.5 before the classifier (dropout_prob; the models' default with small_input); Normalize(mean, std)
per channel; CIFAR geometry "downsampling": 4 (small_input: stride-1 stem, total stride 4;
docs/references.md#seesawnet); BN momentum 0.1 (Flax 0.9), ε 1e-5, the models' default. The baseline code
decays lr ×0.98 per epoch (adjust_learning_rate); the paper's stated multistep schedule is followed.
Deviation kept: BN over the global batch of 64 (the reference's nn.DataParallel on 2 GPUs normalised 32 per
GPU: --config.bn_mode=per_device on 2 devices). No label smoothing, no averaging.
"""

import ml_collections

from configs import default
from configs.imagenet_seesaw import model_name

DATASETS = ("cifar10", "cifar100")


def get_config(arg: str = "cifar10,shuffle_d100") -> ml_collections.ConfigDict:
    dataset, _, model = arg.partition(",")
    if dataset not in DATASETS:
        raise ValueError(f"dataset {dataset!r}; valid: {', '.join(DATASETS)}")
    config = default.get_config(dataset, model_name(model or "shuffle_d100"), small_input=True)
    config.batch_size = 64
    config.num_epochs = 400.0
    config.optimizer = "sgd"
    config.momentum = 0.9
    config.nesterov = False
    config.learning_rate = 0.1
    config.schedule = "multistep"
    config.lr_boundaries_epochs = (200, 300, 350)
    config.lr_boundary_factor = 0.1
    config.weight_decay = 1e-4
    config.weight_decay_params = "all"
    config.log_every_steps = 200
    config.checkpoint_every_steps = 5000
    return config
