"""Autotuned vs static-table train step, same run: ``lightnets.ops.autotune`` on the models' own shapes.

For each model: the train step's images/s with ``impl='auto'`` from ``AUTO_CHOICES`` alone, then the time
``autotune`` takes (measured now, or loaded from the cache), then the train step's images/s with the tuned
choices, then the static one again (the static figure is the mean of the two, bracketing the tuned one). A second run with the same ``--autotune-cache`` loads every winner and measures none.

  .venv/bin/python -m benchmarks.autotune                  # clcnet_a and igcv3_d100, 224 px, batch 32, CPU
  .venv/bin/python -m benchmarks.autotune --quick          # smoke run: 64 px, batch 2, one repeat
"""

from __future__ import annotations

import argparse
import pathlib
import tempfile

from benchmarks import common, train_throughput
from lightnets import ops
from lightnets.registry import create_model
from runtime import host_memory
from train_lib.autotuning import autotune_model, describe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="clcnet_a,igcv3_d100", help="comma-separated registered names")
    parser.add_argument("--dtype", default="float32", choices=sorted(train_throughput.DTYPES))
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=3, help="timed train steps after one warm-up; median kept")
    parser.add_argument("--autotune-budget-s", type=float, default=900.0,
                        help="autotune's time budget per model (both stages)")
    parser.add_argument("--autotune-cache", default=None,
                        help="autotune cache directory (default: a new temporary one, so every winner is measured)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 64 px, batch 2, one repeat")
    parser.add_argument("--output", type=pathlib.Path, default=None,
                        help="JSON path (default benchmarks/results/autotune_<backend>.json)")
    common.add_compilation_cache_argument(parser)
    args = parser.parse_args()
    common.enable_compilation_cache(parser, args.compilation_cache_dir)
    if args.quick:
        args.image_size, args.batch, args.repeats = 64, 2, 1
    cache_dir = args.autotune_cache or tempfile.mkdtemp(prefix="lightnets_autotune_")
    metadata = common.run_metadata()
    print(f"{metadata['backend']} {metadata['device']}, jax {metadata['jax']}, load "
          f"{metadata['load_average_1m_start']:.2f}; autotune cache {cache_dir}", flush=True)
    rows = []
    for name in [m for m in args.models.split(",") if m]:
        setting = train_throughput.Setting(name, args.dtype, args.batch, "auto", args.image_size)
        static = train_throughput.measure_jax(setting, repeats=args.repeats, budget_s=60.0, train_only=True)
        model = create_model(name, num_classes=train_throughput.NUM_CLASSES, dtype=train_throughput.DTYPES[args.dtype])
        result = autotune_model(model, (args.batch, args.image_size, args.image_size, 3), cache_dir=cache_dir,
                                time_budget_s=args.autotune_budget_s)
        tuned = train_throughput.measure_jax(setting, repeats=args.repeats, budget_s=60.0, train_only=True)
        ops.clear_tuned()
        static_again = train_throughput.measure_jax(setting, repeats=args.repeats, budget_s=60.0, train_only=True)
        static_images_per_s = (static["train_images_per_s"] + static_again["train_images_per_s"]) / 2
        changed = sorted(k for k, impl in result.choices.items() if result.static_choices[k] != impl)
        row = {"model": name, "dtype": args.dtype, "batch": args.batch, "image_size": args.image_size,
               "static_images_per_s": static_images_per_s,
               "static_images_per_s_before_after": [static["train_images_per_s"], static_again["train_images_per_s"]],
               "tuned_images_per_s": tuned["train_images_per_s"],
               "tuned_over_static": tuned["train_images_per_s"] / static_images_per_s,
               "autotune_s": result.seconds, "measured_calls": len(result.timings), "cached_calls": len(result.cached),
               "skipped_calls": len(result.skipped), "changed_choices": {k: result.choices[k] for k in changed},
               "timings": result.timings}
        rows.append(row)
        print(f"{name:<22} static {row['static_images_per_s']:8.2f} img/s  tuned {row['tuned_images_per_s']:8.2f} img/s "
              f"({row['tuned_over_static']:.2f}x)  autotune: {describe(result)}; {len(changed)} choices differ from "
              "the static table", flush=True)
        for key in changed:
            print(f"    {key}: {result.static_choices[key]} -> {result.choices[key]}", flush=True)
    common.write_results({**metadata, "autotune_cache": cache_dir, "rows": rows}, "autotune", args.output)


if __name__ == "__main__":
    host_memory.reexec_with_hugepage_malloc()
    main()
