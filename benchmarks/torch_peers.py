"""PyTorch peer implementations of registered models, timed like benchmarks.train_throughput's JAX rows.

Imported by train_throughput; torch, torchvision and timm are optional (requirements-bench.txt) and are
imported only here. Each peer runs channels_last with an SGD step (momentum 0.9, weight decay 4e-5) on
synthetic data already on the device: eager float32 on CPU, eager AMP (bfloat16 autocast) on CUDA, and
the same under ``torch.compile(dynamic=False)`` (one graph per batch size); a mode that fails is recorded
with its error instead of a number. On CUDA cuDNN picks its convolution algorithms by timing them
(``cudnn.benchmark``), as XLA's autotuner does for the JAX rows. ``train_only`` skips inference and latency
(and, under torch.compile, the second compile they need).
"""

from __future__ import annotations

import importlib.util
import time

from benchmarks import common

# Our registered name -> (library, constructor name).
PEERS = {
    "mobilenet_v2_100": ("torchvision", "mobilenet_v2"),
    "mobilenet_v3_small_100": ("torchvision", "mobilenet_v3_small"),
    "shufflenet_v2_100": ("torchvision", "shufflenet_v2_x1_0"),
    "squeezenet1_0": ("torchvision", "squeezenet1_0"),
    "squeezenet1_1": ("torchvision", "squeezenet1_1"),
    "shufflenet_v2_050": ("torchvision", "shufflenet_v2_x0_5"),
    "mobilenet_v1_100": ("timm", "mobilenetv1_100"),
    "xception": ("timm", "legacy_xception"),
}


def has_peer(model: str) -> bool:
    """Whether ``model`` has a peer and the peer's library is importable."""
    return model in PEERS and importlib.util.find_spec(PEERS[model][0]) is not None


def peer_name(model: str) -> str:
    """``library.constructor`` of ``model``'s peer."""
    return f"{PEERS[model][0]}.{PEERS[model][1]}"


def availability() -> dict:
    """Which peer libraries import, with their versions."""
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("torchvision") is None:
        return {"available": False, "reason": "torch/torchvision not importable (see requirements-bench.txt)"}
    import torch
    import torchvision

    versions = {"available": True, "torch": torch.__version__, "torchvision": torchvision.__version__,
                "torch_threads": torch.get_num_threads()}
    if importlib.util.find_spec("timm") is not None:
        import timm

        versions["timm"] = timm.__version__
    return versions


def _build(model: str, num_classes: int):
    library, name = PEERS[model]
    if library == "timm":
        import timm

        return timm.create_model(name, num_classes=num_classes)
    import torchvision

    return getattr(torchvision.models, name)(num_classes=num_classes)


MODES = ("eager", "compile")


def measure(model: str, *, modes: tuple[str, ...] = MODES, batch: int, image_size: int, repeats: int,
            budget_s: float, num_classes: int = 1000, train_only: bool = False) -> list[dict]:
    """Rows for ``model``'s peer in each of ``modes`` (none when it has no peer or its library is missing)."""
    if not has_peer(model):
        return []
    rows = []
    for compiled in (mode == "compile" for mode in modes):
        row = {"framework": "torch", "model": model, "peer": peer_name(model), "batch": batch,
               "image_size": image_size}
        try:
            row |= _measure_mode(model, compiled=compiled, batch=batch, image_size=image_size, repeats=repeats,
                                 budget_s=budget_s, num_classes=num_classes, train_only=train_only)
        except Exception as error:  # noqa: BLE001 (a peer mode that cannot run is reported, not fatal)
            import torch

            row |= {"mode": "compile" if compiled else "eager",
                    "dtype": "amp_bfloat16" if torch.cuda.is_available() else "float32",
                    "error": f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:200]}"}
        rows.append(row)
        _release_cuda_memory()
    return rows


def _inductor_cache_hits() -> int | None:
    """Inductor's FX-graph cache hits so far in this process (a compile s that is a cache load), where this
    torch version counts them."""
    try:
        from torch._dynamo.utils import counters

        return int(counters["inductor"]["fxgraph_cache_hit"])
    except Exception:  # noqa: BLE001 (a private counter: absent or renamed in other versions)
        return None


def _release_cuda_memory() -> None:
    """Returns the cached blocks of the model just measured, so the next (maybe larger) one has the GPU."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _measure_mode(model_name: str, *, compiled: bool, batch: int, image_size: int, repeats: int,
                  budget_s: float, num_classes: int, train_only: bool) -> dict:
    import torch
    import torch.nn.functional as F

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    amp = device.type == "cuda"
    torch.backends.cudnn.benchmark = amp
    sync = torch.cuda.synchronize if amp else (lambda: None)
    torch.manual_seed(0)
    model = _build(model_name, num_classes).to(device, memory_format=torch.channels_last)
    step_model = torch.compile(model, dynamic=False) if compiled else model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=4e-5)
    images = torch.randn(batch, 3, image_size, image_size, device=device).contiguous(
        memory_format=torch.channels_last)
    labels = torch.randint(0, num_classes, (batch,), device=device)

    def train():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = F.cross_entropy(step_model(images), labels)
        loss.backward()
        optimizer.step()
        sync()

    model.train()
    if amp:
        torch.cuda.reset_peak_memory_stats()
    hits_before = _inductor_cache_hits()
    start = time.perf_counter()
    train()  # the first call compiles under torch.compile
    first_call_s = time.perf_counter() - start
    hits_after = _inductor_cache_hits()
    if compiled:
        train()  # a second untimed call: the optimizer state created by the first step may retrace
    train_time = common.median_seconds(train, repeats=repeats, budget_s=budget_s)
    peak = torch.cuda.max_memory_allocated() if amp else None
    row = {
        "mode": "compile" if compiled else "eager",
        "dtype": "amp_bfloat16" if amp else "float32",
        "compile_s": first_call_s if compiled else None,
        "compile_cache_hit": (hits_after > hits_before) if compiled and hits_before is not None else None,
        "first_step_s": first_call_s,
        "cudnn_benchmark": amp,
        "train_step_s": train_time["median_s"],
        "train_images_per_s": batch / train_time["median_s"],
        "train_samples_s": train_time["samples_s"],
        "infer_images_per_s": None,
        "latency_b1_ms": None,
        "peak_device_memory_bytes": peak,
    }
    if train_only:
        return row

    model.eval()
    forward_model = torch.compile(model, dynamic=False) if compiled else model

    def forward(x):
        with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            forward_model(x)
        sync()

    infer_time = common.median_seconds(lambda: forward(images), repeats=repeats, budget_s=budget_s)
    one_image = images[:1].contiguous(memory_format=torch.channels_last)
    latency = common.median_seconds(lambda: forward(one_image), repeats=max(repeats, 10), budget_s=budget_s)
    return row | {"infer_images_per_s": batch / infer_time["median_s"], "latency_b1_ms": 1e3 * latency["median_s"]}
