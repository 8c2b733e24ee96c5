"""SeesawNet / IGCV3 on ImageNet (Jintao Zhang 2019, "SeesawNet: Convolution Neural Network With Uneven Group
Convolution", §5.1 "ImageNet").

    .venv/bin/python main.py --config=configs/imagenet_seesaw.py:shuffle_d100 --workdir=/tmp/seesaw
    arg: {shuffle, share, igcv3}_{d100, d050}

Paper result (SeesawNet Table 5): Seesaw-shuffleNet 1.0D 72.9% top-1 (3.6M params, 361M MAdds); IGCV3 1.0D
72.2%. The reference training log (cvtower/SeesawNet_pytorch log.txt) peaks at 72.91%.

From the paper (§5.1): SGD, momentum 0.9, batch 96, weight decay 4e-5, lr 0.045 × 0.98 every epoch,
400 epochs, Inception augmentation, eval rescale to 256 and 224 centre crop, no other augmentation.

From the reference code, cvtower/SeesawNet_pytorch code/imagenet.py, where the paper is silent: plain
momentum (torch.optim.SGD, no Nesterov); the lr set once per epoch, 0.045·0.98^epoch (adjust_learning_rate
'step' mode, also the learning-rate column of log.txt) → a staircase per epoch; weight decay on
model.parameters(), BN γ/β and the FC bias included → 'all'; train RandomResizedCrop(224) (area 8–100%,
aspect 3/4–4/3) + flip, mean/std normalisation; eval Resize(256) on the shorter side + CenterCrop(224) (the
paper writes "rescaling to 256*256"; we follow the code, which our pipeline matches); no dropout
(code/models/imagenet/seesaw.py comments it out); BN momentum 0.1 (Flax 0.9), ε 1e-5 (PyTorch defaults, the
model's default); nn.DataParallel over the default --gpu-id '0, 1', so each GPU normalised its own 48
images (bn_mode 'per_device'; 48 per device needs 2 devices). The script's --epochs default is 480; the
paper's 400 is followed. No label smoothing, no averaging.

igcv3_* trains IGCV3 under this same recipe (a like-for-like baseline); Table 5's 72.2% comes from IGCV3's
own training, which §5.1 describes as changing the learning rate and augmentation by hand; not reproduced.
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
    config.weight_decay_params = "all"
    config.log_every_steps = 500
    config.checkpoint_every_steps = 5000
    return config
