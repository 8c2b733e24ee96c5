"""impl selection: AUTO_CHOICES entries are valid, and canonical_only() makes every op trace canonical
convolutions with exactly the op's multiply-adds (the MAdds counter relies on it)."""

import math

import jax
import numpy as np
import pytest

from lightnets import ops
from lightnets.ops import dispatch, grouped, pooling, shuffle, uneven

from .reference import normal

OP_IMPLS = {
    "grouped_conv": grouped.IMPLS, "interlaced_group_conv": grouped.IMPLS,
    "uneven_group_conv": uneven.IMPLS, "channel_shuffle": shuffle.IMPLS, "max_pool": pooling.IMPLS,
}
OP_CASES = {
    "grouped_conv": {"depthwise", "pointwise", "grouped", "spatial"},
    "interlaced_group_conv": {"depthwise", "pointwise", "grouped", "spatial"},
    "uneven_group_conv": {"pointwise", "spatial"}, "channel_shuffle": {""}, "max_pool": {""},
}


def test_auto_choices_name_real_ops_cases_and_impls():
    for (op, case, backend), impl in ops.AUTO_CHOICES.items():
        assert impl in OP_IMPLS[op][1:], (op, case, backend, impl)  # canonical is the fallback, never listed
        assert case in OP_CASES[op] and backend in ("cpu", "gpu", "tpu")


def test_resolve_impl(monkeypatch):
    backend = jax.default_backend()
    assert dispatch.resolve_impl("op", "auto", ("a", "b"), applicable=("a", "b"), case="c") == "a"
    monkeypatch.setitem(dispatch.AUTO_CHOICES, ("op", "c", backend), "b")
    assert dispatch.resolve_impl("op", "auto", ("a", "b"), applicable=("a", "b"), case="c") == "b"
    assert dispatch.resolve_impl("op", "auto", ("a", "b"), applicable=("a",), case="c") == "a"
    with ops.canonical_only():
        assert dispatch.resolve_impl("op", "b", ("a", "b"), applicable=("a", "b"), case="c") == "a"
    assert dispatch.resolve_impl("op", "b", ("a", "b"), applicable=("a", "b"), case="c") == "b"


def _equations(jaxpr):
    for eqn in jaxpr.eqns:
        yield eqn
        for value in eqn.params.values():
            inner = getattr(value, "jaxpr", value)
            if hasattr(inner, "eqns"):
                yield from _equations(inner)


def _conv_madds(fn, *args):
    """(multiply-adds of the conv equations, names of all primitives) of ``fn`` traced under canonical_only."""
    with ops.canonical_only():
        jaxpr = jax.make_jaxpr(fn)(*args).jaxpr
    madds, names = 0, set()
    for eqn in _equations(jaxpr):
        names.add(eqn.primitive.name)
        if eqn.primitive.name == "conv_general_dilated":
            kh, kw, width, _ = eqn.invars[1].aval.shape
            madds += math.prod(eqn.outvars[0].aval.shape) * kh * kw * width
    return madds, names


X = normal(0, 2, 6, 6, 8)
SE_PARAMS = ops.SqueezeExcite(4).init(jax.random.key(0), X)
CASES = {
    # name: (fn, expected MAdds = k_h·k_w·C_in/groups·C_out·H_out·W_out·N)
    "depthwise shifted": (lambda x: ops.grouped_conv(x, normal(1, 3, 3, 1, 8), groups=8, impl="shifted"), 9 * 8 * 72),
    "pointwise einsum": (lambda x: ops.grouped_conv(x, normal(1, 1, 1, 4, 8), groups=2, impl="einsum"), 4 * 8 * 72),
    "pointwise matmul": (lambda x: ops.grouped_conv(x, normal(1, 1, 1, 4, 8), groups=2, impl="matmul"), 4 * 8 * 72),
    "spatial matmul": (lambda x: ops.grouped_conv(x, normal(1, 3, 3, 8, 8), impl="matmul"), 9 * 8 * 8 * 72),
    "grouped shifted": (lambda x: ops.grouped_conv(x, normal(1, 3, 3, 2, 8), groups=4, impl="shifted"), 18 * 8 * 72),
    "interlaced shifted": (
        lambda x: ops.interlaced_group_conv(x, normal(1, 3, 3, 2, 8), groups=4, impl="shifted"), 18 * 8 * 72),
    "uneven masked": (
        lambda x: ops.uneven_group_conv(x, [normal(1, 1, 1, 2, 4), normal(2, 1, 1, 6, 12)], impl="masked"),
        (2 * 4 + 6 * 12) * 72),
    "even c2sp shifted": (
        lambda x: ops.EvenDepthwiseConv(ops.C2SP, impl="shifted").apply({"params": {"kernel": normal(1, 2, 2, 1, 8)}}, x),
        4 * 8 * 72),
    "squeeze excite": (
        lambda x: ops.SqueezeExcite(4).apply(SE_PARAMS, x), 2 * (8 * 4) * 2),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_canonical_only_traces_convolutions_with_the_papers_madds(name):
    fn, expected = CASES[name]
    madds, names = _conv_madds(fn, X)
    assert madds == expected
    assert "dot_general" not in names and "gather" not in names
    np.testing.assert_allclose(fn(X), jax.jit(fn)(X), rtol=1e-5, atol=1e-5)


def test_canonical_only_shuffle_and_interlace_are_reshapes():
    for impl in shuffle.IMPLS:
        madds, names = _conv_madds(lambda x, impl=impl: ops.channel_shuffle(ops.interlace(x, 4, impl=impl), 2), X)
        assert madds == 0 and "gather" not in names and "transpose" in names


def test_canonical_only_max_pool_is_a_reduce_window():
    _, names = _conv_madds(lambda x: ops.max_pool(x, (3, 3), (2, 2), ((1, 1), (1, 1)), impl="shifted"), X)
    assert "reduce_window_max" in names and "max" not in names


def test_fast_paths_trace_no_convolution_outside_canonical_only():
    jaxpr = jax.make_jaxpr(lambda x: ops.grouped_conv(x, normal(1, 3, 3, 1, 8), groups=8, impl="shifted"))(X)
    assert "conv_general_dilated" not in {e.primitive.name for e in _equations(jaxpr.jaxpr)}
