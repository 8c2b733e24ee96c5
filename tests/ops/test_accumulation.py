"""Every implementation sums in float32 for bfloat16 inputs: its outputs and gradients are the float32 result
rounded once to bfloat16 (at most one unit roundoff, 2⁻⁸, relative to each element), not a bfloat16 running
sum. One exception, by construction: depthwise_sum's input gradient is the float32 sum of its views'
gradients, each of which a bfloat16 convolution rounds once; it is held to one unit roundoff of the largest
element (normwise)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lightnets import ops
from lightnets.ops import grouped, uneven

from .reference import normal

ZERO = ((0, 0), (0, 0))
# name: (op, impls, input shape, kernel shapes, options)
CALLS = {
    "depthwise 7x7": (ops.grouped_conv, (2, 9, 9, 16), [(7, 7, 1, 16)], dict(groups=16, padding=((3, 3), (3, 3)))),
    "grouped 3x3, 4 per group": (ops.grouped_conv, (2, 8, 8, 16), [(3, 3, 4, 16)], dict(groups=4, padding=((1, 1), (1, 1)))),
    "pointwise g2": (ops.grouped_conv, (2, 6, 6, 64), [(1, 1, 32, 32)], dict(groups=2, padding=ZERO)),
    "dense 3x3": (ops.grouped_conv, (2, 7, 7, 16), [(3, 3, 16, 8)], dict(groups=1, padding=((1, 1), (1, 1)))),
    "interlaced 3x3 g8": (ops.interlaced_group_conv, (2, 7, 7, 16), [(3, 3, 2, 16)], dict(groups=8, padding=((1, 1), (1, 1)))),
    "uneven 1x1": (lambda x, *ks, **kw: ops.uneven_group_conv(x, ks, **kw), (2, 6, 6, 64), [(1, 1, 16, 8), (1, 1, 48, 24)],
                   dict(padding=ZERO)),
}


def _impls(name):
    _, x_shape, kernel_shapes, options = CALLS[name]
    if name.startswith("uneven"):
        return uneven.IMPLS
    return grouped.applicable_impls(x_shape[-1], kernel_shapes[0], options["groups"], options["padding"])


def _value_and_grads(fn, cotangent, *args):
    y, vjp = jax.vjp(fn, *args)
    return [y, *vjp(cotangent)]


def _check(got, want, what, *, normwise=False):
    got, want = np.asarray(got, np.float32), np.asarray(want, np.float32)
    bound = 2.0**-8 * np.abs(want).max() if normwise else 2.0**-8 * np.abs(want) + 2.0**-16 * np.abs(want).max()
    excess = np.abs(got - want) - bound
    assert excess.max() <= 0, f"{what}: off by up to {np.abs(got - want).max():.3g} (relative bound 2^-8)"


def _check_impls(name, impls):
    fn, x_shape, kernel_shapes, options = CALLS[name]
    args = [normal(0, *x_shape)] + [normal(i + 1, *s) for i, s in enumerate(kernel_shapes)]
    args = [a.astype(jnp.bfloat16) for a in args]
    canonical = "split" if "uneven" in name else "lax"
    out_shape = jax.eval_shape(lambda *a: fn(*a, impl=canonical, **options), *args)
    cotangent = normal(9, *out_shape.shape).astype(jnp.bfloat16)
    want = jax.jit(lambda *a: _value_and_grads(lambda *b: fn(*b, impl=canonical, **options), cotangent.astype(jnp.float32),
                                               *a))(*[a.astype(jnp.float32) for a in args])
    for impl in impls:
        got = jax.jit(lambda *a, impl=impl: _value_and_grads(lambda *b: fn(*b, impl=impl, **options), cotangent, *a))(*args)
        assert [g.dtype for g in got] == [jnp.bfloat16] * len(got)
        for index, (g, w) in enumerate(zip(got, want, strict=True)):
            what = f"{name} impl={impl} {'output' if index == 0 else f'gradient {index - 1}'}"
            _check(g, w, what, normwise=impl == "depthwise_sum" and index == 1)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_bfloat16_results_are_float32_sums_rounded_once(name):
    _check_impls(name, _impls(name))


def test_a_bfloat16_running_sum_fails_the_check(monkeypatch):
    """The check catches what it is for: the shifted form summing its 49 taps in bfloat16."""
    monkeypatch.setattr(grouped, "accumulator_dtype", lambda dtype: dtype)
    with pytest.raises(AssertionError, match="depthwise 7x7 impl=shifted output"):
        _check_impls("depthwise 7x7", ["shifted"])
