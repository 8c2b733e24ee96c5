"""clcNet on ImageNet (Dong-Qing Zhang, CVPR 2018, "clcNet: Improving the Efficiency of Convolutional Neural
Network using Channel Local Convolutions").

    .venv/bin/python main.py --config=configs/imagenet_clcnet.py:A --workdir=gs://BUCKET/clcnet_a
    .venv/bin/python main.py --config=configs/imagenet_clcnet.py:B --workdir=gs://BUCKET/clcnet_b
    .venv/bin/python main.py --config=configs/imagenet_clcnet.py:Ap --workdir=...   # IGC → GC, §5.2

Paper results (single 224 crop): clcNet-A 70.4% top-1 / 89.5% top-5, clcNet-B 71.6% / 90.3% (clcNet
Table 3); clcNet-Ap 67.7% / 87.8% (Table 4).

From the paper (§5): SGD, momentum 0.9, Nesterov ("the default setting in the ResNet codebase"); lr 0.1,
polynomial schedule with power 1.0 (linear decay); 100 epochs; weight decay 1e-4, "the same for all
convolution kernels"; fb.resnet.torch augmentation and single-crop eval.

From the reference code, dqzhang17/clcnet.torch (a fork of facebook/fb.resnet.torch), where the paper is
silent: train.lua learningRate_linear sets lr·(1 − step/total_steps) every iteration (per step, to 0) and
optim.sgd runs with nesterov=true, dampening 0; weight decay on every parameter — optim.sgd adds
weightDecay·x to the gradient of the whole flattened parameter vector (torch/optim sgd.lua), BN γ/β and the FC
bias included → 'all' (the paper's sentence contrasts with MobileNet's depthwise/pointwise split and does
not exclude them); batch 256 on 4 GPUs (README command `-nGPU 4 -batchSize 256`), each GPU normalising its own
64 images (bn_mode 'per_device'; 64 per device needs 4 devices); BN momentum 0.1 (Flax 0.9) and ε 1e-5,
nn.SpatialBatchNormalization's defaults (the model's default); no dropout, no label smoothing, no averaging.
Data, fb.resnet.torch datasets/imagenet.lua and transforms.lua: RandomSizedCrop 224 (area 8–100%, aspect
3/4–4/3), ColorJitter 0.4, PCA lighting 0.1, flip, mean/std normalisation; eval Scale(256) + CenterCrop(224);
all resizing bicubic.
"""

import ml_collections

from configs import default

MODELS = {"A": "clcnet_a", "B": "clcnet_b", "Ap": "clcnet_ap"}


def get_config(variant: str = "A") -> ml_collections.ConfigDict:
    if variant not in MODELS:
        raise ValueError(f"clcNet variant {variant!r}; valid: {', '.join(MODELS)}")
    config = default.get_config("imagenet2012", MODELS[variant])
    config.data.color_jitter = 0.4
    config.data.pca_lighting = 0.1
    config.data.resize_method = "bicubic"
    config.bn_mode = "per_device"
    config.batch_size = 256
    config.num_epochs = 100.0
    config.optimizer = "sgd"
    config.momentum = 0.9
    config.nesterov = True
    config.learning_rate = 0.1
    config.schedule = "polynomial"
    config.lr_power = 1.0
    config.weight_decay = 1e-4
    config.weight_decay_params = "all"
    config.log_every_steps = 500
    config.checkpoint_every_steps = 5000
    return config
