"""Structured convolutions: each op has a canonical implementation, measured fast paths and a channel mask."""

from lightnets.ops.activations import ACTIVATIONS, activation, hard_sigmoid, hard_swish, relu6
from lightnets.ops.channels import make_divisible, split_by_ratio
from lightnets.ops.dispatch import (
    AUTO_CHOICES, OpCall, canonical_only, clear_tuned, current_backend, recording, resolve_impl, target_backend,
    tuned_choices, use_tuned,
)
from lightnets.ops.even_kernel import (
    C2SP, CORNERS, IMPROVED_ORDER, EvenDepthwiseConv, c2sp_group_sizes, improved_padding_schedule, symmetric_pad,
)
from lightnets.ops.grouped import (
    GroupedConv, block_diagonal_kernel, conv_case, depthwise_conv, grouped_channel_mask, grouped_conv,
)
from lightnets.ops.interlaced import (
    InterlacedGroupConv, interlace, interlace_permutation, interlaced_channel_mask,
    interlaced_group_conv,
)
from lightnets.ops.padding import explicit_padding
from lightnets.ops.pooling import max_pool, max_pool_ceil
from lightnets.ops.separable import ARRANGEMENTS, XSepConv, separable_depthwise_stages
from lightnets.ops.shuffle import channel_shuffle, permutation_mask, shuffle_permutation
from lightnets.ops.squeeze_excite import SqueezeExcite
from lightnets.ops.tuning import AutotuneResult, autotune
from lightnets.ops.uneven import UnevenGroupConv, uneven_channel_mask, uneven_group_conv
