"""ops.autotune: the measured winner is what `auto` traces, winners persist across processes, results equal the
canonical forms, and the time budget bounds the measuring."""

import json
import subprocess
import sys
import textwrap
import time

import jax
import numpy as np
import pytest

from lightnets import ops
from lightnets.ops import tuning

from .reference import normal
from .test_dispatch import _equations

X = normal(0, 4, 8, 8, 8)
GROUPED = normal(1, 3, 3, 2, 8)  # 4 groups of 2 channels: the 'grouped' case
POINTWISE = normal(2, 1, 1, 4, 8)  # 2 groups: the 'pointwise' case


def net(x):
    y = ops.grouped_conv(x, GROUPED, groups=4, padding=((1, 1), (1, 1)))
    return ops.grouped_conv(jax.nn.relu(y), POINTWISE, groups=2, padding="VALID")


@pytest.fixture(autouse=True)
def _forget_tuned_choices():
    yield
    ops.clear_tuned()


def _conv_groups(fn, *args):
    """feature_group_count of each convolution ``fn`` traces (a new function each time: JAX caches traces by
    function, and the choices are not part of its cache key)."""
    return sorted(e.params["feature_group_count"] for e in _equations(jax.make_jaxpr(lambda *a: fn(*a))(*args).jaxpr)
                  if e.primitive.name == "conv_general_dilated")


def test_records_each_distinct_call_once():
    calls = tuning.record_calls(lambda x: net(net(x) + x), X)
    assert sorted(c.case for c in calls.values()) == ["grouped", "pointwise"]
    grouped = next(c for c in calls.values() if c.case == "grouped")
    assert grouped.shapes == ((4, 8, 8, 8), (3, 3, 2, 8)) and grouped.dtype == "float32"
    assert dict(grouped.options) == {"groups": 4, "padding": ((1, 1), (1, 1)), "strides": (1, 1)}
    assert grouped.applicable[0] == "lax" and "depthwise_sum" in grouped.applicable


def test_the_measured_winner_is_traced_and_equals_canonical():
    def measure(call, impl, *, repeats, batch=None):  # 'lax' wins every call
        return 0.001 if impl == "lax" else 1.0

    assert 4 not in _conv_groups(net, X)  # the static CPU choice for 4 groups of 2 is not a grouped lax conv
    result = ops.autotune(net, X, cache_dir="", measure=measure, measure_fn=None)
    assert set(result.choices.values()) == {"lax"} and not result.skipped
    assert _conv_groups(net, X) == [2, 4]
    with ops.canonical_only():
        expected = jax.jit(lambda x: net(x))(X)
    np.testing.assert_allclose(jax.jit(lambda x: net(x))(X), expected, rtol=1e-5, atol=1e-5)


def test_winners_that_slow_the_whole_function_are_not_kept():
    """Stage 2: all winners together lose; the (op, case) groups are tried one by one, and only the gaining one
    is kept."""
    def measure(call, impl, *, repeats, batch=None):  # 'lax' wins both calls alone
        return 0.001 if impl == "lax" else 1.0

    seen = []

    def measure_fn(fn, args, choices, *, repeats):
        cases = sorted({key.split("|")[1] for key in choices})
        seen.append(cases)
        return {(): 1.0, ("grouped",): 0.8, ("pointwise",): 1.2}.get(tuple(cases), 1.5)

    result = ops.autotune(net, X, cache_dir="", measure=measure, measure_fn=measure_fn)
    assert seen == [[], ["grouped", "pointwise"], ["grouped"], ["grouped", "pointwise"]]
    assert [k.split("|")[1] for k in result.choices] == ["grouped"] and result.choices[next(iter(result.choices))] == "lax"
    assert [k.split("|")[1] for k in result.rejected] == ["pointwise"]
    assert result.function_seconds == {"static": 1.0, "all winners": 1.5, "+grouped_conv/grouped": 0.8,
                                       "+grouped_conv/pointwise": 1.5}
    assert 4 in _conv_groups(net, X)  # the kept 'lax' grouped conv is traced


def test_a_verdict_cut_short_by_the_budget_is_not_cached(tmp_path):
    def measure(call, impl, *, repeats, batch=None):
        return 0.001 if impl == "lax" else 1.0

    ops.autotune(net, X, cache_dir=tmp_path, measure=measure, measure_fn=None)  # per-call timings cached
    calls = []
    ops.autotune(net, X, cache_dir=tmp_path, time_budget_s=0, measure=measure,
                 measure_fn=lambda *a, **k: calls.append(1) or 1.0)
    assert calls == [] and not json.loads(tuning.cache_file(tmp_path).read_text())["functions"]
    kept = ops.autotune(net, X, cache_dir=tmp_path, measure=measure, measure_fn=lambda *a, **k: calls.append(1) or 1.0)
    assert calls and not kept.choices  # timed this time: equal times keep the static table


def test_canonical_only_still_rejects_an_impl_that_does_not_apply():
    with ops.canonical_only(), pytest.raises(ValueError, match="impl 'depthwise_sum' does not apply"):
        ops.grouped_conv(X, normal(1, 3, 3, 1, 8), groups=8, impl="depthwise_sum")


def test_slow_forms_are_probed_at_batch_1_not_timed_at_full_batch():
    seen = []

    def measure(call, impl, *, repeats, batch=None):
        seen.append((impl, batch))
        return {"shifted": 0.01, "matmul": 0.005}.get(impl, 0.5) * (1 if batch is None else 0.1)

    result = ops.autotune(lambda x: ops.grouped_conv(x, GROUPED, groups=4), X, cache_dir="", measure=measure,
                          measure_fn=None)
    assert list(result.choices.values()) == ["matmul"]
    assert seen[0] == ("shifted", None)  # the static CPU choice first, at full batch
    assert ("matmul", None) in seen and ("lax", None) not in seen and ("lax", 1) in seen


def test_time_budget_bounds_the_measuring():
    def slow(call, impl, *, repeats, batch=None):
        time.sleep(0.2)
        return 0.2

    start = time.monotonic()
    result = ops.autotune(net, X, cache_dir="", time_budget_s=0.5, measure=slow, measure_fn=None)
    # stage 1 stops starting measurements at 0.6 × budget; one may be running then
    assert time.monotonic() - start < 0.6 * 0.5 + 0.2 + 0.5
    assert result.skipped and len(result.choices) + len(result.skipped) == 2
    nothing = ops.autotune(net, X, cache_dir="", time_budget_s=0, measure=slow, measure_fn=None)
    assert set(nothing.skipped) == set(tuning.record_calls(net, X)) and not nothing.choices


def test_bad_arguments_and_cache_files_get_clear_errors(tmp_path):
    for budget in (-1, float("nan"), "5"):
        with pytest.raises(ValueError, match="time_budget_s=.*; valid: finite seconds >= 0"):
            ops.autotune(net, X, cache_dir="", time_budget_s=budget)
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ValueError, match="a_file' is not a directory; valid: a writable directory"):
        ops.autotune(net, X, cache_dir=tmp_path / "a_file" / "sub")
    tuning.cache_file(tmp_path).write_text('{"calls": {"k": {"seconds": null}}}')
    with pytest.raises(ValueError, match="is not a lightnets autotune file"):
        ops.autotune(net, X, cache_dir=tmp_path)
    tuning.cache_file(tmp_path).write_text("not json")
    with pytest.raises(ValueError, match="is not a lightnets autotune file"):
        ops.autotune(net, X, cache_dir=tmp_path)


_PROCESS = textwrap.dedent("""
    import json, sys
    import jax
    from lightnets import ops
    x = jax.random.normal(jax.random.key(0), (2, 6, 6, 8))
    k = jax.random.normal(jax.random.key(1), (3, 3, 2, 8))
    measured = []
    def measure(call, impl, **kwargs):
        measured.append(impl)
        return ops.tuning.measure_call(call, impl, **kwargs)
    def measure_fn(*args, **kwargs):
        measured.append("function")
        return ops.tuning.measure_function(*args, **kwargs)
    result = ops.autotune(lambda x: ops.grouped_conv(x, k, groups=4), x, cache_dir=sys.argv[1], repeats=1,
                          measure=measure, measure_fn=measure_fn)
    print(json.dumps({"choices": result.choices, "measured": measured, "cached": result.cached}))
""")


def test_a_second_process_reuses_the_cache_without_measuring(tmp_path):
    def run():
        out = subprocess.run([sys.executable, "-c", _PROCESS, str(tmp_path)], capture_output=True, text=True, check=True)
        return json.loads(out.stdout.splitlines()[-1])

    first, second = run(), run()
    assert first["measured"] and not first["cached"]
    assert second["measured"] == [] and second["choices"] == first["choices"] and second["cached"]
    saved = json.loads(tuning.cache_file(tmp_path).read_text())
    assert len(saved["calls"]) == 1 and saved["jax"] == jax.__version__ and len(saved["functions"]) <= 1


def test_every_recorded_call_repeats_with_each_applicable_impl():
    """OpCall.function(impl) recomputes the recorded call (what the autotuner times) for every op that records."""
    kernels = [normal(3, 1, 1, 2, 4), normal(4, 1, 1, 6, 4)]

    def every_op(x):
        y = ops.interlaced_group_conv(net(x), GROUPED, groups=4, strides=(2, 2), padding="SAME")
        y = ops.channel_shuffle(ops.uneven_group_conv(y, kernels), 2)
        return ops.max_pool(y, (3, 3), (2, 2), ((1, 1), (1, 1)))

    calls = tuning.record_calls(every_op, X)
    assert {c.op for c in calls.values()} == {
        "grouped_conv", "interlaced_group_conv", "uneven_group_conv", "channel_shuffle", "max_pool"}
    for call in calls.values():
        arrays = tuning._arguments(call, None)
        expected = call.function(call.applicable[0])(*arrays)
        for impl in call.applicable[1:]:
            np.testing.assert_allclose(call.function(impl)(*arrays), expected, rtol=1e-5, atol=1e-4,
                                       err_msg=f"{call.key} impl={impl}")
