"""XSepConv vs MobileNetV3-Small on CIFAR-10/100 (Chen et al. 2020, "XSepConv: Extremely Separated
Convolution", §4; the shared recipe and its sources are in configs/xsepconv_recipe.py).

    .venv/bin/python main.py --config=configs/cifar_xsepconv.py:cifar100,xsep --workdir=/tmp/xsep_c100
    arg: {cifar10, cifar100},{mbv3, xsep}

Paper result: XSepConv Table 1 compares the top-1 of XSepConv and depthwise convolution on CIFAR-10/100 (its
numbers were not available to us; compare mbv3 against xsep under this same recipe).

From the paper (§4.1): 400 epochs from lr 0.35, cosine after 5 warmup epochs, batch 128, weight decay 6e-5,
SGD momentum 0.9; pad 4 zeros, random 32 crop, horizontal flip, channel mean/std normalisation ("CIFAR");
eval on the unaugmented 32 px test images.
"""

from configs.xsepconv_recipe import xsepconv_config

DATASETS = ("cifar10", "cifar100")


def get_config(arg: str = "cifar10,xsep"):
    dataset, _, model = arg.partition(",")
    if dataset not in DATASETS:
        raise ValueError(f"dataset {dataset!r}; valid: {', '.join(DATASETS)}")
    return xsepconv_config(dataset, model or "xsep", learning_rate=0.35, num_epochs=400.0)
