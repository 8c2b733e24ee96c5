"""Layers shared by the model families: the module factories blocks are built from, conv + BN + activation,
and the classifier base class with the fields every registered model has.

Vocabulary (one name per concept across every family; the paper's own term is in each docstring):

* networks: ``width_multiplier`` (MobileNets §3.3 "width multiplier α"; ShuffleNet's "scale factor s",
  SqueezeNext's "1.0-/2.0-SqNxt"), ``depths`` (blocks per stage), ``dropout_rate``, ``small_input``;
* blocks and layers: ``out_features`` is a block's output width, ``features`` a single layer's (Flax's
  ``nn.Conv`` term); ``strides`` is always a (height, width) pair; paper tables keep their scalar stride
  column ``s``;
* a block never declares ``padding``/``dtype``/``param_dtype``: it receives ``conv`` (a ``GroupedConv``
  factory carrying the network's padding and dtypes) and ``norm`` (a BatchNorm factory carrying train
  mode, momentum, epsilon and dtypes) from the network, the pattern of Flax's ImageNet example.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from lightnets.ops import GroupedConv, activation
from lightnets.ops.padding import Padding

# A partially applied Flax module class: called with the layer's own arguments (and ``name=``), it returns
# the module. ``ConvFactory``: ``GroupedConv`` with padding and dtypes bound; ``NormFactory``: BatchNorm.
ModuleFactory = Callable[..., nn.Module]
# A model's ``padding``: k//2 on every side (PyTorch/Caffe/Torch references) or TF's 'SAME'.
MODEL_PADDINGS = ("symmetric", "SAME")
ConvFactory = ModuleFactory
NormFactory = ModuleFactory


class ConvBnAct(nn.Module):
    """``conv`` → ``norm`` → activation, the unit every family's stems, heads and most blocks are made of.

    Attributes:
      features: output channels.
      kernel_size: (height, width) of the kernel.
      strides: (height, width) strides.
      groups: groups of the convolution (``features`` and the input width must divide by it).
      act: an activation name of ``lightnets.ops.ACTIVATIONS`` ('identity' for none).
      conv: the network's ``ConvFactory``.
      norm: the network's ``NormFactory``; ``None`` for no BN, in which case the conv has a bias
        (SqueezeNet).

    Input NHWC ``[N, H, W, C]`` in the conv's dtype; output ``[N, H', W', features]``.
    """

    features: int
    kernel_size: Sequence[int] = (1, 1)
    strides: Sequence[int] = (1, 1)
    groups: int = 1
    act: str = "relu"
    conv: ConvFactory = GroupedConv
    norm: NormFactory | None = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = self.conv(
            self.features, self.kernel_size, self.strides, groups=self.groups, use_bias=self.norm is None, name="conv"
        )(x)
        if self.norm is not None:
            x = self.norm(name="bn")(x)
        return activation(self.act)(x)


class Block(nn.Module):
    """Base of the families' blocks: the block's output width and, keyword-only, the network's factories.

    Attributes:
      out_features: the block's output width.
      conv: the network's ``ConvFactory`` (``ImageClassifier.conv()``).
      norm: the network's ``NormFactory`` (``ImageClassifier.norm(train)``).
    """

    out_features: int
    conv: ConvFactory = dataclasses.field(kw_only=True)
    norm: NormFactory = dataclasses.field(kw_only=True)


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

    Call as ``model.apply(variables, images, train=..., rngs={'dropout': key})`` with NHWC images; the
    logits are float32 ``[N, num_classes]``.
    """

    default_input_size: ClassVar[int] = 224

    num_classes: int = 1000
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32
    bn_momentum: float = 0.9
    bn_epsilon: float = 1e-5
    small_input: bool = False
    padding: str = "symmetric"

    def check_options(self) -> None:
        """Raises a one-line ValueError naming an option with an invalid value and what would be valid.

        Every model calls it first in ``__call__`` (or in the ``block_specs()`` its call starts from); a
        subclass checks its own options after ``super().check_options()``, which checks the fields above.
        """
        if self.padding not in MODEL_PADDINGS:
            raise ValueError(f"padding={self.padding!r}; valid: {', '.join(MODEL_PADDINGS)}")
        if not 0 <= self.bn_momentum <= 1:
            raise ValueError(f"bn_momentum={self.bn_momentum!r}; valid: [0, 1]")
        if not self.bn_epsilon > 0:
            raise ValueError(f"bn_epsilon={self.bn_epsilon!r}; valid: > 0")

    def conv(self, *, padding: Padding | None = None) -> ConvFactory:
        """``GroupedConv`` factory with this model's padding (or ``padding``) and dtypes."""
        return functools.partial(
            GroupedConv, padding=self.padding if padding is None else padding, dtype=self.dtype,
            param_dtype=self.param_dtype,
        )

    def norm(self, train: bool) -> NormFactory:
        """BatchNorm factory for this call: batch statistics when training, running averages otherwise.

        The batch variance is the two-pass E[(x − E[x])²], not flax's default one-pass E[x²] − E[x]²
        (``use_fast_variance=True``), which cancels catastrophically when an activation's mean is large
        next to its spread (float32, mean 1e4 and std 1: a variance wrong by ~16×). Statistics, running
        averages and the normalisation are computed in float32 also for bfloat16 inputs
        (``force_float32_reductions``, flax's default, stated here so a default change cannot flip it).
        The cost is a second reduction over the activation (mobilenet_v2_100's float32 train step, batch 16
        at 224 px: ~3% slower on the 2-core CPU) and, under global BN, a second all-reduce per layer that
        waits for the first.
        """
        return functools.partial(
            nn.BatchNorm, use_running_average=not train, momentum=self.bn_momentum, epsilon=self.bn_epsilon,
            dtype=self.dtype, param_dtype=self.param_dtype, use_fast_variance=False,
            force_float32_reductions=True,
        )

    def conv_bn_act(
        self, train: bool, features: int, kernel_size: Sequence[int] = (1, 1), *, padding: Padding | None = None,
        **kwargs: Any,
    ) -> ConvBnAct:
        """A ``ConvBnAct`` with this model's conv and norm factories (``padding`` overrides the model's)."""
        return ConvBnAct(features, kernel_size, conv=self.conv(padding=padding), norm=self.norm(train), **kwargs)

    def classifier(self, x: jax.Array, *, use_bias: bool = True, name: str = "classifier") -> jax.Array:
        """The final fully connected layer, computed in ``dtype`` and returned as float32 logits."""
        return nn.Dense(
            self.num_classes, use_bias=use_bias, dtype=self.dtype, param_dtype=self.param_dtype, name=name
        )(x).astype(jnp.float32)


def global_avg_pool(x: jax.Array) -> jax.Array:
    """Mean over the spatial axes of NHWC ``x`` → [N, C]."""
    return jnp.mean(x, axis=(1, 2))
