"""Choosing among an op's implementations.

Every structured op has a ``canonical`` implementation (the plainest statement of what it computes) and may
have faster ones. Modules take ``impl='auto'``, resolved here, in this order:

1. ``canonical_only()`` is active: the canonical implementation (the MAdds counter traces under it, so that
   convolutions appear as convolutions in the jaxpr it counts);
2. a winner measured on this device for this exact call by ``lightnets.ops.autotune`` (``OpCall.key``;
   ``tuned_choices`` replaces these while the autotuner times candidate sets);
3. ``AUTO_CHOICES[(op, case, backend)]``, the per-backend table (docs/ops.md says where each entry comes
   from);
4. the canonical implementation.

Every resolution of ``'auto'`` is an ``OpCall``: the op, its shape case, its array arguments' shapes and
dtype and its static options. ``recording()`` collects them while a function is traced (what the
autotuner measures), and ``target_backend()`` resolves as on another backend (what the structural tests of
the GPU choices trace on a CPU).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import jax
import numpy as np

BACKENDS = ("cpu", "gpu", "tpu")

# (op, case, backend) -> implementation chosen by `auto`, where `case` is the shape class an op reports
# (e.g. grouped_conv: 'depthwise', 'pointwise', 'spatial'). An entry that does not apply to a call falls
# back to the canonical implementation; a (op, case, backend) with no entry uses the canonical one.
AUTO_CHOICES: dict[tuple[str, str, str], str] = {
    # CPU: measured by benchmarks/ops.py, jax 0.10.2, 2-core CPU (docs/ops.md).
    ("grouped_conv", "depthwise", "cpu"): "shifted",
    ("grouped_conv", "pointwise", "cpu"): "matmul",
    ("grouped_conv", "grouped", "cpu"): "shifted",
    ("grouped_conv", "spatial", "cpu"): "matmul",
    ("interlaced_group_conv", "grouped", "cpu"): "shifted",
    ("uneven_group_conv", "pointwise", "cpu"): "masked",
    ("max_pool", "", "cpu"): "shifted",
    # GPU: NOT MEASURED. Chosen by a structural rule (docs/ops.md, "GPU"): no convolution whose forward or
    # backward is a grouped convolution other than depthwise (jax#13800: XLA:GPU computes the backward of
    # 1 < feature_group_count < C at dense cost). Depthwise and dense convolutions stay canonical.
    ("grouped_conv", "pointwise", "gpu"): "einsum",
    ("grouped_conv", "grouped", "gpu"): "depthwise_sum",
    ("grouped_conv", "spatial", "gpu"): "block_diagonal",
    ("interlaced_group_conv", "pointwise", "gpu"): "einsum",
    ("interlaced_group_conv", "grouped", "gpu"): "depthwise_sum",
    ("interlaced_group_conv", "spatial", "gpu"): "block_diagonal",
    ("uneven_group_conv", "pointwise", "gpu"): "masked",
    ("uneven_group_conv", "spatial", "gpu"): "masked",
}

_FORCE_CANONICAL = contextvars.ContextVar("lightnets_force_canonical", default=False)
_TARGET_BACKEND: contextvars.ContextVar[str | None] = contextvars.ContextVar("lightnets_target_backend", default=None)
_RECORDER: contextvars.ContextVar[dict | None] = contextvars.ContextVar("lightnets_recorder", default=None)
_OVERRIDE: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar("lightnets_override", default=None)

# (backend, OpCall.key) -> implementation measured fastest on this process's device (``use_tuned``).
_TUNED: dict[tuple[str, str], str] = {}
# op name -> fn(*arrays, impl=..., **options) computing the op, registered by the op's module.
_OPS: dict[str, Callable[..., jax.Array]] = {}


@dataclasses.dataclass(frozen=True)
class OpCall:
    """One call of an op at fixed shapes: what ``auto`` resolves, the autotuner measures and its cache keys.

    Attributes:
      op: the op's name, as in ``AUTO_CHOICES`` (e.g. 'grouped_conv').
      case: the call's shape class, as in ``AUTO_CHOICES``.
      shapes: shapes of the op's array arguments, in order (e.g. input NHWC, kernel HWIO).
      dtype: the arguments' dtype name (e.g. 'bfloat16').
      options: the op's static keyword arguments as sorted (name, value) pairs (strides, pads, groups…).
      applicable: the implementations that can compute this call, canonical first.
    """

    op: str
    case: str
    shapes: tuple[tuple[int, ...], ...]
    dtype: str
    options: tuple[tuple[str, Any], ...]
    applicable: tuple[str, ...]

    @property
    def key(self) -> str:
        """A stable text naming the call (op, case, shapes, dtype, options), used as the autotune cache key."""
        shapes = ";".join("x".join(map(str, s)) for s in self.shapes)
        options = ",".join(f"{name}={value}" for name, value in self.options)
        return f"{self.op}|{self.case}|{shapes}|{self.dtype}|{options}"

    def function(self, impl: str) -> Callable[..., jax.Array]:
        """``fn(*arrays)`` computing this call with implementation ``impl``."""
        op, options = _OPS[self.op], dict(self.options)
        return lambda *arrays: op(*arrays, impl=impl, **options)


def register_op(name: str, fn: Callable[..., jax.Array]) -> None:
    """Makes ``OpCall.function`` able to call op ``name``: ``fn(*arrays, impl=..., **options)``."""
    _OPS[name] = fn


@contextlib.contextmanager
def canonical_only() -> Iterator[None]:
    """Within this context every op traces its canonical implementation."""
    token = _FORCE_CANONICAL.set(True)
    try:
        yield
    finally:
        _FORCE_CANONICAL.reset(token)


@contextlib.contextmanager
def target_backend(backend: str) -> Iterator[None]:
    """Within this context ``auto`` resolves as on ``backend`` ('cpu', 'gpu' or 'tpu'), whatever JAX runs on.

    Raises:
      ValueError: ``backend`` is not one of ``BACKENDS``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"target_backend: unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    token = _TARGET_BACKEND.set(backend)
    try:
        yield
    finally:
        _TARGET_BACKEND.reset(token)


def current_backend() -> str:
    """The backend ``auto`` resolves for: ``target_backend``'s if one is active, else JAX's default."""
    return _TARGET_BACKEND.get() or jax.default_backend()


@contextlib.contextmanager
def recording() -> Iterator[dict[str, OpCall]]:
    """Collects every ``OpCall`` resolved with ``impl='auto'`` (and more than one applicable implementation)
    while the context is active, keyed by ``OpCall.key``; trace the function of interest inside it."""
    calls: dict[str, OpCall] = {}
    token = _RECORDER.set(calls)
    try:
        yield calls
    finally:
        _RECORDER.reset(token)


@contextlib.contextmanager
def tuned_choices(choices: Mapping[str, str]) -> Iterator[None]:
    """Within this context ``auto`` uses exactly ``choices`` (``OpCall.key`` → implementation) where
    ``use_tuned`` choices would apply, and the static table elsewhere: how the autotuner times a whole
    function under a candidate set of choices."""
    token = _OVERRIDE.set(dict(choices))
    try:
        yield
    finally:
        _OVERRIDE.reset(token)


def use_tuned(choices: Mapping[str, str], *, backend: str | None = None) -> None:
    """Makes ``auto`` pick ``choices[OpCall.key]`` on ``backend`` (default: JAX's) for calls it lists.

    Choices made before a function was traced stay in its compiled form; call this before tracing.
    """
    backend = backend or jax.default_backend()
    _TUNED.update({(backend, key): impl for key, impl in choices.items()})


def clear_tuned() -> None:
    """Forgets every choice given to ``use_tuned``."""
    _TUNED.clear()


def _static(value: Any) -> Any:
    """A hashable, printable form of an op option (lists of pairs become tuples)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_static(v) for v in value)
    return value


def resolve_impl(
    op: str, impl: str, available: tuple[str, ...], *, applicable: tuple[str, ...], case: str = "",
    arrays: Sequence[jax.Array] = (), options: Mapping[str, Any] | None = None,
) -> str:
    """Returns the implementation to trace for ``op`` (see the module docstring for the order).

    Args:
      op: the op's name, as in ``AUTO_CHOICES``.
      impl: what the caller asked for: ``'auto'`` or one of ``available``.
      available: every implementation the op has; the first is the canonical one.
      applicable: the implementations valid for this call's shapes (always includes the canonical one).
      case: the call's shape class, as in ``AUTO_CHOICES``.
      arrays: the op's array arguments (their shapes and dtype identify the call for the autotuner).
      options: the op's static keyword arguments, so that ``OpCall.function`` can repeat the call.

    Raises:
      ValueError: ``impl`` is not 'auto' or one of ``available``, or does not apply to this call.
    """
    if impl != "auto" and impl not in available:
        raise ValueError(f"{op}: unknown impl {impl!r}; valid: 'auto', " + ", ".join(map(repr, available)))
    canonical = available[0]
    if impl != "auto" and impl not in applicable:
        raise ValueError(f"{op}: impl {impl!r} does not apply to this call; applicable: {applicable}")
    if _FORCE_CANONICAL.get():
        return canonical
    if impl != "auto":
        return impl
    backend = current_backend()
    chosen = AUTO_CHOICES.get((op, case, backend), canonical)
    if arrays and len(applicable) > 1:
        call = OpCall(
            op, case, tuple(tuple(a.shape) for a in arrays), str(np.dtype(arrays[0].dtype)),
            tuple(sorted((name, _static(value)) for name, value in (options or {}).items())), applicable,
        )
        recorder = _RECORDER.get()
        if recorder is not None:
            recorder.setdefault(call.key, call)
        override = _OVERRIDE.get()
        chosen = (override.get(call.key, chosen) if override is not None
                  else _TUNED.get((backend, call.key), chosen))
    return chosen if chosen in applicable else canonical
