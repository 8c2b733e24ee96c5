"""XSepConv vs MobileNetV3-Small on Tiny-ImageNet (seed 004 §4; recipe in configs/xsepconv_recipe.py).

    python main.py --config=configs/tiny_imagenet_xsepconv.py:xsep --workdir=...
    arg: mbv3 | xsep    (needs tiny-imagenet-200.zip in data.manual_dir)

Paper: Table 1 (numbers lost in the seed's text extraction; §4.2 reports XSepConv +0.5% top-1 with 4.75%
fewer FLOPs than DWConv on Tiny-ImageNet). §4: random-resized crop (≥ 8% area, aspect 3/4–4/3) to 56 +
flip, channel mean/std; 200 epochs, lr 0.15, cosine with 5 warmup epochs, batch 128, wd 6e-5, SGD 0.9.
"""

from configs.xsepconv_recipe import xsepconv_config


def get_config(model: str = "xsep"):
    return xsepconv_config("tiny_imagenet", model, learning_rate=0.15, num_epochs=200.0)
