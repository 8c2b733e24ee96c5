"""Channel dependency graphs (clcNet, Zhang 2018, §3.1): which input channels each output channel depends on.

``channel_dependency`` probes the real module: it feeds one image per input channel (that channel all ones,
the rest zero) through the module with every kernel and BN scale set to one and every bias to zero. All
values then stay non-negative, so nothing cancels and an output channel is non-zero exactly when a path of
non-zero weights connects it to the probed input channel — the CDG, read off the implementation itself
rather than re-derived from its hyper-parameters. BN runs on its (initial) running statistics.

The channel receptive field (CRF) of an output channel is the number of inputs it depends on; a kernel
or block has the full channel receptive field (FCRF) when every output depends on every input (§3.3).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from lightnets.blocks import DescribesBlocks


def _probe_variables(variables):
    def fill(path, leaf):
        return jnp.zeros_like(leaf) if path[-1].key == "bias" else jnp.ones_like(leaf)

    params = jax.tree_util.tree_map_with_path(fill, variables["params"])
    return {**variables, "params": params}


def channel_dependency(module: nn.Module, in_features: int, *, spatial: int = 5, **call_kwargs) -> np.ndarray:
    """Boolean [C_in, C_out]: entry (i, o) is True iff output channel o depends on input channel i.

    ``call_kwargs`` are passed to the module's ``__call__`` (e.g. ``train=False`` for blocks with BN).
    ``spatial`` must be large enough for the module's strides to leave at least one output pixel.
    """
    probe = jnp.broadcast_to(jnp.eye(in_features)[:, None, None, :], (in_features, spatial, spatial, in_features))
    apply = functools.partial(module.apply, **call_kwargs)

    @jax.jit  # one compilation instead of one per eagerly dispatched op (the random init is dead code here)
    def probe_outputs(images: jax.Array) -> jax.Array:
        variables = module.init(jax.random.key(0), images[:1], **call_kwargs)
        return apply(_probe_variables(variables), images)

    out = probe_outputs(probe)
    return np.asarray(jnp.abs(out).sum(axis=(1, 2)) > 0)


def compose(*masks: np.ndarray) -> np.ndarray:
    """CDG of a chain of ops: boolean matrix product of their [C_in, C_out] masks."""
    result = masks[0]
    for mask in masks[1:]:
        if result.shape[1] != mask.shape[0]:
            raise ValueError(f"cannot chain a CDG with {result.shape[1]} outputs into one with {mask.shape[0]} inputs")
        result = (result.astype(np.int64) @ mask.astype(np.int64)) > 0
    return result


def channel_receptive_fields(mask: np.ndarray) -> np.ndarray:
    """CRF size of every output channel (clcNet §3.1)."""
    return mask.sum(axis=0)


def has_full_channel_receptive_field(mask: np.ndarray) -> bool:
    """FCRF: every output channel depends on every input channel (clcNet §3.3)."""
    return bool(np.all(mask))


def blocks_fcrf(blocks: Mapping[str, tuple[nn.Module, int]]) -> dict[str, bool]:
    """FCRF of each named block, probed on the real module: ``{name: (standalone module, C_in)}`` → {name: FCRF}.

    Probes a 1×1 image, which every padded k×k convolution maps to a 1×1 output at any stride. Blocks with
    the same input width and the same ``repr`` (class and every field) are probed once.
    """
    probed: dict[tuple[int, str], bool] = {}
    result = {}
    for name, (module, in_features) in blocks.items():
        key = (in_features, repr(module))
        if key not in probed:
            probed[key] = has_full_channel_receptive_field(channel_dependency(module, in_features, spatial=1))
        result[name] = probed[key]
    return result


def block_fcrf(model: DescribesBlocks) -> dict[str, bool]:
    """{block name: FCRF} of every block a network describes (clcNet §3.3, §5.2), probed on the real modules."""
    return blocks_fcrf({name: (block.module, block.in_features) for name, block in model.describe_blocks().items()})


def block_notes(model: nn.Module) -> dict[str, str]:
    """{block name: "<grouping pattern>, FCRF" or "…, no FCRF"} for networks that describe their blocks
    (``lightnets.blocks.DescribesBlocks``: IGCV3, SeesawNet, clcNet); empty for the others."""
    if not isinstance(model, DescribesBlocks):
        return {}
    fcrf = block_fcrf(model)
    return {
        name: f"{block.note}, {'FCRF' if fcrf[name] else 'no FCRF'}" for name, block in model.describe_blocks().items()
    }
