"""Squeeze-and-excitation (Hu et al. 2018), as MobileNet V3 uses it (docs/references.md#mobilenet-v3).

Global average pool → 1×1 conv (bias) → ``act`` → 1×1 conv (bias) → ``gate`` → channel-wise rescale.
The two 1×1 convs are counted as MAdds (docs/references.md#counting-convention); the pooling and the rescale are not.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from lightnets.ops.activations import activation
from lightnets.ops.grouped import GroupedConv


class SqueezeExcite(nn.Module):
    squeeze_features: int
    act: str = "relu"
    gate: str = "hard_sigmoid"
    dtype: Any = None
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        conv = lambda features, name: GroupedConv(  # noqa: E731
            features, use_bias=True, dtype=self.dtype, param_dtype=self.param_dtype, name=name
        )
        s = jnp.mean(x, axis=(1, 2), keepdims=True)
        s = activation(self.act)(conv(self.squeeze_features, "reduce")(s))
        s = activation(self.gate)(conv(x.shape[-1], "expand")(s))
        return x * s.astype(x.dtype)
