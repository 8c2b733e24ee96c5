"""ShuffleNet V1 / V2 on ImageNet (Zhang et al. CVPR 2018, "ShuffleNet: An Extremely Efficient Convolutional
Neural Network for Mobile Devices"; Ma et al. ECCV 2018, "ShuffleNet V2: Practical Guidelines for Efficient
CNN Architecture Design").

    .venv/bin/python main.py --config=configs/imagenet_shufflenet.py:shufflenet_v1_g3_100 --workdir=/tmp/snv1
    .venv/bin/python main.py --config=configs/imagenet_shufflenet.py:shufflenet_v2_100 --workdir=/tmp/snv2
    arg: any registered shufflenet_v1_* / shufflenet_v2_* name

Paper results: ShuffleNet 1× (g = 3) 32.6% top-1 error, i.e. 67.4% top-1 (ShuffleNet Table 3). ShuffleNet V2
1× 30.6% error / 69.4% top-1 as the reference README lists it (megvii-model/ShuffleNet-Series
ShuffleNetV2/README.md; the paper's Table 8 figure is not verified here); the ShuffleNetV1 README lists 32.2%
error for 1.0x g=3 with this code.

From the papers: ShuffleNet §4 — weight decay 4e-5, "linear-decay learning rate policy (decreased from 0.5
to 0)", batch 1024 on 4 GPUs, 3×10^5 iterations (≈ 240 epochs), single 224 centre crop from a 256 input for
eval, "slightly less aggressive scale augmentation" (no value); ShuffleNet V2 §4 — "other hyper-parameters
and protocols are exactly the same as ShuffleNet v1".

From the reference code, megvii-model/ShuffleNet-Series ShuffleNetV1/train.py and ShuffleNetV2/train.py
(identical recipes), where the papers are silent: SGD momentum 0.9 (no Nesterov); lr·(1 − step/300000) set
every iteration (LambdaLR); weight decay only on parameters named 'weight' with more than one dimension
(utils.get_parameters: conv and FC kernels, depthwise included; BN γ/β and biases not) → 'kernels'; label
smoothing 0.1 (CrossEntropyLabelSmooth); train RandomResizedCrop(224) (the torchvision default area 8–100%,
aspect 3/4–4/3), ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4), flip; eval resize 256 (shorter
side, bilinear) + CenterCrop(224); no mean/std normalisation (ToBGRTensor feeds 0–255 pixels) → mean 0,
std 1/255 (channel order is immaterial from scratch); BN momentum 0.1 (Flax 0.9), ε 1e-5, the models'
default; dropout 0.2 only in V2 2× (network.py; the registered variants set it). No averaging.

Deviations kept: the code's colour jitter is torchvision's ColorJitter, ours is the fb.resnet.torch-style
jitter of the same strength; BN over the global batch (the paper's 4 GPUs normalised 256 each:
--config.bn_mode=per_device on 4 devices); the code's final pass that re-estimates BN statistics with a
cumulative average over one more epoch at lr 0 (train.py bn_process) is not run.
"""

import ml_collections

from configs import default

ITERATIONS, BATCH = 300_000, 1_024


def get_config(model: str = "shufflenet_v2_100") -> ml_collections.ConfigDict:
    if not model.startswith(("shufflenet_v1_", "shufflenet_v2_")):
        raise ValueError(f"model {model!r}; valid: a shufflenet_v1_* or shufflenet_v2_* name")
    config = default.get_config("imagenet2012", model)
    config.data.color_jitter = 0.4
    config.data.mean, config.data.std = (0.0, 0.0, 0.0), (1 / 255,) * 3
    config.batch_size = BATCH
    config.num_train_steps = ITERATIONS
    config.optimizer = "sgd"
    config.momentum = 0.9
    config.nesterov = False
    config.learning_rate = 0.5
    config.schedule = "polynomial"
    config.lr_power = 1.0
    config.weight_decay = 4e-5
    config.weight_decay_params = "kernels"
    config.label_smoothing = 0.1
    config.log_every_steps = 200
    config.checkpoint_every_steps = 2000
    return config
