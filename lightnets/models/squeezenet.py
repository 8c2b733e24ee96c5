"""SqueezeNet v1.0 / v1.1 (Iandola et al. 2016, arXiv:1602.07360, Table 1 and Table 3; docs/references.md#squeezenet).

Fire module (§3.2): a 1×1 "squeeze" conv, then the concatenation of 1×1 and 3×3 "expand" convs; every conv
has a bias and a ReLU, and there is no BN. Geometry follows the Caffe prototxts of ``forresti/SqueezeNet``:
conv1 unpadded, 3×3/2 max pooling in Caffe's ceil mode, dropout 0.5 before conv10, conv10 + ReLU, then
global average pooling. The natural input is 227 px (conv1 → 111×111 as in Table 1).

``conv10_padding``: the v1.0 prototxt pads its 1×1 conv10 by 1 (15×15 output, 861M multiply-adds, the
README's "1.72 GFLOPS" = 2 × 861M). Table 1 of the paper shows a 13×13×1000 conv10 (832.6M, the "833
MFLOPs" the ShuffleNet paper quotes; torchvision does the same), so 0 is the default; 1 reproduces the
prototxt. Parameters are the same either way (1,248,424; Table 1 total).

``simple_bypass`` (§6, Table 3 "SqueezeNet + Simple Bypass"): an identity shortcut around every Fire module
whose input and output widths match (fire3, fire5, fire7, fire9), added after the module's ReLUs; it adds no
parameters.

``small_input`` (32–64 px): conv1 becomes a 3×3 stride-1 conv padded by 1, so a 32 px input keeps its
size and the three max pools bring it to 4×4 at fire9.
"""

from __future__ import annotations

from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from lightnets.layers import ConvBnAct, ConvFactory, ImageClassifier, global_avg_pool
from lightnets.ops import GroupedConv, activation, max_pool_ceil
from lightnets.registry import ReferenceCounts, register_model

# Fire modules as (name, squeeze, expand 1×1, expand 3×3), with "pool" where a 3×3/2 max pool sits.
FIRES_V1_0 = (
    "pool", ("fire2", 16, 64, 64), ("fire3", 16, 64, 64), ("fire4", 32, 128, 128),
    "pool", ("fire5", 32, 128, 128), ("fire6", 48, 192, 192), ("fire7", 48, 192, 192), ("fire8", 64, 256, 256),
    "pool", ("fire9", 64, 256, 256),
)
FIRES_V1_1 = (
    "pool", ("fire2", 16, 64, 64), ("fire3", 16, 64, 64),
    "pool", ("fire4", 32, 128, 128), ("fire5", 32, 128, 128),
    "pool", ("fire6", 48, 192, 192), ("fire7", 48, 192, 192), ("fire8", 64, 256, 256), ("fire9", 64, 256, 256),
)
# version -> (conv1 kernel, conv1 width, layout).
VERSIONS = {"1.0": (7, 96, FIRES_V1_0), "1.1": (3, 64, FIRES_V1_1)}
CONV10_PADDINGS = (0, 1)


class Fire(nn.Module):
    """squeeze 1×1 → ReLU → concat[expand 1×1 → ReLU, expand 3×3 → ReLU] (§3.2, Fig. 1); convs with bias, no BN.

    ``[N, H, W, C]`` → ``[N, H, W, expand1x1_features + expand3x3_features]`` (s1x1, e1x1, e3x3 of Table 1).
    """

    squeeze_features: int
    expand1x1_features: int
    expand3x3_features: int
    conv: ConvFactory

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        s = ConvBnAct(self.squeeze_features, conv=self.conv, name="squeeze")(x)
        return jnp.concatenate(
            [ConvBnAct(self.expand1x1_features, conv=self.conv, name="expand1x1")(s),
             ConvBnAct(self.expand3x3_features, (3, 3), conv=self.conv, name="expand3x3")(s)],
            axis=-1,
        )


class SqueezeNet(ImageClassifier):
    """SqueezeNet ``version`` '1.0' (Table 1) or '1.1' (the v1.1 prototxt: 3×3 conv1, earlier pooling).

    Attributes:
      version: '1.0' or '1.1'.
      conv10_padding: 0 (paper Table 1, default) or 1 (v1.0 Caffe prototxt); see the module docstring.
      simple_bypass: identity shortcuts around fire3/5/7/9 (Table 3).
      dropout_rate: dropout before conv10 (0.5 in the prototxts).
    """

    default_input_size: ClassVar[int] = 227

    version: str = "1.0"
    conv10_padding: int = 0
    simple_bypass: bool = False
    dropout_rate: float = 0.5

    def check_options(self) -> None:
        super().check_options()
        if self.version not in VERSIONS:
            raise ValueError(f"unknown SqueezeNet version {self.version!r}; valid: {', '.join(VERSIONS)}")
        if self.conv10_padding not in CONV10_PADDINGS:
            raise ValueError(f"conv10_padding={self.conv10_padding!r}; valid: {CONV10_PADDINGS}")

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
        self.check_options()
        kernel, width, layout = VERSIONS[self.version]
        if self.small_input:
            x = ConvBnAct(width, (3, 3), conv=self.conv(padding="symmetric"), name="conv1")(x)
        else:
            x = ConvBnAct(width, (kernel, kernel), (2, 2), conv=self.conv(padding="VALID"), name="conv1")(x)
        for layer in layout:
            if layer == "pool":
                x = max_pool_ceil(x)
                continue
            name, squeeze, expand1x1, expand3x3 = layer
            y = Fire(squeeze, expand1x1, expand3x3, self.conv(), name=name)(x)
            x = x + y if self.simple_bypass and x.shape[-1] == y.shape[-1] else y
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
        pad = self.conv10_padding
        # conv10 of Table 1; Gaussian(0, 0.01) initialisation as in the prototxts.
        x = GroupedConv(
            self.num_classes, (1, 1), padding=((pad, pad), (pad, pad)), use_bias=True,
            kernel_init=nn.initializers.normal(0.01), dtype=self.dtype, param_dtype=self.param_dtype,
            name="classifier",
        )(x)
        return global_avg_pool(activation("relu")(x)).astype(jnp.float32)


_TABLE_1 = "SqueezeNet Table 1 (params); ShuffleNet Table 6 '833 MFLOPs' (MAdds)"
register_model(
    "squeezenet1_0", SqueezeNet, version="1.0",
    reference=ReferenceCounts(1_248_424, 833e6, _TABLE_1, input_size=227),
)
register_model(
    "squeezenet1_0_bypass", SqueezeNet, version="1.0", simple_bypass=True,
    reference=ReferenceCounts(1_248_424, 833e6, "SqueezeNet Table 3 (simple bypass adds no parameters)",
                              input_size=227),
)
register_model(
    "squeezenet1_1", SqueezeNet, version="1.1",
    reference=ReferenceCounts(1_235_496, 387.7e6, "forresti/SqueezeNet v1.1 prototxt, 227 px", input_size=227),
)
