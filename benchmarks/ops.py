"""Forward and forward+backward time of every structured op's implementations on this backend.

Each row times one op × implementation at a shape the papers' networks use (jit, warm-up, median of
``--repeats``). Forward+backward is one ``jax.vjp`` with a random cotangent, gradients w.r.t. the input and
every weight. The fastest implementation per (op, case), by forward+backward time summed over the case's
shapes, is what ``lightnets.ops.AUTO_CHOICES`` should hold for this backend; the script prints both.

  .venv/bin/python -m benchmarks.ops            # full run (~2 minutes on 2 idle CPU cores)
  .venv/bin/python -m benchmarks.ops --quick    # smoke run: batch 2, one repeat

``--run-budget-s`` bounds the run (``benchmarks.budget``: a row starts only while the longest row so far still
fits; the rest are listed under ``skipped``); the JSON is rewritten after every row, and a row whose
implementation fails on this backend is recorded with its error.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import pathlib
import time
from collections import defaultdict
from collections.abc import Callable

import jax
import jax.numpy as jnp

from benchmarks import budget, common
from lightnets import ops
from runtime import host_memory


@dataclasses.dataclass(frozen=True)
class Case:
    """One op at one shape: ``make(batch)`` gives the arguments, ``apply(impl, *args)`` the output."""

    op: str
    case: str
    label: str
    impls: tuple[str, ...]
    make: Callable[[int], tuple[jax.Array, ...]]
    apply: Callable[..., jax.Array]
    max_batch: int = 0  # > 0 caps the batch where the slowest impl takes seconds per image


def _normal(*shapes: tuple[int, ...]) -> Callable[[int], tuple[jax.Array, ...]]:
    """Arguments of the given shapes (the first gets the batch size prepended)."""

    def make(batch: int) -> tuple[jax.Array, ...]:
        keys = jax.random.split(jax.random.key(0), len(shapes))
        full = [(batch, *shapes[0])] + list(shapes[1:])
        return tuple(jax.random.normal(k, s, jnp.float32) for k, s in zip(keys, full))

    return make


def _grouped(
    label, hw, c_in, c_out, kernel, groups, *, strides=(1, 1), op="grouped_conv", padding="symmetric", max_batch=0
):
    fn = ops.interlaced_group_conv if op == "interlaced_group_conv" else ops.grouped_conv
    kh, kw = kernel
    pads = ops.padding.explicit_padding(padding, kernel, strides, (hw, hw))
    shape = (kh, kw, c_in // groups, c_out)
    return Case(
        op, ops.conv_case(c_in, shape, groups, pads), label, ops.grouped.applicable_impls(c_in, shape, groups, pads),
        _normal((hw, hw, c_in), shape),
        lambda impl, x, k: fn(x, k, strides=strides, padding=pads, groups=groups, impl=impl), max_batch=max_batch,
    )


def _even(label, hw, c, mode):
    return Case(
        "grouped_conv", "depthwise", label, ("lax", "shifted"), _normal((hw, hw, c), (2, 2, 1, c)),
        lambda impl, x, k: ops.grouped_conv(ops.symmetric_pad(x, mode), k, padding="VALID", groups=c, impl=impl),
    )


def _uneven(label, hw, in_splits, out_splits):
    shapes = [(1, 1, i, o) for i, o in zip(in_splits, out_splits)]
    return Case(
        "uneven_group_conv", "pointwise", label, ops.uneven.IMPLS, _normal((hw, hw, sum(in_splits)), *shapes),
        lambda impl, x, *ks: ops.uneven_group_conv(x, ks, impl=impl),
    )


def _shuffle(label, hw, c, groups, *, inverse=False):
    return Case(
        "channel_shuffle", "", label, ops.shuffle.IMPLS, _normal((hw, hw, c)),
        lambda impl, x: ops.channel_shuffle(x, groups, inverse=inverse, impl=impl),
    )


def _max_pool(label, hw, c, pads):
    return Case(
        "max_pool", "", label, ops.pooling.IMPLS, _normal((hw, hw, c)),
        lambda impl, x: ops.max_pool(x, (3, 3), (2, 2), pads, impl=impl),
    )


CASES = (
    _grouped("dw3x3 56x56x144 s1", 56, 144, 144, (3, 3), 144),
    _grouped("dw3x3 56x56x144 s2", 56, 144, 144, (3, 3), 144, strides=(2, 2)),
    _grouped("dw5x5 14x14x240 s1", 14, 240, 240, (5, 5), 240),
    _grouped("dw1x5 14x14x240 s(1,2)", 14, 240, 240, (1, 5), 240, strides=(1, 2)),
    _grouped("dw5x1 14x7x240 s(2,1)", 14, 240, 240, (5, 1), 240, strides=(2, 1), padding=((2, 2), (0, 0))),
    _even("dw2x2 c2sp 14x14x240", 14, 240, ops.C2SP),
    _even("dw2x2 right_bottom 14x14x240", 14, 240, "right_bottom"),
    _grouped("dense 3x3 s2 224x224 3->32 (stem)", 224, 3, 32, (3, 3), 1, strides=(2, 2)),
    _grouped("dense 3x3 54x54 16->64 (SqueezeNet)", 54, 16, 64, (3, 3), 1),
    _grouped("dense 3x3 27x27 48->192 (SqueezeNet)", 27, 48, 192, (3, 3), 1),
    _grouped("dense 3x1 56x56 16->16 (SqueezeNext)", 56, 16, 16, (3, 1), 1),
    _grouped("dense 1x3 56x56 16->32 (SqueezeNext)", 56, 16, 32, (1, 3), 1),
    _grouped("dense 3x3 28x28 128->128", 28, 128, 128, (3, 3), 1),
    _grouped("1x1 28x28 240->240 g1", 28, 240, 240, (1, 1), 1),
    _grouped("1x1 28x28 240->240 g2", 28, 240, 240, (1, 1), 2),
    _grouped("1x1 28x28 240->240 g3", 28, 240, 240, (1, 1), 3),
    _grouped("1x1 28x28 240->240 g8", 28, 240, 240, (1, 1), 8),
    # XLA:CPU's grouped-conv backward takes seconds per image here, hence the batch cap.
    _grouped("3x3 28x28 256 g128 (2 ch/group)", 28, 256, 256, (3, 3), 128, max_batch=2),
    _grouped("3x3 28x28 256 g32 (8 ch/group)", 28, 256, 256, (3, 3), 32, max_batch=2),
    _grouped("IGC 3x3 28x28 256 g128", 28, 256, 256, (3, 3), 128, op="interlaced_group_conv", max_batch=2),
    _grouped("IGC 3x3 28x28 512 g256 s2", 28, 512, 512, (3, 3), 256, strides=(2, 2), op="interlaced_group_conv",
             max_batch=2),
    _uneven("1:3 1x1 56x56 24->144", 56, (6, 18), (36, 108)),
    _uneven("1:3 1x1 56x56 144->24", 56, (36, 108), (6, 18)),
    _uneven("1:3 1x1 14x14 384->64 (share order)", 14, (288, 96), (48, 16)),
    _max_pool("maxpool 3x3 s2 109x109x96 ceil (SqueezeNet)", 109, 96, ((0, 0), (0, 0))),
    _max_pool("maxpool 3x3 s2 112x112x24 pad 1 (ShuffleNet)", 112, 24, ((1, 1), (1, 1))),
    _shuffle("shuffle 28x28x240 g3", 28, 240, 3),
    _shuffle("shuffle 28x28x240 g3 inverse", 28, 240, 3, inverse=True),
    _shuffle("interlace 56x56x128 g64", 56, 128, 64),
)


def _median_ms(fn: Callable[[], object], repeats: int, budget_s: float = 3.0) -> float:
    """Median ms of up to ``repeats`` timed calls after a compile call and a warm-up call; slow functions
    stop once ``budget_s`` is spent (always at least one timed call)."""
    jax.block_until_ready(fn())  # compile
    timing = common.median_seconds(lambda: jax.block_until_ready(fn()), repeats=repeats, budget_s=budget_s)
    return 1e3 * timing["median_s"]


def time_case(case: Case, impl: str, batch: int, repeats: int) -> dict:
    batch = min(batch, case.max_batch or batch)
    args = case.make(batch)
    apply = lambda *a: case.apply(impl, *a)  # noqa: E731
    forward = jax.jit(apply)
    cotangent = jax.random.normal(jax.random.key(1), jax.eval_shape(apply, *args).shape, jnp.float32)
    forward_backward = jax.jit(lambda ct, *a: jax.vjp(apply, *a)[1](ct))
    return {
        "op": case.op, "case": case.case, "label": case.label, "impl": impl, "batch": batch,
        "fwd_ms": _median_ms(lambda: forward(*args), repeats),
        "fwd_bwd_ms": _median_ms(lambda: forward_backward(cotangent, *args), repeats),
    }


def fastest_per_case(rows: list[dict]) -> dict[tuple[str, str], str]:
    """(op, case) -> the impl with the least forward+backward time summed over the case's shapes, among the
    impls measured on every one of them (an impl that applies to fewer shapes is not compared on a smaller
    sum; rows that failed are left out)."""
    totals: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    shapes: dict[tuple[str, str], dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        if row.get("fwd_bwd_ms") is None:
            continue
        totals[row["op"], row["case"]][row["impl"]] += row["fwd_bwd_ms"]
        shapes[row["op"], row["case"]][row["impl"]].add(row["label"])
    fastest = {}
    for key, by_impl in totals.items():
        every = set().union(*shapes[key].values())
        complete = {impl: t for impl, t in by_impl.items() if shapes[key][impl] == every}
        fastest[key] = min(complete, key=complete.get)
    return fastest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: batch 2, one repeat")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="", help="run only cases whose label contains this text")
    parser.add_argument("--run-budget-s", type=float, default=None,
                        help="start no row after this many seconds from the script's start, nor one that the "
                             "longest row so far would carry past it; left-out rows are listed under 'skipped'")
    parser.add_argument("--row-estimate-s", type=float, default=0.0,
                        help="with --run-budget-s: the time of a row before one of its kind has been measured")
    parser.add_argument("--out", "--output", dest="out", type=pathlib.Path, default=None,
                        help="JSON path (default benchmarks/results/ops_<backend>.json); rewritten after every row")
    common.add_compilation_cache_argument(parser)
    args = parser.parse_args()
    cache_dir = common.enable_compilation_cache(parser, args.compilation_cache_dir)
    batch, repeats = (2, 1) if args.quick else (args.batch, args.repeats)
    backend = jax.default_backend()
    run_budget = budget.RunBudget(args.run_budget_s, estimate_s=args.row_estimate_s)
    out = args.out or pathlib.Path(__file__).parent / "results" / f"ops_{backend}.json"

    print(f"backend={backend} device={jax.devices()[0].device_kind} jax={jax.__version__} batch={batch} "
          f"repeats={repeats}", flush=True)
    print(f"{'op':<22} {'case':<10} {'shape':<36} {'batch':>5} {'impl':<13} {'fwd ms':>9} {'fwd+bwd ms':>11}")
    rows: list[dict] = []
    skipped: list[dict] = []
    payload = {
        "date": datetime.date.today().isoformat(), "jax": jax.__version__, "backend": backend,
        "hugepage_malloc": host_memory.hugepage_malloc_status(), "compilation_cache_dir": cache_dir,
        "device": jax.devices()[0].device_kind, "batch": batch, "repeats": repeats,
        "run_budget_s": args.run_budget_s, "rows": rows, "skipped": skipped, "fastest": [], "complete": False,
    }
    for case in CASES:
        if args.only not in case.label:
            continue
        for impl in case.impls:
            reason = run_budget.refuse("op")
            if reason:
                skipped.append({"op": case.op, "case": case.case, "label": case.label, "impl": impl,
                                "skipped": reason})
                print(f"{case.op:<22} {case.case:<10} {case.label:<36} {'':>5} {impl:<13} skipped: {reason}",
                      flush=True)
                continue
            start = time.monotonic()
            try:
                row = time_case(case, impl, batch, repeats)
                shown = f"{row['fwd_ms']:9.2f} {row['fwd_bwd_ms']:11.2f}"
            except Exception as error:  # noqa: BLE001 (an impl this backend cannot run is recorded, not fatal)
                row = {"op": case.op, "case": case.case, "label": case.label, "impl": impl,
                       "batch": min(batch, case.max_batch or batch), "fwd_ms": None, "fwd_bwd_ms": None,
                       "error": f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:200]}"}
                shown = f"failed: {row['error']}"
            run_budget.record("op", time.monotonic() - start)
            rows.append(row)
            print(f"{case.op:<22} {case.case:<10} {case.label:<36} {row['batch']:>5} {impl:<13} {shown}", flush=True)
            budget.write_json_atomic(out, payload)

    fastest = fastest_per_case(rows)
    print("\nfastest by forward+backward (summed over shapes), vs AUTO_CHOICES:")
    for (op, case), impl in sorted(fastest.items()):
        canonical = next(c.impls[0] for c in CASES if c.op == op and c.case == case)
        current = ops.AUTO_CHOICES.get((op, case, backend), canonical)
        verdict = "matches" if current == impl else f"MISMATCH (auto gives {current!r})"
        print(f"  ({op!r}, {case!r}, {backend!r}): {impl!r}  {verdict}")

    payload["fastest"] = [{"op": op, "case": case, "impl": impl} for (op, case), impl in sorted(fastest.items())]
    payload["complete"] = True
    budget.write_json_atomic(out, payload)
    print(f"wrote {out}")


if __name__ == "__main__":
    host_memory.reexec_with_hugepage_malloc()
    main()
