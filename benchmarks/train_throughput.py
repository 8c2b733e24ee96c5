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
``--train-only`` skips inference and latency (and their compiles). ``--run-budget-s`` bounds the whole run:
a row starts only while the longest row of its kind so far still fits (``benchmarks.budget``); the rows
left out are listed under ``skipped``, and the JSON is rewritten after every row. ``--compile-workers N``
compiles N train steps at a time in threads, then times them one by one (nothing is timed while anything
compiles); each row's compile s is then a wall time shared with N − 1 other compiles. JAX's persistent
compilation cache is on, by default in main.py's directory (``--compilation-cache-dir``, '' off; benchmarks.common):
a compile s loaded from it is marked ``compile_cache_hit`` ("(cache)" in the tables).

When torch/torchvision (and, for MobileNet V1 and Xception, timm) are importable, the models that have a
peer (``torch_peers.PEERS``: torchvision mobilenet_v2, mobilenet_v3_small, shufflenet_v2_x1_0/x0_5,
squeezenet1_0/1_1; timm mobilenetv1_100, legacy_xception) are measured in the same run: on CPU eager
float32 channels_last and torch.compile, on CUDA eager AMP channels_last (and torch.compile), each with the
same SGD step; the table gives our/their train ratio at the peer's precision (AMP against our bfloat16).
Structured models are also compared by train-step time per MAdd against mobilenet_v2_100 when both ran.

  .venv-bench/bin/python -m benchmarks.train_throughput       # default CPU run: ~5 min on 2 idle cores
  .venv-bench/bin/python -m benchmarks.train_throughput --canonical '' --peer-modes eager   # skips the slowest rows
  .venv/bin/python -m benchmarks.train_throughput --quick --models squeezenet1_1 --canonical ''   # smoke run

On a GPU, ``benchmarks/gpu.sh`` runs this script phase by phase within a time budget (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import functools
import pathlib
import time

import jax
import jax.numpy as jnp
import optax

from benchmarks import budget, common, torch_peers
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


@functools.cache
def _madds(model: str, image_size: int) -> int:
    return count_model(create_model(model, num_classes=NUM_CLASSES), image_size).madds


@dataclasses.dataclass
class Prepared:
    """One setting with its state and batch on the device and its train step compiled."""

    setting: Setting
    model: object
    state: object
    batch: dict
    key: jax.Array
    compiled_step: object
    compile_s: float
    setup_s: float
    compile_cache_hit: bool


def prepare_jax(setting: Setting) -> Prepared:
    """Builds the model, state and synthetic batch and compiles the train step (safe to run in threads)."""
    start = time.perf_counter()
    model = create_model(setting.model, num_classes=NUM_CLASSES, dtype=DTYPES[setting.dtype])
    mesh = partitioning.create_mesh(jax.devices()[:1])
    key = jax.random.key(0)  # the step's: dropout drawn with the default generator, as in training
    # Parameters and data from the RBG generator: the same initialisers, a few times cheaper to compile
    # than threefry's (a setup cost of every row, outside the timings).
    setup_key = jax.random.key(0, impl="rbg")
    state, shardings = create_train_state(
        model, optax.sgd(0.1, momentum=0.9), rng=setup_key, image_size=setting.image_size, mesh=mesh,
        use_ema=False,
    )
    train_step = make_train_step(
        model, mesh=mesh, state_shardings=shardings, num_classes=NUM_CLASSES, label_smoothing=0.0,
        weight_decay=4e-5, weight_decay_params="kernels", bn_mode="global", ema_decay=0.0,
    )
    image_shape = (setting.batch, setting.image_size, setting.image_size, 3)
    image_key, label_key = jax.random.split(jax.random.fold_in(setup_key, 1))
    batch = jax.device_put({
        "image": jax.random.normal(image_key, image_shape, jnp.float32),
        "label": jax.random.randint(label_key, (setting.batch,), 0, NUM_CLASSES),
    }, partitioning.batch_sharded(mesh))
    jax.block_until_ready((state, batch))
    setup_s = time.perf_counter() - start
    # Timed in this thread, with whether XLA's executable came from the persistent compilation cache.
    timed = common.timed_compile(train_step, state, batch, key, canonical=setting.impl == "canonical")
    return Prepared(setting, model, state, batch, key, timed.compiled, timed.seconds, setup_s, timed.cache_hit)


def time_prepared(prepared: Prepared, *, repeats: int, budget_s: float, train_only: bool = False) -> dict:
    """Times the compiled train step of ``prepared`` (and, unless ``train_only``, inference and latency)."""
    setting, state, batch, key = prepared.setting, prepared.state, prepared.batch, prepared.key
    canonical = setting.impl == "canonical"

    def train():
        nonlocal state
        state, metrics = prepared.compiled_step(state, batch, key)
        jax.block_until_ready((state, metrics))

    train_time = common.median_seconds(train, repeats=repeats, budget_s=budget_s)
    infer_images_per_s = latency_b1_ms = None
    if not train_only:
        forward = jax.jit(functools.partial(prepared.model.apply, train=False))
        variables = {"params": state.params, "batch_stats": state.batch_stats}
        one_image = batch["image"][:1]
        compiled_forward = common.lower_and_compile(forward, variables, batch["image"], canonical=canonical)
        compiled_latency = common.lower_and_compile(forward, variables, one_image, canonical=canonical)
        infer_time = common.median_seconds(
            lambda: jax.block_until_ready(compiled_forward(variables, batch["image"])), repeats=repeats,
            budget_s=budget_s)
        latency = common.median_seconds(lambda: jax.block_until_ready(compiled_latency(variables, one_image)),
                                        repeats=max(repeats, 10), budget_s=budget_s)
        infer_images_per_s = setting.batch / infer_time["median_s"]
        latency_b1_ms = 1e3 * latency["median_s"]
    return {
        **dataclasses.asdict(setting),
        "framework": "jax",
        "madds": _madds(setting.model, setting.image_size),
        "compile_s": prepared.compile_s,
        "compile_cache_hit": prepared.compile_cache_hit,
        "setup_s": prepared.setup_s,
        "train_step_s": train_time["median_s"],
        "train_images_per_s": setting.batch / train_time["median_s"],
        "train_samples_s": train_time["samples_s"],
        "infer_images_per_s": infer_images_per_s,
        "latency_b1_ms": latency_b1_ms,
        "step_memory_bytes": _step_memory_bytes(prepared.compiled_step),
        "peak_device_memory_bytes": common.peak_device_memory_bytes(),
    }


def measure_jax(setting: Setting, *, repeats: int, budget_s: float, train_only: bool = False) -> dict:
    """Train (and, unless ``train_only``, inference) measurements of one setting (see the module docstring)."""
    return time_prepared(prepare_jax(setting), repeats=repeats, budget_s=budget_s, train_only=train_only)


def _failed(setting: Setting, error: BaseException) -> dict:
    """The row of a setting that could not be measured (out of memory, a compile error): recorded, not fatal."""
    return {**dataclasses.asdict(setting), "framework": "jax",
            "error": f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:200]}"}


def _measured(row: dict) -> bool:
    return not row.get("error") and row.get("train_step_s") is not None


def per_madd_ratios(rows: list[dict]) -> list[dict]:
    """Train-step time per MAdd of each auto-impl JAX row relative to mobilenet_v2_100's at the same
    dtype, batch and image size (1.0: the same time per multiply-add as MobileNet V2)."""
    rows = [r for r in rows if _measured(r)]
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
    """Our train images/s over each peer's, auto impl, at the peer's precision: our float32 rows against
    float32 peers (CPU), our bfloat16 rows against AMP bfloat16 peers (CUDA)."""
    rows = [r for r in rows if _measured(r)]
    ours = {(r["model"], r["dtype"], r["batch"], r["image_size"]): r for r in rows
            if r["framework"] == "jax" and r["impl"] == "auto"}
    ratios = []
    for row in rows:
        if row["framework"] != "torch":
            continue
        dtype = "bfloat16" if row["dtype"] == "amp_bfloat16" else row["dtype"]
        mine = ours.get((row["model"], dtype, row["batch"], row["image_size"]))
        if mine is None:
            continue
        ratios.append({"model": row["model"], "peer": row["peer"], "mode": row["mode"], "dtype": dtype,
                       "batch": row["batch"], "train_ratio": mine["train_images_per_s"] / row["train_images_per_s"]})
    return ratios


def print_row(row: dict) -> None:
    label = (f"{row['framework']} {row.get('peer') or row['model']} {row.get('mode') or row.get('impl')} "
             f"{row.get('dtype', '')}")
    if row.get("skipped"):
        print(f"{label:<58} b{row['batch']:<4} skipped: {row['skipped']}", flush=True)
        return
    if row.get("error"):
        print(f"{label:<58} b{row['batch']:<4} failed: {row['error']}", flush=True)
        return
    infer = "" if row.get("infer_images_per_s") is None else (
        f"infer {row['infer_images_per_s']:8.2f} img/s  b1 {row['latency_b1_ms']:8.2f} ms  ")
    cached = " (cache)" if row.get("compile_cache_hit") else ""
    print(f"{label:<58} b{row['batch']:<4} train {row['train_images_per_s']:8.2f} img/s  {infer}"
          f"compile {common.fmt(row['compile_s']) or 'n/a'} s{cached}", flush=True)


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _try_prepare(setting: Setting) -> Prepared | BaseException:
    try:
        return prepare_jax(setting)
    except Exception as error:  # noqa: BLE001 (one setting that cannot compile or fit is recorded, not fatal)
        return error


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
    parser.add_argument("--train-only", action="store_true",
                        help="train step only: no inference or batch-1 latency (nor their compiles)")
    parser.add_argument("--run-budget-s", type=float, default=None,
                        help="start no row after this many seconds from the script's start, nor one that the "
                             "longest row of its kind so far would carry past it; left-out rows are listed "
                             "under 'skipped'")
    parser.add_argument("--row-estimate-s", type=float, default=0.0,
                        help="with --run-budget-s: the time of a row before one of its kind has been measured")
    parser.add_argument("--compile-workers", type=int, default=1,
                        help="compile this many JAX train steps at a time (threads), then time them one by one")
    parser.add_argument("--no-peers", action="store_true", help="skip the PyTorch peers")
    parser.add_argument("--peers-only", action="store_true", help="measure only the PyTorch peers")
    parser.add_argument("--peer-modes", default=",".join(torch_peers.MODES),
                        help=f"comma-separated: {', '.join(torch_peers.MODES)}; every model's first mode is "
                             "measured before any model's second")
    parser.add_argument("--quick", action="store_true", help="smoke run: 64 px, batch 2, one repeat, no peers")
    parser.add_argument("--output", type=pathlib.Path, default=None,
                        help="JSON path (default benchmarks/results/train_throughput_<backend>.json); rewritten "
                             "after every row")
    common.add_compilation_cache_argument(parser)
    args = parser.parse_args()
    if args.quick:
        args.image_size, args.batches, args.repeats, args.no_peers, args.dtypes = 64, "2", 1, True, "float32"
    models = [m for m in args.models.split(",") if m]
    dtypes = [d for d in args.dtypes.split(",") if d]
    unknown = sorted(set(dtypes) - set(DTYPES))
    if unknown:
        parser.error(f"unknown dtype(s) {', '.join(unknown)}; valid: {', '.join(DTYPES)}")
    if args.compile_workers < 1:
        parser.error("--compile-workers takes a positive count")
    batches = [int(b) for b in args.batches.split(",")]
    canonical = [m for m in args.canonical.split(",") if m]
    peer_modes = tuple(m for m in args.peer_modes.split(",") if m)
    if set(peer_modes) - set(torch_peers.MODES):
        parser.error(f"--peer-modes takes {', '.join(torch_peers.MODES)}")
    common.enable_compilation_cache(parser, args.compilation_cache_dir)

    settings = [Setting(m, d, b, "auto", args.image_size) for m in models for d in dtypes for b in batches]
    # Canonical settings compile alone: ops.canonical_only() is process-wide.
    chunks = _chunks(settings, args.compile_workers)
    chunks += [[Setting(m, "float32", batches[0], "canonical", args.image_size)] for m in canonical]
    if args.peers_only:
        chunks = []
    peers = torch_peers.availability() if not args.no_peers else {"available": False, "reason": "--no-peers"}
    metadata = common.run_metadata(peers=peers)
    print(f"{metadata['backend']} {metadata['device']} ({metadata['machine']}), jax {metadata['jax']}, "
          f"load {metadata['load_average_1m_start']:.2f}; peers: {peers}", flush=True)

    run_budget = budget.RunBudget(args.run_budget_s, estimate_s=args.row_estimate_s)
    output = args.output or common.RESULTS_DIR / f"train_throughput_{metadata['backend']}.json"
    rows: list[dict] = []
    skipped: list[dict] = []
    payload = {**metadata, "image_size": args.image_size, "repeats": args.repeats, "train_only": args.train_only,
               "run_budget_s": args.run_budget_s, "compile_workers": args.compile_workers, "rows": rows,
               "skipped": skipped, "per_madd": [], "peer_ratios": [], "complete": False}

    def record(row: dict) -> None:
        (skipped if row.get("skipped") else rows).append(row)
        print_row(row)
        payload["per_madd"], payload["peer_ratios"] = per_madd_ratios(rows), peer_ratios(rows)
        budget.write_json_atomic(output, payload)

    for chunk in chunks:
        kind = "jax" if chunk[0].impl == "auto" else "jax canonical"
        kind += f" ×{len(chunk)}" if len(chunk) > 1 else ""
        reason = run_budget.refuse(kind)
        if reason:
            for setting in chunk:
                record({**dataclasses.asdict(setting), "framework": "jax", "skipped": reason})
            continue
        start = time.monotonic()
        if len(chunk) == 1:
            prepared = [_try_prepare(chunk[0])]
        else:
            with concurrent.futures.ThreadPoolExecutor(len(chunk)) as pool:
                prepared = list(pool.map(_try_prepare, chunk))
        for i, setting in enumerate(chunk):
            row_start = time.monotonic()
            if isinstance(prepared[i], BaseException):
                row = _failed(setting, prepared[i])
            else:
                try:
                    row = time_prepared(prepared[i], repeats=args.repeats, budget_s=args.budget_s,
                                        train_only=args.train_only)
                except Exception as error:  # noqa: BLE001 (recorded, not fatal)
                    row = _failed(setting, error)
            prepared[i] = None  # frees the state and batch before the next row
            row["row_s"] = time.monotonic() - (start if len(chunk) == 1 else row_start)
            record(row)
        run_budget.record(kind, time.monotonic() - start)
    if peers["available"]:
        for mode in peer_modes:
            kind = f"torch {mode}"
            for model in dict.fromkeys(m for m in models if torch_peers.has_peer(m)):
                for batch in batches:
                    reason = run_budget.refuse(kind)
                    if reason:
                        record({"framework": "torch", "model": model, "peer": torch_peers.peer_name(model),
                                "mode": mode, "batch": batch, "image_size": args.image_size, "skipped": reason})
                        continue
                    start = time.monotonic()
                    for row in torch_peers.measure(model, modes=(mode,), batch=batch, image_size=args.image_size,
                                                   repeats=args.repeats, budget_s=args.budget_s,
                                                   train_only=args.train_only):
                        row["row_s"] = time.monotonic() - start
                        record(row)
                    run_budget.record(kind, time.monotonic() - start)

    payload["complete"] = True
    for ratio in payload["per_madd"]:
        print(f"{ratio['model']} {ratio['dtype']} b{ratio['batch']}: train time per MAdd "
              f"{ratio['time_per_madd_vs_baseline']:.2f}× {PER_MADD_BASELINE}'s")
    for ratio in payload["peer_ratios"]:
        print(f"{ratio['model']} b{ratio['batch']}: ours / {ratio['peer']} {ratio['mode']} train "
              f"= {ratio['train_ratio']:.2f}×")
    common.write_results(payload, "train_throughput", output)


if __name__ == "__main__":
    host_memory.reexec_with_hugepage_malloc()
    main()
