"""Choosing among an op's implementations.

Every structured op has a ``canonical`` implementation (the plainest statement of what it computes) and may
have faster ones. Modules take ``impl='auto'``, resolved here from a per-backend table filled in from
``benchmarks/ops.py`` measurements (see docs/ops.md). A backend with no measurement uses ``canonical``.

``canonical_only()`` forces every op to its canonical form while a function is traced; the analysis module
uses it so that convolutions appear as convolutions in the jaxpr it counts.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import jax

# (op, case, backend) -> implementation chosen by `auto`, where `case` is the shape class an op reports
# (e.g. grouped_conv: 'depthwise', 'pointwise', 'spatial'). Only measured backends appear here; an
# entry that does not apply to a call falls back to the canonical implementation.
# CPU entries: benchmarks/ops.py, jax 0.10.2, 2-core CPU (docs/ops.md); GPU/TPU are not measured yet.
AUTO_CHOICES: dict[tuple[str, str, str], str] = {
    ("grouped_conv", "depthwise", "cpu"): "shifted",
    ("grouped_conv", "pointwise", "cpu"): "matmul",
    ("grouped_conv", "grouped", "cpu"): "shifted",
    ("grouped_conv", "spatial", "cpu"): "matmul",
    ("interlaced_group_conv", "grouped", "cpu"): "shifted",
    ("uneven_group_conv", "pointwise", "cpu"): "masked",
    ("max_pool", "", "cpu"): "shifted",
}

_FORCE_CANONICAL = contextvars.ContextVar("lightnets_force_canonical", default=False)


@contextlib.contextmanager
def canonical_only() -> Iterator[None]:
    """Within this context every op traces its canonical implementation."""
    token = _FORCE_CANONICAL.set(True)
    try:
        yield
    finally:
        _FORCE_CANONICAL.reset(token)


def resolve_impl(
    op: str, impl: str, available: tuple[str, ...], *, applicable: tuple[str, ...], case: str = ""
) -> str:
    """Returns the implementation to trace for ``op``.

    Args:
      op: the op's name, as in ``AUTO_CHOICES``.
      impl: what the caller asked for: ``'auto'`` or one of ``available``.
      available: every implementation the op has; the first is the canonical one.
      applicable: the implementations valid for this call's shapes (always includes the canonical one).
      case: the call's shape class, as in ``AUTO_CHOICES``.
    """
    if impl != "auto" and impl not in available:
        raise ValueError(f"{op}: unknown impl {impl!r}; valid: 'auto', " + ", ".join(map(repr, available)))
    canonical = available[0]
    if _FORCE_CANONICAL.get():
        return canonical
    if impl == "auto":
        impl = AUTO_CHOICES.get((op, case, jax.default_backend()), canonical)
        return impl if impl in applicable else canonical
    if impl not in applicable:
        raise ValueError(f"{op}: impl {impl!r} does not apply to this call; applicable: {applicable}")
    return impl
