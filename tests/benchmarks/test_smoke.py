"""The benchmark scripts run end to end in their quickest mode and docs render from their JSON; the
generator's static text (introduction, GPU section, unmeasured list) is what docs/BENCHMARKS.md holds.

Smoke only: one tiny configuration each, one repeat, no assertions on speed (speed lives in benchmarks/).
"""

import importlib.util
import json
import pathlib
import subprocess
import sys

import pytest

from tools import gen_benchmark_docs

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _run_script(module: str, output: pathlib.Path, *args: str) -> dict:
    subprocess.run([sys.executable, "-m", f"benchmarks.{module}", *args, "--output", str(output)],
                   cwd=ROOT, check=True, capture_output=True, text=True, timeout=300)
    return json.loads(output.read_text())


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> pathlib.Path:
    directory = tmp_path_factory.mktemp("results")
    _run_script("train_throughput", directory / "train_throughput_cpu.json",
                "--quick", "--models", "squeezenet1_1", "--canonical", "")
    _run_script("guidelines", directory / "guidelines_cpu.json",
                "--quick", "--experiments", "G3,G4", "--impls", "canonical")
    if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("jax2onnx"):  # requirements-export.txt
        _run_script("onnx_latency", directory / "onnx_latency_cpu.json",
                    "--models", "squeezenet1_1", "--image-size", "64", "--repeats", "1")
    return directory


def test_train_throughput_writes_one_measured_row(results):
    data = json.loads((results / "train_throughput_cpu.json").read_text())
    (row,) = data["rows"]
    assert (row["model"], row["framework"], row["impl"], row["batch"]) == ("squeezenet1_1", "jax", "auto", 2)
    assert row["train_images_per_s"] > 0 and row["infer_images_per_s"] > 0 and row["madds"] > 0
    assert row["peak_device_memory_bytes"] is None  # XLA:CPU reports no device memory


def test_guidelines_write_every_variant_beside_the_paper(results):
    data = json.loads((results / "guidelines_cpu.json").read_text())
    assert [e["name"] for e in data["experiments"]] == ["G3", "G4"]
    rows = [r for e in data["experiments"] for r in e["rows"]]
    assert len(rows) == 9 and all(r["images_per_s"]["canonical"] > 0 and r["paper_images_per_s"] for r in rows)


def test_docs_render_every_result(results):
    text = gen_benchmark_docs.render(results)
    assert "| squeezenet1_1 | auto | float32 | 2 |" in text
    assert "4-fragment-parallel (c=64)" in text and "ReLU no, shortcut no" in text
    assert "## Structured ops\n\nNot run yet." in text
    if (results / "onnx_latency_cpu.json").exists():
        assert "| squeezenet1_1 | 64×64 |" in text and "onnxruntime 1." in text


def test_input_pipeline_benchmark_measures_every_path_and_the_train_loop_end_to_end(tmp_path):
    data = _run_script("input_pipeline", tmp_path / "input_pipeline.json", "--num-images", "16", "--repeats", "1",
                       "--end-to-end-steps", "3", "--end-to-end-batch", "4", "--end-to-end-image-size", "32")
    rates = data["images_per_second"]
    assert set(rates) == {"lightnets", "guarded", "no_antialias", "large", "prepared", "pil"}
    assert data["prepared_over_large"] > 0
    assert all(rate["per_cpu_second"] > 0 for rate in rates.values())
    end_to_end = data["end_to_end"]
    assert end_to_end["model"] == "mobilenet_v3_small_050" and end_to_end["image_size"] == 32
    assert end_to_end["images_per_second"]["real"] > 0 and end_to_end["images_per_second"]["synthetic"] > 0


def _headings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("## ")]


def test_regenerating_the_docs_keeps_their_static_sections(tmp_path):
    """docs/BENCHMARKS.md is the generator's: its sections in the generator's order, and the static text
    (introduction, GPU, not measured yet) as the generator writes it, so regeneration drops nothing."""
    doc = (ROOT / "docs" / "BENCHMARKS.md").read_text()
    text = gen_benchmark_docs.render(tmp_path)  # no result files: only the static text and "Not run yet."
    assert _headings(doc) == _headings(text)
    assert "## GPU" in _headings(text) and "python -m benchmarks.autotune --dtype bfloat16 --batch 256" in text
    assert doc.startswith(gen_benchmark_docs.INTRO), "edit INTRO in tools/gen_benchmark_docs.py, then regenerate"
    tail = f"{gen_benchmark_docs.GPU}\n{gen_benchmark_docs.UNMEASURED}"
    assert text.endswith(tail)
    assert doc.endswith(tail), "edit GPU/UNMEASURED in tools/gen_benchmark_docs.py, then regenerate"
