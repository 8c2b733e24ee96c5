"""XSepConv vs MobileNetV3-Small on Tiny-ImageNet (Chen et al. 2020, "XSepConv: Extremely Separated
Convolution", §4; the shared recipe and its sources are in configs/xsepconv_recipe.py).

    .venv/bin/python main.py --config=configs/tiny_imagenet_xsepconv.py:xsep --workdir=/tmp/xsep_tiny
    arg: mbv3 | xsep    (needs tiny-imagenet-200.zip in data.manual_dir)

Paper result: XSepConv Table 1 (its numbers were not available to us); §4.2 reports XSepConv +0.5% top-1
with 4.75% fewer FLOPs than depthwise convolution on Tiny-ImageNet.

From the paper (§4.1 "Tiny-ImageNet" and "Training Settings"): random crop of at least 8% of the area with
aspect ratio in [3/4, 4/3], resized to 56, horizontal flip, channel mean/std normalisation; 200 epochs from
lr 0.15, cosine after 5 warmup epochs, batch 128, weight decay 6e-5, SGD momentum 0.9. Eval crop: not
stated; our choice: the central 56 of the 64 px image.
"""

from configs.xsepconv_recipe import xsepconv_config


def get_config(model: str = "xsep"):
    return xsepconv_config("tiny_imagenet", model, learning_rate=0.15, num_epochs=200.0)
