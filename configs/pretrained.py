"""Evaluation of published ImageNet weights with the preprocessing they were measured with.

    .venv/bin/python main.py --config=configs/pretrained.py:mobilenet_v2_100 --mode=eval \
        --weights=mobilenet_v2_100.msgpack --config.data.manual_dir=/data/imagenet
    arg: a model with published PyTorch weights (lightnets.pretrained.SOURCES): mobilenet_v2_100,
    mobilenet_v3_small_100, shufflenet_v2_x0_5, shufflenet_v2_x1_0, shufflenet_v2_x1_5, shufflenet_v2_x2_0,
    squeezenet1_0, squeezenet1_1 (torchvision); mobilenet_v1_100, xception (timm)

``--weights`` takes the file written by lightnets.pretrained.convert, or the state_dict itself;
the eval prints our ImageNet-1k validation top-1/top-5 beside the published figure (docs/models.md,
"Pretrained weights"). The data config follows the source's evaluation: centre square of ``crop_fraction`` ×
the shorter side (torchvision's 224 of 256, timm's crop_pct), resized to ``image_size`` with its interpolation
(antialiased), scaled to [0, 1], normalised by its mean/std. torchvision resizes the whole image to 256 and
then crops 224; cropping first and resizing the crop covers the same pixels, filtered once instead of twice.
The model options are the source's (``act='relu6'`` for timm's MobileNet V1, ``bn_epsilon=1e-5`` for timm's
Keras Xception). The training fields are the defaults; to fine-tune from the weights, set ``init_from``.
"""

import ml_collections

from configs import default
from lightnets import pretrained


def get_config(model: str = "mobilenet_v2_100") -> ml_collections.ConfigDict:
    source = pretrained.get_source(model)
    config = default.get_config("imagenet2012", source.model, **source.model_options)
    evaluation = source.evaluation
    config.data.image_size = evaluation.image_size
    config.data.eval_preprocess = "resize_center_crop"
    config.data.eval_crop_ratio = evaluation.crop_fraction
    config.data.resize_method = evaluation.interpolation
    config.data.resize_antialias = True
    config.data.normalization = "mean_std"
    config.data.mean = evaluation.mean
    config.data.std = evaluation.std
    return config
