"""XSepConv vs MobileNetV3-Small on SVHN (Chen et al. 2020, "XSepConv: Extremely Separated Convolution", §4;
the shared recipe and its sources are in configs/xsepconv_recipe.py).

    .venv/bin/python main.py --config=configs/svhn_xsepconv.py:xsep --workdir=/tmp/xsep_svhn
    arg: mbv3 | xsep

Paper result: XSepConv Table 1 (its numbers were not available to us; compare mbv3 against xsep under this
same recipe).

From the paper (§4.1 "SVHN" and "Training Settings"): train on train + extra (604,388 images) without any
augmentation, channel mean/std normalisation; 20 epochs from lr 0.35, cosine after 5 warmup epochs,
batch 128, weight decay 6e-5, SGD momentum 0.9.
"""

from configs.xsepconv_recipe import xsepconv_config


def get_config(model: str = "xsep"):
    config = xsepconv_config("svhn_cropped", model, learning_rate=0.35, num_epochs=20.0)
    config.data.train_split = "train+extra"
    return config
