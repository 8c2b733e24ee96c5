"""Batch-1 CPU latency of registered models exported to ONNX (``lightnets.export``) and run by onnxruntime,
beside the same eval-mode forward jitted by JAX.

For each model, at its own input size (224 px; Xception 299) unless ``--image-size`` is given, with the
random-init variables ``python -m lightnets.export`` exports by default:
  onnxruntime  ``InferenceSession`` on the CPUExecutionProvider, default session options (all graph
               optimisations, one intra-op thread per physical core), of the canonical-op graph the exporter
               writes;
  jax          ``jax.jit`` of ``model.apply(variables, x, train=False)`` with the variables as arguments and
               the ops' ``impl='auto'`` choices (lightnets.ops.AUTO_CHOICES), until ``block_until_ready``.
Each time is the median of ``--repeats`` calls after one warm-up call (which compiles the JAX forward),
fewer once ``--budget-s`` is spent (benchmarks.common.median_seconds). Needs requirements-export.txt.

  .venv/bin/python -m benchmarks.onnx_latency                                   # ~2 min on 2 idle cores
  .venv/bin/python -m benchmarks.onnx_latency --models squeezenet1_1 --repeats 3 --output /tmp/onnx.json
"""

from __future__ import annotations

import argparse
import functools
import pathlib
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import common
from lightnets.export import export_onnx
from lightnets.registry import create_model, list_models
from runtime import host_memory

MODELS = ("mobilenet_v2_100", "mobilenet_v3_small_100", "shufflenet_v2_x1_0", "squeezenet1_1", "clcnet_a",
          "seesaw_shuffle_d100", "xception")


def measure(name: str, *, image_size: int | None, repeats: int, budget_s: float, directory: pathlib.Path) -> dict:
    """One row: ``name``'s export time and the median batch-1 latency (s) of onnxruntime and of JAX."""
    import onnxruntime as ort

    model = create_model(name)
    size = image_size or type(model).default_input_size
    x = jax.random.normal(jax.random.key(1), (1, size, size, 3), jnp.float32)
    variables = jax.jit(functools.partial(model.init, train=False))(jax.random.key(0), x)
    path = directory / f"{name}.onnx"
    start = time.perf_counter()
    export_onnx(model, variables, input_shape=x.shape, path=path)
    export_s = time.perf_counter() - start

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: np.asarray(x)}
    forward = jax.jit(functools.partial(model.apply, train=False))
    onnx_time = common.median_seconds(lambda: session.run(None, feed), repeats=repeats, budget_s=budget_s)
    jax_time = common.median_seconds(lambda: forward(variables, x).block_until_ready(), repeats=repeats,
                                     budget_s=budget_s)
    return {"model": name, "image_size": size, "batch": 1, "export_s": export_s,
            "onnx_size_bytes": path.stat().st_size, "onnxruntime": onnx_time, "jax": jax_time}


def table(rows: list[dict]) -> str:
    """The rows as a markdown table (milliseconds; speed-up = JAX time / onnxruntime time; docs/BENCHMARKS.md)."""
    return common.markdown_table(
        ["model", "input", "onnxruntime ms", "JAX jit ms", "onnxruntime speed-up", "export s"],
        [[row["model"], f"{row['image_size']}×{row['image_size']}",
          common.fmt(1e3 * row["onnxruntime"]["median_s"], 2), common.fmt(1e3 * row["jax"]["median_s"], 2),
          f"{row['jax']['median_s'] / row['onnxruntime']['median_s']:.2f}×", common.fmt(row["export_s"])]
         for row in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated registered names")
    parser.add_argument("--image-size", type=int, default=None, help="square input side (default: each model's own)")
    parser.add_argument("--repeats", type=int, default=30, help="timed calls after one warm-up; median kept")
    parser.add_argument("--budget-s", type=float, default=20.0,
                        help="stop repeating a measurement once this many seconds are spent (≥ 1 timed call)")
    parser.add_argument("--output", "--out", type=pathlib.Path, default=None, help="also write the rows as JSON")
    common.add_compilation_cache_argument(parser)
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    unknown = sorted(set(models) - set(list_models()))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; `python -m lightnets.summary --list` lists them")
    if args.image_size is not None and args.image_size < 1:
        parser.error(f"--image-size must be positive, got {args.image_size}")
    if args.repeats < 1:
        parser.error(f"--repeats must be positive, got {args.repeats}")
    common.enable_compilation_cache(parser, args.compilation_cache_dir)

    import onnxruntime as ort  # here, not at the top: tools.gen_benchmark_docs imports ``table`` without it

    metadata = common.run_metadata(onnxruntime=ort.__version__, onnxruntime_providers=["CPUExecutionProvider"])
    print(f"{metadata['backend']} {metadata['device']} ({metadata['machine']}), jax {metadata['jax']}, "
          f"onnxruntime {ort.__version__}, load {metadata['load_average_1m_start']:.2f}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for name in models:
            rows.append(measure(name, image_size=args.image_size, repeats=args.repeats, budget_s=args.budget_s,
                                directory=pathlib.Path(directory)))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    print(table(rows))
    if args.output:
        common.write_results({**metadata, "benchmark": "onnx_latency", "rows": rows}, "onnx_latency", args.output)


if __name__ == "__main__":
    host_memory.reexec_with_hugepage_malloc()
    main()
