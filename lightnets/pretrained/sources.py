"""Where each importable lightnets variant's published PyTorch weights come from, and how they were evaluated.

An entry names the peer (torchvision builder or timm model), the published weights and their ImageNet-1k
validation top-1/top-5 as the peer's own records give them (torchvision: the weights enum's
``meta['_metrics']``; timm: ``results/results-imagenet.csv`` of pytorch-image-models), the evaluation
preprocessing those figures were measured with, and the lightnets model options under which our model
computes the peer's function (e.g. timm's MobileNet V1 uses ReLU6 where the paper uses ReLU). Output parity
with each peer is tested in ``tests/pretrained/test_parity.py``.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from typing import Any

TORCHVISION_MEAN, TORCHVISION_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
INCEPTION_MEAN, INCEPTION_STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """The published figure's preprocessing: resize the shorter side to ``image_size / crop_fraction`` with
    ``interpolation`` (antialiased), centre-crop ``image_size``, scale to [0, 1], subtract ``mean``, divide
    by ``std`` (per RGB channel)."""

    image_size: int
    crop_fraction: float
    interpolation: str
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


@dataclasses.dataclass(frozen=True)
class PretrainedSource:
    """Published PyTorch weights of a lightnets variant.

    Attributes:
      model: the lightnets registered name.
      library: 'torchvision' or 'timm'.
      peer: the peer's model name (``torchvision.models.<peer>()``, ``timm.create_model(<peer>)``).
      weights: the published weights' name and file.
      top1, top5: their published ImageNet-1k validation accuracy, percent.
      evaluation: the preprocessing those figures were measured with.
      model_options: lightnets model options that make our model compute the peer's function.
      module_order: the peer's module names in the order its constructors register them, which is its
        forward order (``lightnets.pretrained.layers.torch_layers``).
    """

    model: str
    library: str
    peer: str
    weights: str
    top1: float
    top5: float
    evaluation: Evaluation
    module_order: tuple[str, ...]
    model_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.library} {self.peer}"


_TORCHVISION_256 = Evaluation(224, 224 / 256, "bilinear", TORCHVISION_MEAN, TORCHVISION_STD)
_TORCHVISION_232 = Evaluation(224, 224 / 232, "bilinear", TORCHVISION_MEAN, TORCHVISION_STD)


# Module names of each peer family in registration order (torchvision/models/*.py, timm/models/*.py).
_MOBILENET_V2 = ("features", "conv", "classifier")
_MOBILENET_V3 = ("features", "block", "fc", "classifier")
_SHUFFLENET_V2 = ("conv1", "stage", "conv5", "fc", "branch")
_SQUEEZENET = ("features", "squeeze", "expand1x1", "expand3x3", "classifier")
_TIMM_MOBILENET_V1 = ("conv_stem", "conv_dw", "bn1", "conv_pw", "bn2", "blocks", "classifier")
_TIMM_LEGACY_XCEPTION = ("conv1", "bn1", "conv2", "bn2", "block", "rep", "skip", "skipbn", "pointwise", "conv3",
                         "bn3", "conv4", "bn4", "fc")


def _torchvision(model: str, peer: str, weights: str, top1: float, top5: float, module_order: tuple[str, ...],
                 evaluation: Evaluation = _TORCHVISION_256) -> PretrainedSource:
    return PretrainedSource(model, "torchvision", peer, weights, top1, top5, evaluation, module_order)


SOURCES: dict[str, PretrainedSource] = {source.model: source for source in (
    _torchvision("mobilenet_v2_100", "mobilenet_v2", "MobileNet_V2_Weights.IMAGENET1K_V1 (mobilenet_v2-b0353104.pth)",
                 71.878, 90.286, _MOBILENET_V2),
    _torchvision("mobilenet_v3_small_100", "mobilenet_v3_small",
                 "MobileNet_V3_Small_Weights.IMAGENET1K_V1 (mobilenet_v3_small-047dcff4.pth)", 67.668, 87.402, _MOBILENET_V3),
    _torchvision("shufflenet_v2_x0_5", "shufflenet_v2_x0_5",
                 "ShuffleNet_V2_X0_5_Weights.IMAGENET1K_V1 (shufflenetv2_x0.5-f707e7126e.pth)", 60.552, 81.746, _SHUFFLENET_V2),
    _torchvision("shufflenet_v2_x1_0", "shufflenet_v2_x1_0",
                 "ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1 (shufflenetv2_x1-5666bf0f80.pth)", 69.362, 88.316, _SHUFFLENET_V2),
    _torchvision("shufflenet_v2_x1_5", "shufflenet_v2_x1_5",
                 "ShuffleNet_V2_X1_5_Weights.IMAGENET1K_V1 (shufflenetv2_x1_5-3c479a10.pth)", 72.996, 91.086, _SHUFFLENET_V2,
                 _TORCHVISION_232),
    _torchvision("shufflenet_v2_x2_0", "shufflenet_v2_x2_0",
                 "ShuffleNet_V2_X2_0_Weights.IMAGENET1K_V1 (shufflenetv2_x2_0-8be3c8ee.pth)", 76.230, 93.006, _SHUFFLENET_V2,
                 _TORCHVISION_232),
    _torchvision("squeezenet1_0", "squeezenet1_0", "SqueezeNet1_0_Weights.IMAGENET1K_V1 (squeezenet1_0-b66bff10.pth)",
                 58.092, 80.420, _SQUEEZENET),
    _torchvision("squeezenet1_1", "squeezenet1_1", "SqueezeNet1_1_Weights.IMAGENET1K_V1 (squeezenet1_1-b8a52dc0.pth)",
                 58.178, 80.624, _SQUEEZENET),
    PretrainedSource("mobilenet_v1_100", "timm", "mobilenetv1_100", "mobilenetv1_100.ra4_e3600_r224_in1k",
                     75.388, 92.310, Evaluation(224, 0.875, "bicubic", INCEPTION_MEAN, INCEPTION_STD),
                     _TIMM_MOBILENET_V1, {"act": "relu6"}),
    PretrainedSource("xception", "timm", "legacy_xception", "legacy_xception.tf_in1k (Keras weights ported)",
                     79.058, 94.396, Evaluation(299, 0.8975, "bicubic", INCEPTION_MEAN, INCEPTION_STD),
                     _TIMM_LEGACY_XCEPTION, {"bn_epsilon": 1e-5}),
)}


def get_source(model: str) -> PretrainedSource:
    """The source of ``model``'s published weights (a registered name or alias).

    Raises ValueError naming the importable models when ``model`` has none.
    """
    from lightnets.registry import canonical_name

    source = SOURCES.get(canonical_name(model))
    if source is None:
        close = difflib.get_close_matches(model, list(SOURCES), n=2)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"no published PyTorch weights for model {model!r}{hint}; importable: {', '.join(SOURCES)}")
    return source
