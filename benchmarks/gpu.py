"""The GPU benchmarks in one command, within a time budget: the model table of every paper net beside its
PyTorch peers (bfloat16 and float32) and the op table, as JSON and markdown.

  benchmarks/gpu.sh                        # from anywhere; = python -m benchmarks.gpu from the repository root
  benchmarks/gpu.sh --resume               # a second run measures only the rows the first one left out
  .venv/bin/python -m benchmarks.gpu --smoke --out /tmp/gpu   # CPU smoke run: 32 px, batch 2, seconds

Needs only the GPU image's packages (jax with CUDA, flax, optax; torch, torchvision and timm for the peers):
no ml_collections, clu or TensorFlow, and nothing installed, as the repository root is on the path.

Writes under ``--out`` (default ``$OUT`` when set, else benchmarks/results/gpu/), rewritten after every row:
  gpu.json       every row measured, failed or skipped (with the reason), the phases and the run's facts
  gpu.md         the tables: per dtype, lightnets train img/s, step time per MAdd vs mobilenet_v2_100,
                 the peer's img/s eager (AMP, channels_last) and under torch.compile, compile s; the op
                 table; what was left out; the phases
  phases/*.json  each phase's own file (benchmarks.train_throughput / benchmarks.ops format)
  cache/         JAX's persistent compilation cache and Inductor's: a later run's compiles load from it,
                 and the tables mark such a compile s "(cache)"

The phases run in this order, each in its own process (one that crashes or hangs costs only itself, and
its GPU memory is free for the next), each printing its rows as it measures them:
  jax-bf16            JAX train step in bfloat16: the headline models (--models)
  peers-eager         PyTorch peers, eager AMP channels_last, every model that has one (≤ 75 s)
  ops                 the op table (benchmarks.ops; ≤ --ops-budget-s)
  peers-compile       PyTorch peers under torch.compile: the headline models
  jax-bf16-more       JAX bfloat16: the other paper nets (--more-models)
  jax-f32             JAX float32: every model, headline first
  peers-compile-more  torch.compile peers of the other nets

Budget: nothing starts after ``--budget-s`` (default 450 s) from the command's start. A phase starts only
when its launch and one row (the longest of its kind measured so far in the run) fit; inside it a row
starts only while the longest row of its kind so far still fits (``benchmarks.budget``); a phase still
running at ``--hard-limit-s`` (default 475 s) is killed, its finished rows kept. Every row left out is
recorded with the reason, and ``--resume`` measures just those, into the same files. Train-step compiles
took 28–61 s per model on an H200 before this command existed, so a cold run (empty cache) measures the
headline models and their peers first and later phases as far as the budget goes.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.util
import json
import os
import pathlib
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time

from benchmarks import budget

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The phases get the environment this command started with (main() pins this process to the CPU).
CHILD_ENV = dict(os.environ)

HEADLINE = ("mobilenet_v2_100", "shufflenet_v2_100", "mobilenet_v3_small_100", "clcnet_a", "igcv3_d100")
# One variant of each other paper family (lightnets.models): SeesawNet, MobileNet V1, ShuffleNet V1,
# SqueezeNet, SqueezeNext, Xception, XSepConv.
MORE = ("seesaw_shuffle_d100", "mobilenet_v1_100", "shufflenet_v1_g3_100", "squeezenet1_0", "sqnxt23_100",
        "xception", "mobilenet_v3_small_xsep")
NO_TORCH = "not run: torch/torchvision not importable"
SMOKE = {"models": "squeezenet1_1,shufflenet_v2_050", "more_models": "", "dtypes": "float32", "batch": 2,
         "image_size": 32, "repeats": 1, "measure_budget_s": 1.0, "peer_modes": "eager", "ops_quick": True,
         "ops_only": "shuffle 28x28x240 g3", "budget_s": 300.0, "hard_limit_s": 330.0}


@dataclasses.dataclass
class Phase:
    name: str
    kind: str  # 'jax', 'peers' or 'ops'
    models: list[str] = dataclasses.field(default_factory=list)
    dtype: str | None = None  # jax
    mode: str | None = None  # peers
    cap_s: float | None = None

    @property
    def estimate_kind(self) -> str:
        return {"jax": "jax", "peers": f"torch {self.mode}", "ops": "op"}[self.kind]


def jax_key(model: str, dtype: str, batch: int, image_size: int) -> tuple:
    return ("jax", model, dtype, "auto", batch, image_size)


def row_key(row: dict) -> tuple:
    """The identity of a row across phases and runs."""
    if row["framework"] == "jax":
        return ("jax", row["model"], row["dtype"], row.get("impl", "auto"), row["batch"], row["image_size"])
    return ("torch", row["model"], row["mode"], row["batch"], row["image_size"])


def measured(row: dict) -> bool:
    return not row.get("error") and not row.get("skipped")


def plan(args: argparse.Namespace) -> list[Phase]:
    """The phases in order of priority (see the module docstring)."""
    from benchmarks import torch_peers

    headline = [m for m in args.models.split(",") if m]
    more = [m for m in args.more_models.split(",") if m]
    dtypes = [d for d in args.dtypes.split(",") if d]
    modes = [m for m in args.peer_modes.split(",") if m] if args.peers else []
    with_peer = [m for m in headline + more if m in torch_peers.PEERS]
    phases = []
    if "bfloat16" in dtypes:
        phases.append(Phase("jax-bf16", "jax", headline, dtype="bfloat16"))
    elif "float32" in dtypes:  # no bfloat16 asked: float32 takes the headline slot
        phases.append(Phase("jax-f32", "jax", headline + more, dtype="float32"))
    if "eager" in modes:
        phases.append(Phase("peers-eager", "peers", with_peer, mode="eager", cap_s=args.peers_eager_budget_s))
    if args.ops:
        phases.append(Phase("ops", "ops", cap_s=args.ops_budget_s))
    if "compile" in modes:
        phases.append(Phase("peers-compile", "peers", [m for m in headline if m in with_peer], mode="compile"))
    if "bfloat16" in dtypes:
        phases.append(Phase("jax-bf16-more", "jax", more, dtype="bfloat16"))
        if "float32" in dtypes:
            phases.append(Phase("jax-f32", "jax", headline + more, dtype="float32"))
    if "compile" in modes:
        phases.append(Phase("peers-compile-more", "peers", [m for m in more if m in with_peer], mode="compile"))
    return [p for p in phases if p.kind == "ops" or p.models]


class Run:
    """One invocation: the plan, the rows kept from an earlier run (--resume), each phase's record, and the
    merged JSON and markdown, rewritten whenever a phase file changes."""

    def __init__(self, args: argparse.Namespace, out: pathlib.Path, *, started: float | None = None):
        """``started``: the ``time.monotonic()`` the budget counts from (default: this process's start)."""
        self.args = args
        self.out = out
        started = budget.STARTED if started is None else started
        self.phases = plan(args)
        self.records = [{"name": p.name, "models": p.models, "dtype": p.dtype, "mode": p.mode, "cap_s": p.cap_s,
                         "status": "pending", "seconds": 0.0} for p in self.phases]
        self.estimates: dict[str, float] = {}
        self.clock_start = started
        self.soft_deadline = started + args.budget_s
        self.hard_deadline = started + args.hard_limit_s
        self.started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        self.kept_rows: list[dict] = []
        self.kept_ops: dict | None = None
        self.previous: dict = {}
        for stale in (out / "phases").glob("*.json"):  # an earlier run's; this run's results replace them
            stale.unlink()
        if args.resume and (out / "gpu.json").exists():
            previous = self.previous = json.loads((out / "gpu.json").read_text())
            self.kept_rows = [r for r in previous.get("rows", []) if measured(r)]
            for row in self.kept_rows:  # the earlier run's row times: what a phase of this one must fit
                kind = "jax" if row["framework"] == "jax" else f"torch {row['mode']}"
                self.estimates[kind] = max(self.estimates.get(kind, 0.0), row.get("row_s") or 0.0)
            ops = previous.get("ops")
            if ops and ops.get("complete") and not ops.get("skipped"):
                self.kept_ops = ops

    # ---- phases -------------------------------------------------------------------------------------

    def phase_file(self, phase: Phase) -> pathlib.Path:
        return self.out / "phases" / f"{phase.name}.json"

    def todo(self, phase: Phase) -> list[str]:
        """The phase's models still to measure (all of them unless --resume kept some)."""
        done = {row_key(r) for r in self.kept_rows}
        a = self.args
        if phase.kind == "jax":
            return [m for m in phase.models if jax_key(m, phase.dtype, a.batch, a.image_size) not in done]
        if phase.kind == "peers":
            return [m for m in phase.models if ("torch", m, phase.mode, a.batch, a.image_size) not in done]
        return []

    def jax_cache_dir(self) -> str:
        """JAX's persistent compilation cache of the phases: COMPILE_CACHE/jax, or '' (off) when
        ``--compile-cache ''``; passed to each phase as ``--compilation-cache-dir`` (benchmarks.common)."""
        return str(pathlib.Path(self.args.compile_cache) / "jax") if self.args.compile_cache else ""

    def command(self, phase: Phase, models: list[str], budget_s: float) -> list[str]:
        a = self.args
        estimate = self.estimates.get(phase.estimate_kind, 0.0)
        common = ["--run-budget-s", f"{budget_s:.1f}", "--row-estimate-s", f"{estimate:.1f}",
                  f"--compilation-cache-dir={self.jax_cache_dir()}", "--output", str(self.phase_file(phase))]
        if phase.kind == "ops":
            cmd = [sys.executable, "-m", "benchmarks.ops", "--batch", str(a.ops_batch), "--repeats",
                   str(a.ops_repeats), "--only", a.ops_only]
            return cmd + (["--quick"] if a.ops_quick else []) + common
        cmd = [sys.executable, "-m", "benchmarks.train_throughput", "--models", ",".join(models),
               "--batches", str(a.batch), "--image-size", str(a.image_size), "--repeats", str(a.repeats),
               "--budget-s", str(a.measure_budget_s), "--canonical", "", "--train-only"]
        if phase.kind == "jax":
            cmd += ["--dtypes", phase.dtype, "--no-peers", "--compile-workers", str(a.compile_workers)]
        else:
            cmd += ["--peers-only", "--peer-modes", phase.mode]
        return cmd + common

    def environment(self, phase: Phase) -> dict[str, str]:
        env = dict(CHILD_ENV, PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
        # JAX's cache is given on each phase's command line (``jax_cache_dir``); PyTorch's by environment.
        if self.args.compile_cache:
            cache = pathlib.Path(self.args.compile_cache)
            env.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache / "inductor"))
            env.setdefault("TRITON_CACHE_DIR", str(cache / "triton"))
        if phase.kind == "peers":
            # JAX starts a backend there only for the run's metadata: it must not take the GPU from torch.
            env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        return env

    def run_phase(self, phase: Phase) -> None:
        record = self.records[self.phases.index(phase)]
        models = self.todo(phase)
        left = min(self.soft_deadline, self.hard_deadline) - time.monotonic()
        needed = self.args.phase_startup_s + self.estimates.get(phase.estimate_kind, 0.0)
        if (phase.kind == "ops" and self.kept_ops is not None) or (phase.kind != "ops" and not models):
            record["status"] = "kept from the earlier run"
        elif phase.kind == "peers" and not peers_importable():
            record["status"] = NO_TORCH
        elif left < needed:
            record["status"] = (f"skipped: run budget: {max(left, 0):.0f} s left, a launch and one row need "
                                f"{needed:.0f} s")
        if record["status"] != "pending":
            print(f"== {phase.name}: {record['status']}", flush=True)
            self.write()
            return
        phase_budget = min(left, phase.cap_s) if phase.cap_s else left
        cmd = self.command(phase, models, phase_budget)
        record["command"] = shlex.join(cmd)
        record["todo"] = models
        print(f"== {phase.name}: {len(models) or 'op'} rows, budget {phase_budget:.0f} s "
              f"({self.soft_deadline - time.monotonic():.0f} s left in the run)", flush=True)
        start = time.monotonic()
        record["status"], record["ran"] = "running", True
        status = self._stream(phase, cmd, kill_at=min(start + phase_budget + self.args.phase_grace_s,
                                                       self.hard_deadline))
        record["seconds"] = round(time.monotonic() - start, 1)
        data = self._read(phase)
        if status == "ok":
            status = "complete" if data and data.get("complete") and not data.get("skipped") else (
                "partial: run budget" if data and data.get("complete") else "failed: no complete result file")
        record["status"] = status
        for row in (data or {}).get("rows", []):
            if row.get("row_s") is not None:
                kind = phase.estimate_kind
                self.estimates[kind] = max(self.estimates.get(kind, 0.0), row["row_s"])
        self.write()
        print(f"== {phase.name}: {status} in {record['seconds']:.0f} s", flush=True)

    def _stream(self, phase: Phase, cmd: list[str], *, kill_at: float) -> str:
        """Runs ``cmd``, printing its output as it comes and merging its file when it changes; kills it
        (its whole process group) at ``kill_at``."""
        process = subprocess.Popen(cmd, cwd=ROOT, env=self.environment(phase), stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            for line in process.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        path, seen = self.phase_file(phase), None
        status = "ok"
        while True:
            try:
                line = lines.get(timeout=max(0.0, min(1.0, kill_at - time.monotonic())))
            except queue.Empty:
                line = ""
            if line is None:
                break
            if line:
                print(f"[{phase.name}] {line}", end="" if line.endswith("\n") else "\n", flush=True)
            mtime = path.stat().st_mtime_ns if path.exists() else None
            if mtime != seen:
                seen = mtime
                self.write()
            if status == "ok" and time.monotonic() >= kill_at and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                status = "killed at the time limit"
                print(f"== {phase.name}: killed at the time limit", flush=True)
        returncode = process.wait()
        if status == "ok" and returncode != 0:
            status = f"failed: exit status {returncode}"
        return status

    def _read(self, phase: Phase) -> dict | None:
        path = self.phase_file(phase)
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    # ---- results ------------------------------------------------------------------------------------

    def payload(self) -> dict:
        from benchmarks import train_throughput

        a = self.args
        rows = {row_key(r): r for r in self.kept_rows}
        skipped: dict[tuple, dict] = {}
        ops = self.kept_ops
        metadata: dict = self.previous.get("metadata", {})  # replaced by this run's where it has its own
        peers: dict | None = self.previous.get("peers")
        fresh_metadata = False
        for phase, record in zip(self.phases, self.records):
            data = self._read(phase) if record.get("ran") else None
            if phase.kind == "ops":
                if data is not None:
                    ops = {k: data[k] for k in ("date", "device", "backend", "jax", "batch", "repeats", "rows",
                                                "skipped", "fastest", "complete") if k in data}
                elif record["status"] not in ("pending", "running", "kept from the earlier run"):
                    ops = {"rows": [], "skipped": [], "fastest": [], "complete": False,
                           "not_run": record["status"]}
                continue
            if data is not None:
                if phase.kind == "jax" and not fresh_metadata:
                    metadata = {k: v for k, v in data.items()
                                if k not in ("rows", "skipped", "per_madd", "peer_ratios", "complete", "peers")}
                    fresh_metadata = True
                if phase.kind == "peers":
                    peers = data.get("peers")
                for row in data.get("rows", []):
                    rows[row_key(row)] = row
                for row in data.get("skipped", []):
                    skipped[row_key(row)] = row
            if record["status"] == "running":
                continue
            for model in phase.models:  # rows the phase never reached, and phases that never started
                if phase.kind == "jax":
                    row = {"framework": "jax", "model": model, "dtype": phase.dtype, "impl": "auto",
                           "batch": a.batch, "image_size": a.image_size}
                else:
                    row = {"framework": "torch", "model": model, "mode": phase.mode, "batch": a.batch,
                           "image_size": a.image_size}
                key = row_key(row)
                if key not in rows and key not in skipped and record["status"] != NO_TORCH:
                    skipped[key] = row | {"skipped": f"phase {phase.name}: {record['status']}"}
        all_rows = list(rows.values())
        return {
            "date": self.started,
            "command": shlex.join(["benchmarks/gpu.sh", *sys.argv[1:]]),
            "budget_s": a.budget_s, "hard_limit_s": a.hard_limit_s,
            "elapsed_s": round(time.monotonic() - self.clock_start, 1),
            "batch": a.batch, "image_size": a.image_size, "repeats": a.repeats,
            "compile_workers": a.compile_workers, "compile_cache": a.compile_cache or None,
            "resumed": bool(self.kept_rows or self.kept_ops),
            "models": [m for m in a.models.split(",") if m] + [m for m in a.more_models.split(",") if m],
            "metadata": metadata, "peers": peers, "phases": self.records,
            "rows": all_rows, "skipped": [r for k, r in skipped.items() if k not in rows],
            "per_madd": train_throughput.per_madd_ratios(all_rows),
            "peer_ratios": train_throughput.peer_ratios(all_rows),
            "ops": ops,
            "complete": all(r["status"] in ("complete", "kept from the earlier run", NO_TORCH) for r in self.records),
        }

    def write(self) -> None:
        data = self.payload()
        budget.write_json_atomic(self.out / "gpu.json", data)
        budget.write_atomic(self.out / "gpu.md", render_markdown(data))


def peers_importable() -> bool:
    return importlib.util.find_spec("torch") is not None and importlib.util.find_spec("torchvision") is not None


# ---- markdown -----------------------------------------------------------------------------------------

def _number(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _failed(error: str) -> str:
    return "failed: " + error[:60].replace("|", "/")


def _cell(row: dict | None, skipped: dict | None, value: str) -> str:
    if row is not None and row.get("error"):
        return _failed(row["error"])
    if row is not None:
        return value
    return "skipped" if skipped is not None else "n/a"


def _compile(row: dict | None) -> str:
    if row is None or row.get("compile_s") is None:
        return "n/a"
    return f"{row['compile_s']:.1f}" + (" (cache)" if row.get("compile_cache_hit") else "")


def model_table(data: dict, dtype: str) -> str | None:
    """One row per model: lightnets img/s, time per MAdd vs mobilenet_v2_100, the peer's img/s eager and
    under torch.compile, compile s (JAX / torch.compile); None when nothing of ``dtype`` was planned."""
    from benchmarks.common import markdown_table
    from benchmarks.torch_peers import PEERS, peer_name

    batch, size = data["batch"], data["image_size"]
    rows = {row_key(r): r for r in data["rows"]}
    skipped = {row_key(r): r for r in data["skipped"]}
    peer_dtype = {"amp_bfloat16": "bfloat16"}
    peers_here = any(r["framework"] == "torch" for r in data["rows"] + data["skipped"]) and dtype == peers_dtype(data)
    per_madd = {r["model"]: r["time_per_madd_vs_baseline"] for r in data["per_madd"] if r["dtype"] == dtype}
    table = []
    for model in data["models"]:
        key = jax_key(model, dtype, batch, size)
        if key not in rows and key not in skipped:
            continue
        mine = rows.get(key)
        ours = _cell(mine, skipped.get(key), _number(mine and mine.get("train_images_per_s")))
        ratio = "1.00 (baseline)" if model == "mobilenet_v2_100" and mine and measured(mine) else (
            f"{per_madd[model]:.2f}" if model in per_madd else "n/a")
        line = [model, ours, ratio]
        compile_cells = [_compile(mine)]
        if peers_here:
            if model in PEERS:
                cells = []
                for mode in ("eager", "compile"):
                    pkey = ("torch", model, mode, batch, size)
                    peer = rows.get(pkey)
                    if peer is not None and peer_dtype.get(peer.get("dtype"), peer.get("dtype")) != dtype:
                        peer = None
                    cells.append(_cell(peer, skipped.get(pkey), _number(peer and peer.get("train_images_per_s"))))
                    if mode == "compile":
                        compile_cells.append(_compile(peer))
                line += [peer_name(model), " / ".join(cells)]
            else:
                line += ["–", "–"]
        table.append(line + [" / ".join(compile_cells)])
    if not table:
        return None
    headers = ["model", "lightnets img/s", "step time per MAdd vs mobilenet_v2_100"]
    if peers_here:
        headers += ["peer", "peer img/s eager / torch.compile"]
    headers.append("compile s (JAX" + (" / torch.compile)" if peers_here else ")"))
    return markdown_table(headers, table)


def peers_dtype(data: dict) -> str:
    """The JAX dtype the peers compare with: their own where measured (AMP bfloat16 on CUDA, float32 on
    CPU), else bfloat16 on an accelerator."""
    for row in data["rows"]:
        if row["framework"] == "torch" and row.get("dtype"):
            return "bfloat16" if row["dtype"] == "amp_bfloat16" else row["dtype"]
    return "float32" if data["metadata"].get("backend", "cpu") == "cpu" else "bfloat16"


def render_markdown(data: dict) -> str:
    from benchmarks.common import markdown_table

    meta, peers = data["metadata"], data.get("peers") or {}
    versions = f"jax {meta['jax']}" if meta.get("jax") else "jax n/a"
    versions += "".join(f", {lib} {peers[lib]}" for lib in ("torch", "torchvision", "timm") if lib in peers)
    where = f"{meta.get('device', 'n/a')} ({meta.get('backend', 'n/a')}, {meta.get('machine', 'n/a')})"
    resumed = " (resumed: rows kept from an earlier run)" if data["resumed"] else ""
    ending = "." if data["complete"] else "; **incomplete**: see the left-out rows below."
    measured_line = (f"Measured {data['date']} on {where}, {versions}, lightnets at {meta.get('git', 'n/a')}; "
                     f"{data['elapsed_s']:.0f} s of a {data['budget_s']:.0f} s budget{resumed}{ending}")
    method = (f"Train step on synthetic data on the device, batch {data['batch']}, {data['image_size']}×"
              f"{data['image_size']}, 1000 classes, SGD momentum 0.9 with coupled L2 (the update included), "
              f"median of up to {data['repeats']} steps after a warm-up. Step time per MAdd: the step time over "
              "the model's MAdds, relative to mobilenet_v2_100's at the same dtype (above 1, slower per "
              "multiply-add). Peers: PyTorch, channels_last, eager with AMP (bfloat16 autocast) on CUDA, float32 "
              "on CPU, and under torch.compile. compile s: JAX lower + compile of the train step; torch.compile, "
              "its first step; \"(cache)\" marks a load from the persistent cache of an earlier run.")
    lines = ["# GPU benchmarks", "", measured_line, "", f"```\n{data['command']}\n```", "", method, ""]
    for dtype in ("bfloat16", "float32"):
        table = model_table(data, dtype)
        if table:
            lines += [f"## Train step, {dtype}", "", table, ""]
    ops = data.get("ops")
    if ops:
        lines += ["## Structured ops", ""]
        if ops.get("not_run"):
            lines += [f"Not run: {ops['not_run']}.", ""]
        if ops.get("rows"):
            lines += [(f"Median of {ops.get('repeats')} after a warm-up, batch {ops.get('batch')} (capped per row "
                       "where noted), float32; `python -m benchmarks.ops`."), ""]
            lines.append(markdown_table(["op", "case", "shape", "batch", "impl", "fwd ms", "fwd+bwd ms"], [
                [r["op"], r["case"] or "–", r["label"], r["batch"], r["impl"],
                 _number(r.get("fwd_ms"), 2) if not r.get("error") else _failed(r["error"]),
                 _number(r.get("fwd_bwd_ms"), 2)] for r in ops["rows"]]))
            lines.append("")
        if ops.get("fastest"):
            lines += [("Fastest implementation per (op, case) by forward+backward time, the `AUTO_CHOICES` "
                       "entry this backend would take:"), ""]
            backend = ops.get("backend", "")
            lines += [f"- `({f['op']!r}, {f['case']!r}, {backend!r}): {f['impl']!r}`" for f in ops["fastest"]]
            lines.append("")
    left_out = [r for r in data["skipped"]] + [dict(r, framework="op") for r in (ops or {}).get("skipped", [])]
    if left_out:
        lines += ["## Left out of this run", "", "`benchmarks/gpu.sh --resume` measures these into the same files.",
                  ""]
        for r in left_out:
            if r["framework"] == "op":
                name = f"op {r['op']} {r['label']} {r['impl']}"
            elif r["framework"] == "jax":
                name = f"{r['model']} {r['dtype']}"
            else:
                name = f"{r['model']} peer {r['mode']}"
            lines.append(f"- {name}: {r['skipped']}")
        lines.append("")
    lines += ["## Phases", "", markdown_table(["phase", "status", "seconds"], [
        [r["name"], r["status"], f"{r['seconds']:.0f}"] for r in data["phases"]]), ""]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="results folder (default $OUT when set, else benchmarks/results/gpu)")
    parser.add_argument("--budget-s", type=float, default=450.0, help="start nothing after this many seconds")
    parser.add_argument("--hard-limit-s", type=float, default=475.0,
                        help="kill a phase still running this many seconds after the start")
    parser.add_argument("--models", default=",".join(HEADLINE), help="headline models, measured first")
    parser.add_argument("--more-models", default=",".join(MORE), help="the other paper nets")
    parser.add_argument("--dtypes", default="bfloat16,float32", help="JAX dtypes: bfloat16, float32 or both")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=10, help="timed train steps per row (median kept)")
    parser.add_argument("--measure-budget-s", type=float, default=5.0,
                        help="stop timing a row's steps after this many seconds (≥ 1 timed step)")
    parser.add_argument("--no-peers", dest="peers", action="store_false", help="skip the PyTorch peers")
    parser.add_argument("--peer-modes", default="eager,compile", help="comma-separated: eager, compile")
    parser.add_argument("--peers-eager-budget-s", type=float, default=75.0)
    parser.add_argument("--no-ops", dest="ops", action="store_false", help="skip the op table")
    parser.add_argument("--ops-budget-s", type=float, default=75.0)
    parser.add_argument("--ops-batch", type=int, default=32)
    parser.add_argument("--ops-repeats", type=int, default=3)
    parser.add_argument("--ops-only", default="", help="op cases whose label contains this text")
    parser.add_argument("--ops-quick", action="store_true", help="op table at batch 2, one repeat")
    parser.add_argument("--compile-workers", type=int, default=1,
                        help="JAX train steps compiled at a time (threads; compile s then shares wall time, "
                             "and XLA's autotuning shares the GPU with the other compiles)")
    parser.add_argument("--compile-cache", default=None,
                        help="persistent compilation caches (JAX, Inductor, Triton); default OUT/cache; '' for none")
    parser.add_argument("--phase-startup-s", type=float, default=15.0,
                        help="what a phase's process start is assumed to cost when deciding whether it fits")
    parser.add_argument("--phase-grace-s", type=float, default=90.0,
                        help="how long past its budget a phase may run to finish its row (within --hard-limit-s)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the measured rows of OUT/gpu.json and measure only the rest")
    parser.add_argument("--smoke", action="store_true",
                        help="CPU smoke run: 32 px, batch 2, one repeat, two small models, float32, one op case")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options, with --smoke's values as defaults (options given on the command line still apply) and
    --out and --compile-cache resolved."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.smoke:
        parser.set_defaults(**SMOKE)
        args = parser.parse_args(argv)
    unknown = set(args.dtypes.split(",")) - {"bfloat16", "float32", ""}
    if unknown:
        parser.error(f"--dtypes: unknown {', '.join(sorted(unknown))}")
    args.out = (args.out or pathlib.Path(CHILD_ENV.get("OUT") or ROOT / "benchmarks" / "results" / "gpu")).resolve()
    if args.compile_cache is None:
        args.compile_cache = str(args.out / "cache")
    return args


def main() -> None:
    args = parse_args()
    # This process never starts a JAX backend (on a GPU that would hold 75% of its memory while the phases
    # run); pinned to the CPU in case a library does.
    os.environ["JAX_PLATFORMS"] = "cpu"
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    run = Run(args, out)
    print(f"benchmarks.gpu: {len(run.phases)} phases, budget {args.budget_s:.0f} s (hard limit "
          f"{args.hard_limit_s:.0f} s), writing {out}/gpu.json and gpu.md", flush=True)
    for phase in run.phases:
        run.run_phase(phase)
    run.write()
    print(render_markdown(json.loads((out / "gpu.json").read_text())), flush=True)
    print(f"wrote {out / 'gpu.json'} and {out / 'gpu.md'} in {time.monotonic() - budget.STARTED:.0f} s", flush=True)


if __name__ == "__main__":
    main()
