"""SeesawNet / IGCV3 on CIFAR-10/100 (Zhang 2019, seed 000 §5.1 "CIFAR").

    python main.py --config=configs/cifar_seesaw.py:cifar10,shuffle_d100 --workdir=...
    arg: {cifar10, cifar100},{shuffle, share, igcv3}_{d100, d050}

Paper results (seed 000): Table 3 (CIFAR-10) Seesaw-shuffleNet 1.0D 95.28%, 0.5D 95.10%, IGCV3 1.0D 95.01%;
Table 4 (CIFAR-100) Seesaw-shuffleNet 1.0D 79.26%, 0.5D 77.82%, IGCV3 1.0D 78.24%.

Hyperparameters (seed 000 §5.1): SGD momentum 0.9, weight decay 1e-4, lr 0.1 divided by 10 at epochs 200,
300 and 350, 400 epochs (the schedule's end: the last boundary at 350 of 400), batch size 64; pad 4 + random
crop 32 + flip, channel normalisation. CIFAR geometry (``small_input``: stride-1 stem, total stride 4, as the
reference code's ``downsampling: 4``; REFERENCE.md §1.4) with dropout 0.5 before the classifier (reference
code; the models default to it with ``small_input``). Weight decay on conv/FC kernels (the paper does not say otherwise).
"""

import ml_collections

from configs import default
from configs.imagenet_seesaw import model_name

DATASETS = ("cifar10", "cifar100")


def get_config(arg: str = "cifar10,shuffle_d100") -> ml_collections.ConfigDict:
    dataset, _, model = arg.partition(",")
    if dataset not in DATASETS:
        raise ValueError(f"dataset {dataset!r}; valid: {', '.join(DATASETS)}")
    # small_input: dropout 0.5 follows (the model's default with small_input).
    config = default.get_config(dataset, model_name(model or "shuffle_d100"), small_input=True)
    config.batch_size = 64
    config.num_epochs = 400.0
    config.optimizer = "sgd"
    config.momentum = 0.9
    config.learning_rate = 0.1
    config.schedule = "multistep"
    config.lr_boundaries_epochs = (200, 300, 350)
    config.lr_boundary_factor = 0.1
    config.weight_decay = 1e-4
    config.weight_decay_params = "kernels"
    config.log_every_steps = 200
    config.checkpoint_every_steps = 5000
    return config
