"""benchmarks/ops.py's verdict per (op, case) compares implementations on the same shapes."""

from benchmarks.ops import fastest_per_case


def _row(label, impl, ms):
    return {"op": "grouped_conv", "case": "pointwise", "label": label, "impl": impl, "fwd_bwd_ms": ms}


def test_an_impl_measured_on_fewer_shapes_is_not_compared_on_a_smaller_sum():
    rows = [_row("g1", "lax", 10.0), _row("g1", "matmul", 5.0),
            _row("g2", "lax", 10.0), _row("g2", "matmul", 5.0), _row("g2", "block_diagonal", 6.0)]
    assert fastest_per_case(rows) == {("grouped_conv", "pointwise"): "matmul"}  # not block_diagonal's 6 < 10


def test_failed_rows_are_left_out():
    rows = [_row("g1", "lax", 10.0), _row("g1", "matmul", None), _row("g2", "lax", 10.0), _row("g2", "matmul", 1.0)]
    assert fastest_per_case(rows) == {("grouped_conv", "pointwise"): "lax"}
