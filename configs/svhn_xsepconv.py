"""XSepConv vs MobileNetV3-Small on SVHN (seed 004 §4; recipe in configs/xsepconv_recipe.py).

    python main.py --config=configs/svhn_xsepconv.py:xsep --workdir=...
    arg: mbv3 | xsep

Paper: Table 1 (numbers lost in the seed's text extraction). §4 "SVHN": train on train + extra (604,388
images) without augmentation, channel mean/std; 20 epochs, lr 0.35, cosine with 5 warmup epochs, batch 128,
wd 6e-5, SGD 0.9.
"""

from configs.xsepconv_recipe import xsepconv_config


def get_config(model: str = "xsep"):
    config = xsepconv_config("svhn_cropped", model, learning_rate=0.35, num_epochs=20.0)
    config.data.train_split = "train+extra"
    return config
