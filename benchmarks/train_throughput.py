"""Train-step and inference throughput of registered models, beside their PyTorch peers in the same run.

For each model × dtype × batch size (synthetic data already on the device, 1000 classes):
  train     images/s of train_lib's jitted train step (SGD momentum 0.9, coupled L2 4e-5 on kernels,
            softmax CE, BN statistics updated, state donated) and its compile time (lower + compile);
  infer     images/s of the jitted eval-mode forward at the same batch, and batch-1 latency;
  memory    XLA's size estimate of the train step (arguments + outputs + temporaries − aliased) and the
            device's peak bytes in use so far in the run, where the backend reports it (n/a on CPU; a
            running maximum over the run's rows, so run one model for a per-model figure).
Ops run their ``impl='auto'`` choices (lightnets.ops.AUTO_CHOICES); models named in ``--canonical`` are
measured again with every op in canonical form (``lightnets.ops.canonical_only``), showing the fast-path gain.
Times are medians of ``--repeats`` calls after one warm-up call (fewer once ``--budget-s`` is spent).

When torch/torchvision (and, for MobileNet V1, timm) are importable, the models that have a peer
(torchvision mobilenet_v2, mobilenet_v3_small, shufflenet_v2_x1_0, squeezenet1_0; timm mobilenetv1_100)
are measured in the same run: on CPU eager float32 channels_last and torch.compile, on CUDA eager AMP
channels_last (and torch.compile), each with the same SGD step; the table gives our/their train ratio.
Structured models are also compared by train-step time per MAdd against mobilenet_v2_100 when both ran.

  .venv-bench/bin/python -m benchmarks.train_throughput       # default CPU run: ~5 min on 2 idle cores
  .venv-bench/bin/python -m benchmarks.train_throughput --canonical '' --peer-modes eager   # skips the slowest rows
  .venv/bin/python -m benchmarks.train_throughput --quick --models squeezenet1_1 --canonical ''   # smoke run
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import pathlib
import time

import jax
import jax.numpy as jnp
import optax

from benchmarks import common, torch_peers
from lightnets.analysis import count_model
from lightnets.registry import create_model
from runtime import host_memory
from train_lib import partitioning
from train_lib.state import create_train_state
from train_lib.steps import make_train_step

NUM_CLASSES = 1000
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
PER_MADD_BASELINE = "mobilenet_v2_100"


@dataclasses.dataclass(frozen=True)
class Setting:
    """How one JAX measurement is run."""

    model: str
    dtype: str
    batch: int
    impl: str  # 'auto' or 'canonical'
    image_size: int


def _step_memory_bytes(compiled) -> int | None:
    analysis = compiled.memory_analysis()
    if analysis is None:
        return None
    return (analysis.argument_size_in_bytes + analysis.output_size_in_bytes + analysis.temp_size_in_bytes
            - analysis.alias_size_in_bytes)


def measure_jax(setting: Setting, *, repeats: int, budget_s: float) -> dict:
    """Train and inference measurements of one setting (see the module docstring)."""
    model = create_model(setting.model, num_classes=NUM_CLASSES, dtype=DTYPES[setting.dtype])
    canonical = setting.impl == "canonical"
    mesh = partitioning.create_mesh(jax.devices()[:1])
    key = jax.random.key(0)
    state, shardings = create_train_state(
        model, optax.sgd(0.1, momentum=0.9), rng=key, image_size=setting.image_size, mesh=mesh, use_ema=False
    )
    train_step = make_train_step(
        model, mesh=mesh, state_shardings=shardings, num_classes=NUM_CLASSES, label_smoothing=0.0,
        weight_decay=4e-5, weight_decay_params="kernels", bn_mode="global", ema_decay=0.0,
    )
    image_shape = (setting.batch, setting.image_size, setting.image_size, 3)
    batch = jax.device_put({
        "image": jax.random.normal(jax.random.key(1), image_shape, jnp.float32),
        "label": jax.random.randint(jax.random.key(2), (setting.batch,), 0, NUM_CLASSES),
    }, partitioning.batch_sharded(mesh))
    start = time.perf_counter()
    compiled_step = common.lower_and_compile(train_step, state, batch, key, canonical=canonical)
    compile_s = time.perf_counter() - start

    def train():
        nonlocal state
        state, metrics = compiled_step(state, batch, key)
        jax.block_until_ready((state, metrics))

    train_time = common.median_seconds(train, repeats=repeats, budget_s=budget_s)

    forward = jax.jit(functools.partial(model.apply, train=False))
    variables = {"params": state.params, "batch_stats": state.batch_stats}
    one_image = batch["image"][:1]
    compiled_forward = common.lower_and_compile(forward, variables, batch["image"], canonical=canonical)
    compiled_latency = common.lower_and_compile(forward, variables, one_image, canonical=canonical)
    infer_time = common.median_seconds(lambda: jax.block_until_ready(compiled_forward(variables, batch["image"])),
                                       repeats=repeats, budget_s=budget_s)
    latency = common.median_seconds(lambda: jax.block_until_ready(compiled_latency(variables, one_image)),
                                    repeats=max(repeats, 10), budget_s=budget_s)
    return {
        **dataclasses.asdict(setting),
        "framework": "jax",
        "madds": count_model(create_model(setting.model, num_classes=NUM_CLASSES), setting.image_size).madds,
        "compile_s": compile_s,
        "train_step_s": train_time["median_s"],
        "train_images_per_s": setting.batch / train_time["median_s"],
        "train_samples_s": train_time["samples_s"],
        "infer_images_per_s": setting.batch / infer_time["median_s"],
        "latency_b1_ms": 1e3 * latency["median_s"],
        "step_memory_bytes": _step_memory_bytes(compiled_step),
        "peak_device_memory_bytes": common.peak_device_memory_bytes(),
    }


def per_madd_ratios(rows: list[dict]) -> list[dict]:
    """Train-step time per MAdd of each auto-impl JAX row relative to mobilenet_v2_100's at the same
    dtype, batch and image size (1.0: the same time per multiply-add as MobileNet V2)."""
    baselines = {(r["dtype"], r["batch"], r["image_size"]): r for r in rows
                 if r["framework"] == "jax" and r["impl"] == "auto" and r["model"] == PER_MADD_BASELINE}
    ratios = []
    for row in rows:
        base = baselines.get((row["dtype"], row["batch"], row["image_size"]))
        if row["framework"] != "jax" or row["impl"] != "auto" or base is None or row is base:
            continue
        ratio = (row["train_step_s"] / row["madds"]) / (base["train_step_s"] / base["madds"])
        ratios.append({"model": row["model"], "dtype": row["dtype"], "batch": row["batch"],
                       "time_per_madd_vs_baseline": ratio})
    return ratios


def peer_ratios(rows: list[dict]) -> list[dict]:
    """Our train images/s over each peer's (auto impl, float32 rows against every peer mode)."""
    ours = {(r["model"], r["batch"], r["image_size"]): r for r in rows
            if r["framework"] == "jax" and r["impl"] == "auto" and r["dtype"] == "float32"}
    ratios = []
    for row in rows:
        mine = ours.get((row["model"], row["batch"], row["image_size"]))
        if row["framework"] != "torch" or mine is None or row.get("train_images_per_s") is None:
            continue
        ratios.append({"model": row["model"], "peer": row["peer"], "mode": row["mode"], "batch": row["batch"],
                       "train_ratio": mine["train_images_per_s"] / row["train_images_per_s"]})
    return ratios


def print_row(row: dict) -> None:
    label = f"{row['framework']} {row.get('peer') or row['model']} {row.get('mode') or row['impl']} {row['dtype']}"
    if row.get("error"):
        print(f"{label:<58} b{row['batch']:<4} failed: {row['error']}", flush=True)
        return
    print(f"{label:<58} b{row['batch']:<4} train {row['train_images_per_s']:8.2f} img/s  "
          f"infer {row['infer_images_per_s']:8.2f} img/s  b1 {row['latency_b1_ms']:8.2f} ms  "
          f"compile {common.fmt(row['compile_s']) or 'n/a'} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="mobilenet_v2_100,seesaw_shuffle_d100,igcv3_d100,clcnet_a",
                        help="comma-separated registered names")
    parser.add_argument("--dtypes", default="float32", help=f"comma-separated: {', '.join(DTYPES)}")
    parser.add_argument("--batches", default="32", help="comma-separated batch sizes")
    parser.add_argument("--canonical", default="mobilenet_v2_100",
                        help="models also measured with canonical ops (float32, first batch size); '' for none")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=3, help="timed calls after one warm-up; median kept")
    parser.add_argument("--budget-s", type=float, default=30.0,
                        help="stop repeating a measurement once this many seconds are spent (≥ 1 timed call)")
    parser.add_argument("--no-peers", action="store_true", help="skip the PyTorch peers")
    parser.add_argument("--peers-only", action="store_true", help="measure only the PyTorch peers")
    parser.add_argument("--peer-modes", default=",".join(torch_peers.MODES),
                        help=f"comma-separated: {', '.join(torch_peers.MODES)}")
    parser.add_argument("--quick", action="store_true", help="smoke run: 64 px, batch 2, one repeat, no peers")
    parser.add_argument("--output", type=pathlib.Path, default=None,
                        help="JSON path (default benchmarks/results/train_throughput_<backend>.json)")
    args = parser.parse_args()
    if args.quick:
        args.image_size, args.batches, args.repeats, args.no_peers, args.dtypes = 64, "2", 1, True, "float32"
    models = [m for m in args.models.split(",") if m]
    dtypes = [d for d in args.dtypes.split(",") if d]
    unknown = sorted(set(dtypes) - set(DTYPES))
    if unknown:
        parser.error(f"unknown dtype(s) {', '.join(unknown)}; valid: {', '.join(DTYPES)}")
    batches = [int(b) for b in args.batches.split(",")]
    canonical = [m for m in args.canonical.split(",") if m]
    peer_modes = tuple(m for m in args.peer_modes.split(",") if m)
    if set(peer_modes) - set(torch_peers.MODES):
        parser.error(f"--peer-modes takes {', '.join(torch_peers.MODES)}")

    settings = [Setting(m, d, b, "auto", args.image_size) for m in models for d in dtypes for b in batches]
    settings += [Setting(m, "float32", batches[0], "canonical", args.image_size) for m in canonical]
    if args.peers_only:
        settings = []
    peers = torch_peers.availability() if not args.no_peers else {"available": False, "reason": "--no-peers"}
    metadata = common.run_metadata(peers=peers)
    print(f"{metadata['backend']} {metadata['device']} ({metadata['machine']}), jax {metadata['jax']}, "
          f"load {metadata['load_average_1m_start']:.2f}; peers: {peers}")

    rows = []
    for setting in settings:
        rows.append(measure_jax(setting, repeats=args.repeats, budget_s=args.budget_s))
        print_row(rows[-1])
    if peers["available"]:
        for model in dict.fromkeys(models):
            for batch in batches:
                for row in torch_peers.measure(model, modes=peer_modes, batch=batch, image_size=args.image_size,
                                               repeats=args.repeats, budget_s=args.budget_s):
                    rows.append(row)
                    print_row(row)

    payload = {**metadata, "image_size": args.image_size, "repeats": args.repeats, "rows": rows,
               "per_madd": per_madd_ratios(rows), "peer_ratios": peer_ratios(rows)}
    for ratio in payload["per_madd"]:
        print(f"{ratio['model']} {ratio['dtype']} b{ratio['batch']}: train time per MAdd "
              f"{ratio['time_per_madd_vs_baseline']:.2f}× {PER_MADD_BASELINE}'s")
    for ratio in payload["peer_ratios"]:
        print(f"{ratio['model']} b{ratio['batch']}: ours / {ratio['peer']} {ratio['mode']} train "
              f"= {ratio['train_ratio']:.2f}×")
    common.write_results(payload, "train_throughput", args.output)


if __name__ == "__main__":
    host_memory.reexec_with_hugepage_malloc()
    main()
