"""benchmarks/gpu.py without a GPU: the phase plan, the run budget (rows and phases left out, a phase killed
at the hard limit), --resume, and the tables it renders from a GPU-shaped result (bfloat16 rows beside AMP
peers), plus the --run-budget-s skip path of train_throughput and ops."""

import json
import pathlib
import subprocess
import sys
import time
import types

import pytest

from benchmarks import budget, gpu

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_default_plan_measures_the_headline_models_and_their_peers_first(tmp_path):
    args = gpu.parse_args(["--out", str(tmp_path)])
    phases = gpu.plan(args)
    assert [p.name for p in phases] == ["jax-bf16", "peers-eager", "ops", "peers-compile", "jax-bf16-more",
                                        "jax-f32", "peers-compile-more"]
    by_name = {p.name: p for p in phases}
    assert by_name["jax-bf16"].models == list(gpu.HEADLINE)
    assert by_name["jax-bf16-more"].models == list(gpu.MORE)
    assert by_name["jax-f32"].models[0] == "mobilenet_v2_100" and len(by_name["jax-f32"].models) == 12
    assert by_name["peers-eager"].models == ["mobilenet_v2_100", "shufflenet_v2_100", "mobilenet_v3_small_100",
                                             "mobilenet_v1_100", "squeezenet1_0", "xception"]
    assert by_name["peers-compile"].models == ["mobilenet_v2_100", "shufflenet_v2_100", "mobilenet_v3_small_100"]
    assert (args.batch, args.image_size, args.budget_s, args.hard_limit_s) == (256, 224, 450.0, 475.0)
    assert args.compile_cache == str(tmp_path / "cache")


def test_the_phases_share_a_jax_compilation_cache_under_out_or_none(tmp_path):
    args = gpu.parse_args(["--smoke", "--out", str(tmp_path)])
    run = gpu.Run(args, tmp_path)
    for phase in run.phases:
        assert f"--compilation-cache-dir={tmp_path / 'cache' / 'jax'}" in run.command(phase, phase.models, 10.0)
    args = gpu.parse_args(["--smoke", "--out", str(tmp_path), "--compile-cache", ""])
    run = gpu.Run(args, tmp_path)
    for phase in run.phases:
        assert "--compilation-cache-dir=" in run.command(phase, phase.models, 10.0)  # '' = off


def test_every_model_of_the_plan_is_registered():
    from lightnets.registry import list_models

    assert set(gpu.HEADLINE + gpu.MORE) <= set(list_models())


def test_smoke_values_are_defaults_that_the_command_line_overrides(tmp_path):
    args = gpu.parse_args(["--smoke", "--budget-s", "7", "--out", str(tmp_path)])
    assert (args.budget_s, args.image_size, args.batch, args.dtypes) == (7.0, 32, 2, "float32")
    assert [p.name for p in gpu.plan(args)] == ["jax-f32", "peers-eager", "ops"]


def test_the_run_budget_admits_a_row_only_while_the_longest_of_its_kind_fits(monkeypatch):
    run_budget = budget.RunBudget(None)
    assert run_budget.refuse("jax") is None  # no deadline
    clock = types.SimpleNamespace(now=1000.0)
    monkeypatch.setattr(budget, "time", types.SimpleNamespace(monotonic=lambda: clock.now))
    monkeypatch.setattr(budget, "STARTED", 1000.0)
    run_budget = budget.RunBudget(100.0, estimate_s=5.0)
    assert run_budget.refuse("jax") is None
    run_budget.record("jax", 30.0)
    run_budget.record("jax", 60.0)
    run_budget.record("op", 1.0)
    clock.now = 1050.0
    assert "a jax row is estimated at 60 s" in run_budget.refuse("jax")
    assert run_budget.refuse("op") is None and run_budget.refuse("torch eager") is None
    clock.now = 1100.0
    assert run_budget.refuse("op").startswith("run budget: 0 s of 100 s left")


def test_a_phase_past_the_hard_limit_is_killed_and_its_rows_recorded_as_left_out(tmp_path, monkeypatch):
    args = gpu.parse_args(["--smoke", "--out", str(tmp_path), "--no-ops", "--no-peers", "--budget-s", "60",
                           "--hard-limit-s", "2", "--phase-startup-s", "0"])
    run = gpu.Run(args, tmp_path, started=time.monotonic())
    hang = [sys.executable, "-c", "import time; print('measuring', flush=True); time.sleep(60)"]
    monkeypatch.setattr(run, "command", lambda phase, models, budget_s: hang)
    start = time.monotonic()
    run.run_phase(run.phases[0])
    assert time.monotonic() - start < 20
    data = json.loads((tmp_path / "gpu.json").read_text())
    assert data["phases"][0]["status"] == "killed at the time limit" and not data["complete"]
    assert {(r["model"], r["skipped"]) for r in data["skipped"]} == {
        ("squeezenet1_1", "phase jax-f32: killed at the time limit"),
        ("shufflenet_v2_050", "phase jax-f32: killed at the time limit")}
    assert "- squeezenet1_1 float32: phase jax-f32: killed at the time limit" in (tmp_path / "gpu.md").read_text()


def test_a_phase_that_does_not_fit_is_not_started(tmp_path):
    args = gpu.parse_args(["--smoke", "--out", str(tmp_path), "--no-peers", "--budget-s", "10"])
    run = gpu.Run(args, tmp_path, started=time.monotonic() - 5)  # 5 s left, a launch is assumed to take 15
    for phase in run.phases:
        run.run_phase(phase)
    data = json.loads((tmp_path / "gpu.json").read_text())
    assert all(p["status"].startswith("skipped: run budget: ") for p in data["phases"])
    assert len(data["skipped"]) == 2 and data["ops"]["not_run"].startswith("skipped: run budget")


def _row(model, dtype, ips, *, compile_s=40.0, cache=False, madds=300e6):
    return {"framework": "jax", "model": model, "dtype": dtype, "impl": "auto", "batch": 256, "image_size": 224,
            "train_images_per_s": ips, "train_step_s": 256 / ips, "compile_s": compile_s,
            "compile_cache_hit": cache, "madds": madds}


def _peer(model, peer, mode, ips, compile_s=None):
    return {"framework": "torch", "model": model, "peer": peer, "mode": mode, "dtype": "amp_bfloat16",
            "batch": 256, "image_size": 224, "train_images_per_s": ips, "train_step_s": 256 / ips,
            "compile_s": compile_s}


def test_gpu_tables_put_amp_peers_beside_the_bfloat16_rows(tmp_path):
    from benchmarks import train_throughput

    rows = [
        _row("mobilenet_v2_100", "bfloat16", 4000.0, madds=300e6),
        _row("clcnet_a", "bfloat16", 3000.0, madds=343e6, compile_s=2.0, cache=True),
        _peer("mobilenet_v2_100", "torchvision.mobilenet_v2", "eager", 5000.0),
        _peer("mobilenet_v2_100", "torchvision.mobilenet_v2", "compile", 6000.0, compile_s=55.0),
        {**_row("xception", "bfloat16", 1.0), "error": "XlaRuntimeError: RESOURCE_EXHAUSTED: out of memory"},
        _row("mobilenet_v2_100", "float32", 2000.0),
    ]
    skipped = [{"framework": "jax", "model": "igcv3_d100", "dtype": "bfloat16", "impl": "auto", "batch": 256,
                "image_size": 224, "skipped": "run budget: 10 s of 450 s left, a jax row is estimated at 61 s"},
               {"framework": "torch", "model": "shufflenet_v2_100", "mode": "compile", "batch": 256,
                "image_size": 224, "skipped": "phase peers-compile: skipped: run budget"}]
    data = {
        "date": "2026-12-01 12:00 UTC", "command": "benchmarks/gpu.sh", "budget_s": 450.0, "elapsed_s": 470.0,
        "batch": 256, "image_size": 224, "repeats": 10, "resumed": False, "complete": False,
        "models": ["mobilenet_v2_100", "shufflenet_v2_100", "clcnet_a", "igcv3_d100", "xception"],
        "metadata": {"backend": "gpu", "device": "NVIDIA H200", "machine": "x86_64, 16 CPU cores",
                     "jax": "0.11.0", "git": "abc1234"},
        "peers": {"available": True, "torch": "2.9.1", "torchvision": "0.24.1"},
        "phases": [{"name": "jax-bf16", "status": "complete", "seconds": 250.0}],
        "rows": rows, "skipped": skipped,
        "per_madd": train_throughput.per_madd_ratios(rows), "peer_ratios": train_throughput.peer_ratios(rows),
        "ops": {"rows": [], "skipped": [], "fastest": [], "complete": False, "not_run": "skipped: run budget"},
    }
    assert [(r["model"], r["mode"], r["dtype"]) for r in data["peer_ratios"]] == [
        ("mobilenet_v2_100", "eager", "bfloat16"), ("mobilenet_v2_100", "compile", "bfloat16")]
    text = gpu.render_markdown(data)
    bf16 = text.split("## Train step, bfloat16")[1].split("## Train step, float32")[0]
    assert ("| model | lightnets img/s | step time per MAdd vs mobilenet_v2_100 | peer | peer img/s eager / "
            "torch.compile | compile s (JAX / torch.compile) |") in bf16
    assert ("| mobilenet_v2_100 | 4,000.0 | 1.00 (baseline) | torchvision.mobilenet_v2 | 5,000.0 / 6,000.0 | "
            "40.0 / 55.0 |") in bf16
    assert "| shufflenet_v2_100 |" not in bf16  # neither measured nor left out at bfloat16
    assert "| clcnet_a | 3,000.0 | 1.17 | – | – | 2.0 (cache) |" in bf16
    assert "| igcv3_d100 | skipped | n/a | – | – | n/a |" in bf16
    assert "| xception | failed: XlaRuntimeError: RESOURCE_EXHAUSTED: out of memory |" in bf16
    f32 = text.split("## Train step, float32")[1].split("## ")[0]
    assert "| model | lightnets img/s | step time per MAdd vs mobilenet_v2_100 | compile s (JAX) |" in f32
    assert "Not run: skipped: run budget." in text
    assert "- igcv3_d100 bfloat16: run budget: 10 s of 450 s left" in text
    assert "- shufflenet_v2_100 peer compile: phase peers-compile: skipped: run budget" in text
    assert "jax 0.11.0, torch 2.9.1, torchvision 0.24.1" in text and "**incomplete**" in text


def test_resume_keeps_measured_rows_and_plans_only_the_rest(tmp_path):
    previous = {"rows": [_row("mobilenet_v2_100", "bfloat16", 4000.0),
                         {**_row("xception", "bfloat16", 1.0), "error": "out of memory"}],
                "ops": {"rows": [{"op": "max_pool"}], "skipped": [], "complete": True},
                "metadata": {"backend": "gpu", "jax": "0.11.0"}}
    (tmp_path / "gpu.json").write_text(json.dumps(previous))
    args = gpu.parse_args(["--out", str(tmp_path), "--resume"])
    run = gpu.Run(args, tmp_path)
    by_name = {p.name: p for p in run.phases}
    assert run.todo(by_name["jax-bf16"]) == list(gpu.HEADLINE[1:])
    assert "xception" in run.todo(by_name["jax-bf16-more"])  # failed rows are measured again
    assert run.kept_ops is not None


@pytest.mark.parametrize("module", ["train_throughput", "ops"])
def test_a_spent_run_budget_skips_every_row_and_says_why(module, tmp_path):
    output = tmp_path / f"{module}.json"
    args = ["--run-budget-s", "0", "--output", str(output)]
    args += ["--quick", "--models", "squeezenet1_1", "--canonical", ""] if module == "train_throughput" else [
        "--quick", "--only", "shuffle 28x28x240 g3 inverse"]
    subprocess.run([sys.executable, "-m", f"benchmarks.{module}", *args], cwd=ROOT, check=True,
                   capture_output=True, text=True, timeout=120,
                   env={"JAX_PLATFORMS": "cpu", "LIGHTNETS_HUGEPAGE_MALLOC": "0", "PATH": "/usr/bin:/bin",
                        "LIGHTNETS_COMPILATION_CACHE_DIR": ""})  # never the user's cache directory
    data = json.loads(output.read_text())
    assert data["rows"] == [] and data["complete"] and len(data["skipped"]) >= 1
    assert all(r["skipped"].startswith("run budget: 0 s of 0 s left") for r in data["skipped"])
