"""XSepConv vs MobileNetV3-Small on CIFAR-10/100 (seed 004 §4; recipe in configs/xsepconv_recipe.py).

    python main.py --config=configs/cifar_xsepconv.py:cifar100,xsep --workdir=...
    arg: {cifar10, cifar100},{mbv3, xsep}

Paper: Table 1 compares top-1 of XSepConv and DWConv on CIFAR-10/100 (numbers lost in the seed's text
extraction); 400 epochs, lr 0.35, cosine with 5 warmup epochs, batch 128, wd 6e-5, SGD 0.9 (§4); data: pad 4,
random crop 32, flip, channel mean/std (§4 "CIFAR").
"""

from configs.xsepconv_recipe import xsepconv_config

DATASETS = ("cifar10", "cifar100")


def get_config(arg: str = "cifar10,xsep"):
    dataset, _, model = arg.partition(",")
    if dataset not in DATASETS:
        raise ValueError(f"dataset {dataset!r}; valid: {', '.join(DATASETS)}")
    return xsepconv_config(dataset, model or "xsep", learning_rate=0.35, num_epochs=400.0)
