"""Layers shared by the model families: conv + BN + activation, the classifier base and its common knobs."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from lightnets.ops import GroupedConv, activation
from lightnets.ops.padding import Padding

NormFactory = Callable[..., nn.Module]


class ConvBnAct(nn.Module):
    """Grouped convolution → BatchNorm → activation (``norm=None``: no BN, conv with bias)."""

    features: int
    kernel_size: Sequence[int] = (1, 1)
    strides: Sequence[int] = (1, 1)
    groups: int = 1
    act: str = "relu"
    padding: Padding = "symmetric"
    norm: NormFactory | None = None
    impl: str = "auto"
    dtype: Any = None
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = GroupedConv(
            self.features, self.kernel_size, self.strides, self.padding, groups=self.groups,
            use_bias=self.norm is None, impl=self.impl, dtype=self.dtype, param_dtype=self.param_dtype, name="conv",
        )(x)
        if self.norm is not None:
            x = self.norm(name="bn")(x)
        return activation(self.act)(x)


def block_conv_bn_act(block: nn.Module, **defaults: Any) -> Callable[..., ConvBnAct]:
    """A ``ConvBnAct`` factory carrying a block's ``norm``, ``padding``, ``dtype`` and ``param_dtype`` fields."""
    return functools.partial(
        ConvBnAct, norm=block.norm, padding=block.padding, dtype=block.dtype, param_dtype=block.param_dtype,
        **defaults,
    )


class ImageClassifier(nn.Module):
    """Fields every registered model has (subclasses add their architecture's own).

    Attributes:
      num_classes: classifier outputs.
      dtype: computation dtype (e.g. ``jnp.bfloat16``); BN statistics are reduced in float32 by Flax.
      param_dtype: parameter dtype.
      bn_momentum: Flax BN momentum, the running-average decay (PyTorch ``momentum=0.1`` ⇔ 0.9).
      bn_epsilon: BN epsilon.
      small_input: the family's 32–64 px geometry (documented per family: fewer early strides).
      padding: 'symmetric' (k//2 each side, the PyTorch/Caffe/Torch references) or 'SAME' (TF-slim).

    ``default_input_size`` is the resolution the family's paper reports its counts at.

    Call as ``model.apply(variables, images, train=..., rngs={'dropout': key})`` with NHWC images.
    """

    default_input_size: ClassVar[int] = 224

    num_classes: int = 1000
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32
    bn_momentum: float = 0.9
    bn_epsilon: float = 1e-5
    small_input: bool = False
    padding: str = "symmetric"

    def norm(self, train: bool) -> NormFactory:
        """BatchNorm factory for this call: batch statistics when training, running averages otherwise."""
        return functools.partial(
            nn.BatchNorm, use_running_average=not train, momentum=self.bn_momentum, epsilon=self.bn_epsilon,
            dtype=self.dtype, param_dtype=self.param_dtype,
        )

    def conv_bn_act(self, train: bool, features: int, kernel_size: Sequence[int] = (1, 1), **kwargs: Any) -> ConvBnAct:
        """A ``ConvBnAct`` carrying this model's norm, padding and dtypes."""
        kwargs.setdefault("padding", self.padding)
        return ConvBnAct(
            features, kernel_size, norm=self.norm(train), dtype=self.dtype, param_dtype=self.param_dtype, **kwargs
        )

    def classifier(self, x: jax.Array, *, use_bias: bool = True, name: str = "classifier") -> jax.Array:
        """The final fully connected layer, computed in ``dtype`` and returned as float32 logits."""
        return nn.Dense(
            self.num_classes, use_bias=use_bias, dtype=self.dtype, param_dtype=self.param_dtype, name=name
        )(x).astype(jnp.float32)


def global_avg_pool(x: jax.Array) -> jax.Array:
    """Mean over the spatial axes of NHWC ``x`` → [N, C]."""
    return jnp.mean(x, axis=(1, 2))
