"""Pairs a lightnets model's layers with the modules of a PyTorch state_dict, in forward order.

Both sides are lists of parameterised layers (convolution, linear/dense, batch norm):

* lightnets: the modules that own variables, in the order the forward pass first calls them (recorded with
  ``flax.linen.intercept_methods`` while ``jax.eval_shape`` traces ``init``, so nothing is computed);
* PyTorch: the state_dict's modules (keys grouped by their prefix) in the order the peer's constructors
  register them, which for every supported peer is its forward order; it is recovered from the module
  names with the source's ranking (``lightnets.pretrained.sources``), as files need not keep it.

The i-th layer of one side is paired with the i-th of the other; each pair must agree in kind and in every
tensor's shape after the layout change, so a wrong order or a different architecture fails on the first
layer that differs, naming both tensors. Layouts: conv ``OIHW → HWIO`` (``[k_h, k_w, C_in / groups,
C_out]``, grouped and depthwise included), linear ``[out, in] → [in, out]`` (a 1×1 conv and a linear layer
may pair), batch norm ``weight, bias, running_mean, running_var → scale, bias, mean, var`` (the same
normalisation: PyTorch's and Flax's BN both divide by sqrt(var + eps); eps and momentum are model options).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

from lightnets.pretrained.state_dict import PretrainedError

CONV, LINEAR, BATCHNORM = "conv", "linear", "batchnorm"
# PyTorch BN's step counter: no lightnets counterpart, and not needed to compute anything.
IGNORED_SUFFIXES = ("num_batches_tracked",)
_BN_LEAVES = {"weight": ("params", "scale"), "bias": ("params", "bias"),
              "running_mean": ("batch_stats", "mean"), "running_var": ("batch_stats", "var")}


@dataclasses.dataclass(frozen=True)
class ModelLayer:
    """A lightnets module that owns variables: its path and kind, and its variables' shapes keyed by
    (collection, leaf name), e.g. ``('params', 'kernel')``."""

    path: tuple[str, ...]
    kind: str
    shapes: Mapping[tuple[str, str], tuple[int, ...]]

    @property
    def name(self) -> str:
        return "/".join(self.path)


@dataclasses.dataclass(frozen=True)
class TorchLayer:
    """A PyTorch module of a state_dict: its prefix, kind and tensors keyed by leaf name ('weight', 'bias',
    'running_mean', 'running_var')."""

    prefix: str
    kind: str
    tensors: Mapping[str, np.ndarray]


def model_layers(model: nn.Module, image_size: int) -> list[ModelLayer]:
    """``model``'s parameterised layers in forward order, traced at ``image_size`` (no computation)."""
    calls: dict[tuple[str, ...], None] = {}

    def record(next_fun, args, kwargs, context):
        if context.method_name == "__call__":
            calls.setdefault(tuple(context.module.path), None)
        return next_fun(*args, **kwargs)

    images = jnp.zeros((1, image_size, image_size, 3), jnp.float32)
    with nn.intercept_methods(record):
        variables = jax.eval_shape(lambda: model.init(jax.random.key(0), images, train=False))
    owned: dict[tuple[str, ...], dict[tuple[str, str], tuple[int, ...]]] = {}
    for (collection, *path, leaf), value in traverse_util.flatten_dict(dict(variables)).items():
        owned.setdefault(tuple(path), {})[(collection, leaf)] = tuple(value.shape)
    order = {path: i for i, path in enumerate(calls)}
    return [ModelLayer(path, _model_kind(path, shapes), shapes)
            for path, shapes in sorted(owned.items(), key=lambda item: order[item[0]])]


def torch_layers(state_dict: Mapping[str, np.ndarray], module_order: Sequence[str], *, source: str
                 ) -> list[TorchLayer]:
    """The state_dict's modules in the peer's registration (= forward) order, whatever the file's order
    (safetensors files are sorted by key).

    ``module_order`` ranks the peer's module names as its constructors register them; a prefix component is
    a number (a ``Sequential`` index), a ranked name, or a ranked name plus a number (``block12``,
    ``stage2``), compared in that order. Raises PretrainedError naming a tensor whose module name is not
    ranked (a file of another architecture).
    """
    grouped: dict[str, dict[str, np.ndarray]] = {}
    for key, value in state_dict.items():
        prefix, _, leaf = key.rpartition(".")
        if leaf not in IGNORED_SUFFIXES:
            grouped.setdefault(prefix, {})[leaf] = value
    rank = {name: i for i, name in enumerate(module_order)}

    def component_key(prefix: str, component: str) -> tuple[int, int]:
        if component.isdigit():
            return -1, int(component)
        if component in rank:
            return rank[component], -1
        match = re.fullmatch(r"(.*?)(\d+)", component)
        if match and match.group(1) in rank:
            return rank[match.group(1)], int(match.group(2))
        raise PretrainedError(f"{source}: unexpected tensor {prefix}.{next(iter(grouped[prefix]))}: the peer has "
                              f"no module named {component!r}")

    ordered = sorted(grouped, key=lambda prefix: [component_key(prefix, c) for c in prefix.split(".")])
    return [TorchLayer(prefix, _torch_kind(prefix, grouped[prefix]), grouped[prefix]) for prefix in ordered]


def import_variables(model_side: Sequence[ModelLayer], torch_side: Sequence[TorchLayer], *, source: str
                     ) -> dict[str, dict]:
    """lightnets variables ({'params': ..., 'batch_stats': ...}, float32) from the paired torch tensors.

    Raises PretrainedError naming the first tensor that is missing, unexpected or mis-shaped; ``source``
    names the weights' origin in those messages.
    """
    flat: dict[tuple[str, ...], np.ndarray] = {}
    for ours, theirs in _pairs(model_side, torch_side, source=source):
        for (collection, leaf), value in _to_lightnets(ours, theirs, source=source).items():
            flat[(collection, *ours.path, leaf)] = value
    return traverse_util.unflatten_dict(flat)


def _pairs(model_side: Sequence[ModelLayer], torch_side: Sequence[TorchLayer], *, source: str):
    for i, ours in enumerate(model_side):
        if i == len(torch_side):
            after = f" after {torch_side[-1].prefix}" if torch_side else ""
            raise PretrainedError(f"{source}: missing tensors for {ours.name} ({ours.kind}): the file has no "
                                  f"more layers{after}")
        theirs = torch_side[i]
        compatible = ours.kind == theirs.kind or {ours.kind, theirs.kind} == {CONV, LINEAR}
        if not compatible:
            raise PretrainedError(f"{source}: tensor {theirs.prefix}.weight ({theirs.kind}) does not fit "
                                  f"{ours.name} ({ours.kind})")
        yield ours, theirs
    if len(torch_side) > len(model_side):
        extra = torch_side[len(model_side)]
        raise PretrainedError(f"{source}: unexpected tensor {extra.prefix}.{next(iter(extra.tensors))}: the model "
                              f"has no layer after {model_side[-1].name}")


def _to_lightnets(ours: ModelLayer, theirs: TorchLayer, *, source: str) -> dict[tuple[str, str], np.ndarray]:
    if ours.kind == BATCHNORM:
        values = {_BN_LEAVES[leaf]: value for leaf, value in theirs.tensors.items() if leaf in _BN_LEAVES}
        names = {_BN_LEAVES[leaf]: f"{theirs.prefix}.{leaf}" for leaf in _BN_LEAVES}
    else:
        wanted = ours.shapes[("params", "kernel")]
        values = {("params", "kernel"): _kernel_from_torch(theirs.tensors["weight"], len(wanted))}
        names = {("params", "kernel"): f"{theirs.prefix}.weight", ("params", "bias"): f"{theirs.prefix}.bias"}
        if "bias" in theirs.tensors:
            values[("params", "bias")] = theirs.tensors["bias"]
    for key in ours.shapes:
        if key not in values:
            raise PretrainedError(f"{source}: missing tensor {names[key]} for {ours.name}/{key[1]}")
    for key, value in values.items():
        if key not in ours.shapes:
            raise PretrainedError(f"{source}: unexpected tensor {names[key]}: {ours.name} has no {key[1]}")
        if value.shape != ours.shapes[key]:
            original = theirs.tensors[names[key].rpartition(".")[2]].shape
            raise PretrainedError(f"{source}: tensor {names[key]} of shape {tuple(original)} does not fit "
                                  f"{ours.name}/{key[1]} of shape {ours.shapes[key]}")
    return {key: np.asarray(value, np.float32) for key, value in values.items()}


def _kernel_from_torch(weight: np.ndarray, ndim: int) -> np.ndarray:
    """OIHW (or [out, in]) → HWIO (or [in, out]); a 1×1 conv weight becomes a dense kernel and back."""
    if weight.ndim == 4:
        kernel = weight.transpose(2, 3, 1, 0)
        return kernel.reshape(kernel.shape[2:]) if ndim == 2 and kernel.shape[:2] == (1, 1) else kernel
    return weight.T if ndim == 2 else weight.T.reshape(1, 1, *weight.T.shape)


def _model_kind(path: tuple[str, ...], shapes: Mapping[tuple[str, str], tuple[int, ...]]) -> str:
    if ("batch_stats", "mean") in shapes:
        return BATCHNORM
    kernel = shapes.get(("params", "kernel"))
    if kernel is not None and len(kernel) in (2, 4):
        return CONV if len(kernel) == 4 else LINEAR
    raise PretrainedError(f"layer {'/'.join(path)} with variables {sorted(leaf for _, leaf in shapes)} has no "
                          f"PyTorch counterpart (supported: conv, dense, batch norm)")


def _torch_kind(prefix: str, tensors: Mapping[str, np.ndarray]) -> str:
    if "running_mean" in tensors:
        return BATCHNORM
    weight = tensors.get("weight")
    if weight is not None and weight.ndim in (2, 4):
        return CONV if weight.ndim == 4 else LINEAR
    raise PretrainedError(f"tensors {', '.join(f'{prefix}.{leaf}' for leaf in tensors)} are not a conv, linear or "
                          f"batch norm layer")
