"""Channel-local convolutions: dense, grouped and depthwise, with any kernel and stride.

A grouped convolution (Krizhevsky et al. 2012; ResNeXt; ShuffleNet V1 §3.1) splits the C_in input and
C_out output channels into ``groups`` contiguous groups; output group j reads input group j only.
Depthwise convolution (MobileNet V1 §3.1) is the case groups = C_in = C_out. clcNet (Zhang 2018, §3.1) calls
these channel-local convolutions (CLC); their channel dependency graph is ``channel_mask``.

Implementations (``impl``), all summing in float32 for bfloat16/float16 inputs (``accumulator_dtype``):
  lax      canonical: ``lax.conv_general_dilated`` with ``feature_group_count``.
  einsum   1×1 kernels only: one batched matmul over the groups (strided input sliced first).
  matmul   at most ``MATMUL_MAX_GROUPS`` groups: per group, shifted windows of the group's channels
           (``axis_window``, no padded copy) concatenated and multiplied by the kernel as 2-D matmuls
           (see ``_conv_matmul``; for 1×1 kernels one matmul of the input itself); no group axis, so no
           transposes around a batched matmul.
  shifted  groups of at most ``SHIFTED_MAX_GROUP_WIDTH`` input channels (depthwise, or a dense conv of
           a narrow input such as an RGB stem):
           k_h·k_w·(C_in/groups) shifted multiply-adds over the padded input, each broadcast over the
           group's outputs; it can also emit the outputs interlaced (see ``lightnets.ops.interlaced``).
  depthwise_sum
           narrow groups (groups > 1, at most ``SHIFTED_MAX_GROUP_WIDTH`` input channels each, not plain
           depthwise): Σ over in-group channels c of one depthwise convolution (feature_group_count = C_out)
           of the view whose output channel o holds input c of o's group. Forward and backward contain
           only depthwise convolutions, the form XLA:GPU runs fast (jax#13800: its backward of other
           grouped convolutions costs as much as a dense one).
  block_diagonal
           2 to ``MATMUL_MAX_GROUPS`` groups, not depthwise: one dense convolution (1×1: one matmul) whose
           kernel is the block-diagonal assembly of the group kernels: groups× the multiply-adds in one
           GEMM, no grouped convolution in forward or backward.

``conv_case`` names the shape class that ``AUTO_CHOICES`` keys on: 'depthwise' (groups = C_in = C_out),
'pointwise' (other 1×1, unpadded), 'grouped' (other spatial convs with narrow groups) and 'spatial'.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from lightnets.ops.dispatch import register_op, resolve_impl
from lightnets.ops.padding import Padding, PadPairs, explicit_padding, output_size

IMPLS = ("lax", "einsum", "matmul", "shifted", "depthwise_sum", "block_diagonal")
# The matmul form unrolls one matmul per group, and block_diagonal multiplies the MAdds by the group count;
# many groups are left to the other forms.
MATMUL_MAX_GROUPS = 8
# The shifted form unrolls k_h·k_w·(C_in/groups) terms and depthwise_sum C_in/groups convolutions; wider groups
# are left to the convolution.
SHIFTED_MAX_GROUP_WIDTH = 8

# He-normal with fan_out, as the PyTorch references (torchvision, megvii ShuffleNet) initialise convs.
default_kernel_init = nn.initializers.variance_scaling(2.0, "fan_out", "normal")


def check_groups(in_features: int, out_features: int, groups: int, *, what: str = "grouped conv") -> None:
    """Raises a clear error unless ``groups`` divides both channel counts."""
    if groups < 1 or in_features % groups or out_features % groups:
        raise ValueError(
            f"{what}: groups={groups} must divide in_features={in_features} and out_features={out_features}"
        )


def grouped_channel_mask(in_features: int, out_features: int, groups: int) -> np.ndarray:
    """Boolean [C_in, C_out]: input i feeds output o iff both lie in the same contiguous group."""
    check_groups(in_features, out_features, groups)
    in_group = np.arange(in_features) // (in_features // groups)
    out_group = np.arange(out_features) // (out_features // groups)
    return in_group[:, None] == out_group[None, :]


def block_diagonal_kernel(kernels: Sequence[jax.Array]) -> jax.Array:
    """The dense HWIO kernel whose diagonal blocks are ``kernels`` (each HWIO, same k_h×k_w), zeros elsewhere."""
    c_in = sum(k.shape[2] for k in kernels)
    columns, row = [], 0
    for k in kernels:
        columns.append(jnp.pad(k, ((0, 0), (0, 0), (row, c_in - row - k.shape[2]), (0, 0))))
        row += k.shape[2]
    return jnp.concatenate(columns, axis=-1)


def conv_case(in_features: int, kernel_shape: Sequence[int], groups: int, pads: PadPairs) -> str:
    """The shape class of a grouped convolution, as ``AUTO_CHOICES`` keys it (see the module docstring)."""
    if groups == in_features == kernel_shape[3]:
        return "depthwise"
    if tuple(kernel_shape[:2]) == (1, 1) and pads == ((0, 0), (0, 0)):
        return "pointwise"
    if groups > 1 and in_features // groups <= SHIFTED_MAX_GROUP_WIDTH:
        return "grouped"
    return "spatial"


def applicable_impls(in_features: int, kernel_shape: Sequence[int], groups: int, pads: PadPairs) -> tuple[str, ...]:
    """The implementations of ``IMPLS`` that can compute this call."""
    pointwise = tuple(kernel_shape[:2]) == (1, 1) and pads == ((0, 0), (0, 0))
    narrow = in_features // groups <= SHIFTED_MAX_GROUP_WIDTH
    depthwise = groups == in_features == kernel_shape[3]
    few_groups = groups <= MATMUL_MAX_GROUPS
    return (("lax",) + (("einsum",) if pointwise else ()) + (("matmul",) if few_groups else ())
            + (("shifted",) if narrow else ()) + (("depthwise_sum",) if narrow and groups > 1 and not depthwise else ())
            + (("block_diagonal",) if few_groups and groups > 1 and not depthwise else ()))


def accumulator_dtype(dtype: Any) -> Any:
    """The dtype sums are taken in: float32 for bfloat16/float16 (and float32), float64 for float64."""
    return jnp.promote_types(dtype, jnp.float32)


def _conv_lax(x, kernel, strides, pads, groups):
    return jax.lax.conv_general_dilated(
        x, kernel, window_strides=strides, padding=pads,
        dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=groups,
        preferred_element_type=accumulator_dtype(x.dtype),
    )


def _conv_einsum(x, kernel, strides, groups):
    x = x[:, :: strides[0], :: strides[1], :]
    n, h, w, c_in = x.shape
    c_out = kernel.shape[-1]
    xg = x.reshape(n, h, w, groups, c_in // groups)
    kg = kernel.reshape(c_in // groups, groups, c_out // groups).transpose(1, 0, 2)
    if jax.default_backend() == "cpu":  # XLA:CPU has no batched bfloat16 × bfloat16 → float32 dot (UNIMPLEMENTED)
        xg, kg = xg.astype(accumulator_dtype(x.dtype)), kg.astype(accumulator_dtype(x.dtype))
    return jnp.einsum("nhwgi,gio->nhwgo", xg, kg, preferred_element_type=accumulator_dtype(x.dtype)).reshape(
        n, h, w, c_out)


def _dot(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.dot(a, b, preferred_element_type=accumulator_dtype(a.dtype))


def _conv_matmul(x, kernel, strides, pads, groups):
    """Per group, the k_w column windows of the group's channels (``axis_window``, no padded copy),
    concatenated and multiplied by the kernel. With a row stride (or k_h = 1) the k_h row windows of those
    are concatenated too and one matmul by the kernel reshaped to (k_h·k_w·C_in/groups, C_out/groups) gives
    the output (im2col), so only output rows are multiplied; at row stride 1 each kernel row i is one matmul
    over every input row, shifted into place and summed, which copies k_h× less input."""
    kh, kw, width, c_out = kernel.shape
    per_group = c_out // groups
    if kh * kw > 1:  # the input gradient sums the taps' windows: in float32 too
        accumulator = accumulator_dtype(x.dtype)
        x, kernel = x.astype(accumulator), kernel.astype(accumulator)
    (top, _), (left, _) = pads
    n = x.shape[0]
    ho, wo = output_size(x.shape[1:3], (kh, kw), strides, pads)
    im2col = strides[0] > 1 or kh == 1
    outputs = []
    for g in range(groups):
        weights = kernel[..., g * per_group:(g + 1) * per_group]
        columns = [axis_window(x[..., g * width:(g + 1) * width], 2, j - left, strides[1], wo) for j in range(kw)]
        if im2col:
            columns = [axis_window(column, 1, i - top, strides[0], ho) for i in range(kh) for column in columns]
        patches = columns[0] if len(columns) == 1 else jnp.concatenate(columns, axis=-1)
        rows = patches.reshape(-1, patches.shape[-1])
        if im2col:
            out = _dot(rows, weights.reshape(-1, per_group)).reshape(n, ho, wo, per_group)
        else:
            out = sum(axis_window(_dot(rows, weights[i].reshape(-1, per_group)).reshape(n, -1, wo, per_group),
                                  1, i - top, 1, ho) for i in range(kh))
        outputs.append(out)
    return outputs[0] if groups == 1 else jnp.concatenate(outputs, axis=-1)


def _group_channel_sources(x: jax.Array, groups: int, per_group: int, interlace_outputs: bool) -> list[jax.Array]:
    """For each in-group channel c, the NHWC tensor whose output channel o holds input c of o's group."""
    n, h, w, c_in = x.shape
    width = c_in // groups
    if width == 1 and per_group == 1:
        return [x]
    x = x.reshape(n, h, w, groups, width)
    layout = (n, h, w, per_group, groups) if interlace_outputs else (n, h, w, groups, per_group)
    sources = []
    for c in range(width):
        channel = x[..., c][..., None, :] if interlace_outputs else x[..., c][..., None]
        sources.append(jnp.broadcast_to(channel, layout).reshape(n, h, w, groups * per_group))
    return sources


def axis_window(x: jax.Array, axis: int, offset: int, stride: int, length: int, fill: float = 0.0) -> jax.Array:
    """``out[t] = x[offset + stride·t]`` along ``axis`` for t < ``length``, ``fill`` where that index is outside x.

    This is one tap's view of a padded, strided input, built as a strided slice between constant blocks:
    no padded copy of ``x`` is made, and its transpose is a slice of the cotangent.
    """
    size = x.shape[axis]
    first = -(offset // stride) if offset < 0 else 0  # ceil(-offset / stride)
    last = min(length - 1, (size - 1 - offset) // stride)

    def block(count: int) -> jax.Array:
        return jnp.full(x.shape[:axis] + (count,) + x.shape[axis + 1:], fill, x.dtype)

    if last < first:
        return block(length)
    core = jax.lax.slice_in_dim(x, offset + stride * first, offset + stride * last + 1, stride, axis)
    parts = [part for part in (block(first), core, block(length - 1 - last)) if part.shape[axis]]
    return parts[0] if len(parts) == 1 else jnp.concatenate(parts, axis)


def conv_shifted(
    x: jax.Array, kernel: jax.Array, strides: Sequence[int], pads: PadPairs, groups: int, *,
    interlace_outputs: bool = False,
) -> jax.Array:
    """Grouped convolution as Σ over taps (i, j) and in-group channels c of a shifted window × kernel[i, j, c].

    Channel c of every group is first broadcast to the group's outputs (for depthwise convs this is the
    input itself), so each term is an elementwise multiply-add; no gather or matmul is traced. The sum is
    taken separably: column windows (one per tap column j, ``axis_window``) are combined into one partial
    sum per kernel row i, and each row's sum is then shifted into place, so k_h + k_w windows are formed
    instead of k_h·k_w and the input is never padded. With ``interlace_outputs`` the outputs are laid out
    interlaced, output j·groups + i being output j of group i (clcNet's ChannelInterlace, clcNet §3.2),
    and the kernel's columns are permuted to match.
    """
    kh, kw, width, c_out = kernel.shape
    per_group = c_out // groups
    if interlace_outputs:
        kernel = _interlace_columns(kernel, groups)
    accumulator = accumulator_dtype(x.dtype)
    x, kernel = x.astype(accumulator), kernel.astype(accumulator)
    (top, _), (left, _) = pads
    ho, wo = output_size(x.shape[1:3], (kh, kw), strides, pads)
    columns = [
        [axis_window(source, 2, j - left, strides[1], wo) for j in range(kw)]
        for source in _group_channel_sources(x, groups, per_group, interlace_outputs)
    ]
    out = None
    for i in range(kh):
        row = sum(columns[c][j] * kernel[i, j, c] for c in range(width) for j in range(kw))
        term = axis_window(row, 1, i - top, strides[0], ho)
        out = term if out is None else out + term
    return out


def _interlace_columns(kernel: jax.Array, groups: int) -> jax.Array:
    """The kernel's output columns reordered so that column j·groups + i is column j of group i."""
    kh, kw, width, c_out = kernel.shape
    return kernel.reshape(kh, kw, width, groups, c_out // groups).swapaxes(-1, -2).reshape(kernel.shape)


def conv_depthwise_sum(
    x: jax.Array, kernel: jax.Array, strides: Sequence[int], pads: PadPairs, groups: int, *,
    interlace_outputs: bool = False,
) -> jax.Array:
    """Grouped convolution as Σ over in-group channels c of a depthwise convolution of the view whose output
    channel o holds input c of o's group (``_group_channel_sources``), by column c of the kernel. With
    ``interlace_outputs`` the views and kernel columns are laid out interlaced (clcNet §3.2)."""
    if interlace_outputs:
        kernel = _interlace_columns(kernel, groups)
    c_out = kernel.shape[-1]
    # The views are formed in float32 so that the input gradient's sum over them is a float32 sum.
    sources = _group_channel_sources(x.astype(accumulator_dtype(x.dtype)), groups, c_out // groups, interlace_outputs)
    return sum(_conv_lax(source.astype(x.dtype), kernel[:, :, c:c + 1, :], strides, pads, c_out)
               for c, source in enumerate(sources))


def conv_block_diagonal(
    x: jax.Array, kernel: jax.Array, strides: Sequence[int], pads: PadPairs, groups: int, *,
    interlace_outputs: bool = False,
) -> jax.Array:
    """Grouped convolution as one dense convolution by the block-diagonal kernel (1×1 unpadded: one matmul).
    With ``interlace_outputs`` the dense kernel's columns are permuted, so the outputs come out interlaced
    with no separate permutation."""
    per_group = kernel.shape[-1] // groups
    dense = block_diagonal_kernel([kernel[..., g * per_group:(g + 1) * per_group] for g in range(groups)])
    if interlace_outputs:
        dense = _interlace_columns(dense, groups)
    if dense.shape[:2] == (1, 1) and pads == ((0, 0), (0, 0)):
        x = x[:, :: strides[0], :: strides[1], :]
        return _dot(x.reshape(-1, x.shape[-1]), dense[0, 0]).reshape(*x.shape[:3], dense.shape[-1])
    return _conv_lax(x, dense, strides, pads, 1)


def resolve_grouped_call(
    op: str, x: jax.Array, kernel: jax.Array, *, strides: Sequence[int], padding: Padding | PadPairs, groups: int,
    impl: str,
) -> tuple[tuple[int, ...], PadPairs, str]:
    """Checks a grouped-conv call's shapes; returns its strides, explicit pads and the implementation to trace."""
    strides = tuple(strides)
    c_in, c_out = x.shape[-1], kernel.shape[-1]
    check_groups(c_in, c_out, groups, what=op.replace("_", " "))
    if kernel.shape[2] * groups != c_in:
        raise ValueError(f"{op.replace('_', ' ')}: kernel {kernel.shape} does not fit C_in={c_in} with groups={groups}")
    pads = explicit_padding(padding, kernel.shape[:2], strides, x.shape[1:3])
    chosen = resolve_impl(
        op, impl, IMPLS, applicable=applicable_impls(c_in, kernel.shape, groups, pads),
        case=conv_case(c_in, kernel.shape, groups, pads), arrays=(x, kernel),
        options={"strides": strides, "padding": pads, "groups": groups},
    )
    return strides, pads, chosen


def grouped_conv(
    x: jax.Array, kernel: jax.Array, *, strides: Sequence[int] = (1, 1), padding: Padding | PadPairs = "symmetric",
    groups: int = 1, impl: str = "auto",
) -> jax.Array:
    """Grouped 2-D convolution of NHWC ``x`` with an HWIO ``kernel`` of shape (k_h, k_w, C_in/groups, C_out).

    Returns [N, H', W', C_out] in the arguments' common dtype, summed in ``accumulator_dtype`` of it.
    Raises ValueError for groups that do not divide the channels, a kernel that does not fit, or an ``impl``
    that is unknown or does not apply (``applicable_impls``).
    """
    strides, pads, chosen = resolve_grouped_call(
        "grouped_conv", x, kernel, strides=strides, padding=padding, groups=groups, impl=impl)
    if chosen == "einsum":
        y = _conv_einsum(x, kernel, strides, groups)
    elif chosen == "matmul":
        y = _conv_matmul(x, kernel, strides, pads, groups)
    elif chosen == "shifted":
        y = conv_shifted(x, kernel, strides, pads, groups)
    elif chosen == "depthwise_sum":
        y = conv_depthwise_sum(x, kernel, strides, pads, groups)
    elif chosen == "block_diagonal":
        y = conv_block_diagonal(x, kernel, strides, pads, groups)
    else:
        y = _conv_lax(x, kernel, strides, pads, groups)
    return y.astype(jnp.result_type(x, kernel))


register_op("grouped_conv", lambda x, kernel, **options: grouped_conv(x, kernel, **options))


class ConvOp(nn.Module):
    """Keyword-only fields every convolution op of ``lightnets.ops`` has.

    Attributes:
      impl: 'auto' (the measured choice for the backend, ``lightnets.ops.dispatch``), 'canonical' or one of
        the op's fast implementations.
      dtype: computation dtype; ``None`` computes in the input's dtype.
      param_dtype: parameter dtype.
      kernel_init: kernel initializer (He-normal over fan-out, as the reference codes).
    """

    impl: str = dataclasses.field(default="auto", kw_only=True)
    dtype: Any = dataclasses.field(default=None, kw_only=True)
    param_dtype: Any = dataclasses.field(default=jnp.float32, kw_only=True)
    kernel_init: Any = dataclasses.field(default=default_kernel_init, kw_only=True)


class GroupedConv(ConvOp):
    """Convolution with ``groups`` contiguous channel groups (groups=1: dense; =C_in=C_out: depthwise).

    ``[N, H, W, C_in]`` → ``[N, H', W', features]``; C_in and ``features`` must divide by ``groups``
    (ValueError otherwise). Parameters: ``kernel`` [k_h, k_w, C_in / groups, features], ``bias`` [features].
    """

    features: int
    kernel_size: Sequence[int] = (1, 1)
    strides: Sequence[int] = (1, 1)
    padding: Padding = "symmetric"
    groups: int = 1
    use_bias: bool = False
    bias_init: Any = nn.initializers.zeros

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        c_in = x.shape[-1]
        check_groups(c_in, self.features, self.groups, what=f"{self.name or 'GroupedConv'}")
        kh, kw = self.kernel_size
        kernel = self.param("kernel", self.kernel_init, (kh, kw, c_in // self.groups, self.features), self.param_dtype)
        dtype = self.dtype or x.dtype
        y = grouped_conv(
            x.astype(dtype), kernel.astype(dtype), strides=self.strides, padding=self.padding,
            groups=self.groups, impl=self.impl,
        )
        if self.use_bias:
            y = y + self.param("bias", self.bias_init, (self.features,), self.param_dtype).astype(dtype)
        return y

    def channel_mask(self, in_features: int) -> np.ndarray:
        """The op's channel dependency graph as a boolean [C_in, C_out] matrix."""
        return grouped_channel_mask(in_features, self.features, self.groups)


def depthwise_conv(channels: int, kernel_size: Sequence[int] = (3, 3), **kwargs: Any) -> GroupedConv:
    """A depthwise ``GroupedConv`` (MobileNet V1 §3.1): one k_h×k_w filter per channel."""
    return GroupedConv(channels, kernel_size, groups=channels, **kwargs)
