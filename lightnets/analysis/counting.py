"""Parameters and multiply-adds of a model, computed from the model itself (docs/references.md#counting-convention).

MAdds follow the papers' convention: the multiply-adds of convolutions and fully connected layers (SE
FCs included); BN, activations, pooling, residual adds and shuffles are free. They are read off the jaxpr
of one forward pass traced under ``canonical_only()``, where every structured op is a plain
``conv_general_dilated`` (k_h·k_w·C_in/groups multiply-adds per output element) or ``dot_general``.
Each equation carries its Flax module path, which gives the per-layer breakdown.

Params are every trainable value (conv/FC weights, biases, BN γ/β); BN affine parameters are those of
modules that also own ``batch_stats``, and are reported separately (``params_without_bn``).
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.extend.core as jex
import jax.numpy as jnp
import numpy as np

from lightnets.ops import canonical_only

Path = tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class LayerCount:
    """Counts of one module subtree (``path`` relative to the model)."""

    path: Path
    params: int
    bn_params: int
    madds: int
    output_shape: tuple[int, ...] | None = None

    @property
    def name(self) -> str:
        return "/".join(self.path)


@dataclasses.dataclass(frozen=True)
class ModelCounts:
    params: int
    bn_params: int
    madds: int
    input_size: int
    num_classes: int
    layers: tuple[LayerCount, ...]
    output_shape: tuple[int, ...] | None = None  # the model's output (logits) on one image

    @property
    def params_without_bn(self) -> int:
        return self.params - self.bn_params

    def as_dict(self) -> dict:
        return {
            "params": self.params, "params_without_bn": self.params_without_bn, "bn_params": self.bn_params,
            "madds": self.madds, "input_size": self.input_size, "num_classes": self.num_classes,
        }


def _eqn_madds(eqn: jex.JaxprEqn) -> int:
    name = eqn.primitive.name
    if name == "conv_general_dilated":
        rhs = eqn.invars[1].aval.shape
        spec = eqn.params["dimension_numbers"].rhs_spec  # (out_feature, in_feature, *spatial)
        window = math.prod(rhs[d] for d in spec[2:])
        return math.prod(eqn.outvars[0].aval.shape) * window * rhs[spec[1]]
    if name == "dot_general":
        (contract_lhs, _), _ = eqn.params["dimension_numbers"]
        lhs = eqn.invars[0].aval.shape
        return math.prod(eqn.outvars[0].aval.shape) * math.prod(lhs[d] for d in contract_lhs)
    return 0


def _walk(jaxpr: jex.Jaxpr, prefix: str, multiplier: int, totals: dict[str, int]) -> None:
    for eqn in jaxpr.eqns:
        stack = str(eqn.source_info.name_stack)
        scope = "/".join(s for s in (prefix, stack) if s)
        if eqn.primitive.name == "while":
            raise NotImplementedError("cannot count multiply-adds inside a while loop (unknown trip count)")
        times = multiplier * (eqn.params["length"] if eqn.primitive.name == "scan" else 1)
        for sub in jex.jaxprs_in_params(eqn.params):
            _walk(sub, scope, times, totals)
        madds = _eqn_madds(eqn)
        if madds:
            totals[scope] += madds * multiplier


def madds_by_scope(fn: Callable, *args) -> dict[str, int]:
    """Multiply-adds of ``fn(*args)`` per Flax name scope, with every lightnets op in canonical form."""
    return _madds_and_output_shapes(fn, *args)[0]


def _madds_and_output_shapes(fn: Callable, *args) -> tuple[dict[str, int], Any]:
    """(``madds_by_scope``, ``fn``'s output as ``jax.ShapeDtypeStruct``s) from one trace."""
    with canonical_only():
        closed, output_shapes = jax.make_jaxpr(fn, return_shape=True)(*args)
    totals: dict[str, int] = defaultdict(int)
    _walk(closed.jaxpr, "", 1, totals)
    return dict(totals), output_shapes


def _module_path(scope: str) -> Path:
    """Module path of a name scope: drops the root class name and method scopes such as ``Model.head``."""
    return tuple(part for part in scope.split("/")[1:] if "." not in part)


def _leaf_paths(tree) -> list[tuple[Path, int]]:
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return [(tuple(k.key for k in path), math.prod(leaf.shape)) for path, leaf in flat]


def _module_paths(tree) -> set[Path]:
    return {path[:-1] for path, _ in _leaf_paths(tree)}


def count_model(model: nn.Module, input_size: int = 224, *, in_channels: int = 3, depth: int = 1) -> ModelCounts:
    """Counts ``model`` on one ``input_size``² image; ``layers`` groups by the first ``depth`` path components."""
    x = jax.ShapeDtypeStruct((1, input_size, input_size, in_channels), jnp.float32)
    variables = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros(x.shape, x.dtype), train=False))
    params = variables["params"]
    bn_modules = _module_paths(variables.get("batch_stats", {}))

    def forward(v, images):
        return model.apply(v, images, train=False, capture_intermediates=lambda m, method: method == "__call__"
                           and len(m.scope.path) == depth)

    scopes, (logits, state) = _madds_and_output_shapes(forward, variables, jnp.zeros(x.shape, x.dtype))
    shapes = {
        tuple(k.key for k in path[:-2]): tuple(leaf.shape)
        for path, leaf in jax.tree_util.tree_flatten_with_path(state.get("intermediates", {}))[0]
    }

    rows: dict[Path, list[int]] = defaultdict(lambda: [0, 0, 0])
    order: list[Path] = []

    def row(path: Path) -> list[int]:
        key = path[:depth]
        if key not in rows:
            order.append(key)
        return rows[key]

    for scope, madds in scopes.items():  # execution order
        row(_module_path(scope))[2] += madds
    for path, size in _leaf_paths(params):
        r = row(path)
        r[0] += size
        if path[:-1] in bn_modules:
            r[1] += size
    layers = tuple(LayerCount(p, *rows[p], output_shape=shapes.get(p)) for p in order)
    total = lambda i: sum(r[i] for r in rows.values())  # noqa: E731
    return ModelCounts(
        params=total(0), bn_params=total(1), madds=total(2), input_size=input_size,
        num_classes=getattr(model, "num_classes", -1), layers=layers, output_shape=tuple(logits.shape),
    )


def param_count(params) -> int:
    """Number of scalars in a parameter tree."""
    return int(sum(np.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(params)))
