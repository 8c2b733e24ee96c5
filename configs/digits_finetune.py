"""Fine-tuning from published weights on ``digits``: the digits recipe, started from ``init_from``.

    .venv/bin/python -m lightnets.pretrained.convert shufflenet_v2_x0_5 shufflenetv2_x0.5-f707e7126e.pth /tmp/sv2.msgpack
    .venv/bin/python main.py --config=configs/digits_finetune.py --config.init_from=/tmp/sv2.msgpack \
        --workdir=/tmp/digits_finetune

The config arg is ``MODEL[,field=value...]`` as in ``configs/digits.py``; the default, ``shufflenet_v2_x0_5``, has
published torchvision weights (any model of ``lightnets.pretrained.SOURCES`` does; so does a lightnets weights
file of the same model written by ``main.py --mode=save_weights``). ImageNet's 1000-class classifier does not
fit digits' 10 classes, so it starts fresh; every other layer starts from the weights. Without ``init_from`` the
run is the same recipe from random initialisation: the baseline to compare with.

Recipe (ours; no paper fine-tunes on digits): the digits recipe (``configs/digits.py``: SGD, Nesterov
momentum 0.9, batch 64, linear warmup then linear decay, weight decay 1e-4 on kernels) for 10 epochs instead
of 40, evaluated every epoch, at lr 0.01 — half the from-scratch lr, the usual fine-tuning choice of a smaller
step so the imported features are not destroyed before the new classifier has learnt.
"""

import ml_collections

from configs import digits

DEFAULT_MODEL = "shufflenet_v2_x0_5"


def get_config(arg: str = DEFAULT_MODEL) -> ml_collections.ConfigDict:
    config = digits.get_config(arg)
    config.num_epochs = 10.0
    config.learning_rate = 0.01
    config.eval_every_epochs = 1.0
    return config
