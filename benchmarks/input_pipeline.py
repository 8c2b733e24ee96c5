"""Images/s per CPU core of ImageNet-style training preprocessing on full-size JPEGs.

Generates `--num-images` JPEGs of ~500×375 (random crops of scikit-image's bundled photos, both
orientations, quality 90) and times, on one core each, in the same run:
  lightnets  input_pipeline's training path for imagenet2012 (the host half, ending at uint8: the float
             half runs on the accelerator, train_lib.device_preprocessing): Inception crop with the fused
             decode_and_crop_jpeg, 224 resize, flip, inside tf.data with the undecodable-image guard
             (corrupt_images.map_images), one tf.data thread and one intra-op thread;
  guardless  the same recipe in a plain `Dataset.map` (measures the guard's cost);
  no_antialias  the lightnets path with `data.resize_antialias=False` (plain bilinear sampling);
  pil        a plain PIL baseline: full decode, random-resized-crop (area 0.08–1, aspect 3/4–4/3, the same
             10-attempt rule), bilinear resize to 224, flip, float32 mean/std.
Per-core rate = images / CPU seconds of this process (time.process_time, all threads), so that other
load on a shared machine does not count against either path; wall-clock rates are reported beside it.
Prints a table and the lightnets/pil ratio, and writes JSON (`--output`).

  .venv/bin/python -m benchmarks.input_pipeline                # ~1 minute on 2 CPU cores
  .venv/bin/python -m benchmarks.input_pipeline --num-images 64 --repeats 1   # smoke run
"""

import argparse
import datetime
import io
import json
import math
import os
import pathlib
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import skimage.data  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

import input_pipeline  # noqa: E402
from input_pipeline import corrupt_images, recipes  # noqa: E402

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "retina")
WIDTH, HEIGHT = 500, 375


def make_jpegs(count: int, width: int = WIDTH, height: int = HEIGHT, *, seed: int = 0,
               resample: int = Image.BILINEAR) -> list[bytes]:
    """`count` JPEGs (quality 90) of width×height, every third one height×width, cut from the bundled photos
    (upscaled with `resample` where smaller)."""
    rng = np.random.default_rng(seed)
    photos = [Image.fromarray(np.asarray(getattr(skimage.data, name)())).convert("RGB") for name in PHOTOS]
    jpegs = []
    for index in range(count):
        photo = photos[index % len(photos)]
        w, h = (width, height) if index % 3 else (height, width)
        scale = max(w / photo.width, h / photo.height, 1.0)
        if scale > 1:
            photo = photo.resize((math.ceil(photo.width * scale), math.ceil(photo.height * scale)), resample)
        left, top = int(rng.integers(0, photo.width - w + 1)), int(rng.integers(0, photo.height - h + 1))
        buffer = io.BytesIO()
        photo.crop((left, top, left + w, top + h)).save(buffer, format="JPEG", quality=90)
        jpegs.append(buffer.getvalue())
    return jpegs


def best_rates(run_pass, count: int, *, repeats: int) -> dict[str, float]:
    """Images per CPU second and per wall second, best of `repeats` timed passes after one warm-up."""
    run_pass()  # warm-up (tf.function tracing, file caches)
    cpu, wall = math.inf, math.inf
    for _ in range(repeats):
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        run_pass()
        cpu = min(cpu, time.process_time() - cpu_start)
        wall = min(wall, time.perf_counter() - wall_start)
    return {"per_cpu_second": count / cpu, "per_wall_second": count / wall}


def tf_rates(jpegs: list[bytes], *, guarded: bool, repeats: int, antialias: bool = True) -> dict[str, float]:
    """The imagenet2012 training recipe over `jpegs` in tf.data restricted to one thread."""
    data = input_pipeline.default_data_config("imagenet2012")
    data.resize_antialias = antialias
    examples = tf.data.Dataset.from_tensor_slices({
        "image": jpegs,
        "label": np.zeros(len(jpegs), np.int32),
        "tfds_id": [f"bench__{i}" for i in range(len(jpegs))],
        "seed": np.stack([np.zeros(len(jpegs)), np.arange(len(jpegs))], axis=1).astype(np.int64),
    })
    train_image = lambda example: recipes.train_image(example["image"], example["seed"], data=data)  # noqa: E731
    if guarded:
        images = corrupt_images.map_images(examples, train_image, image_size=data.image_size, on_corrupt="error")
    else:
        images = examples.map(lambda example: {"image": train_image(example), "label": example["label"]})
    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    options.threading.max_intra_op_parallelism = 1
    batches = images.batch(32).with_options(options)

    def run_pass():
        for _ in batches:
            pass

    return best_rates(run_pass, len(jpegs), repeats=repeats)


def pil_random_resized_crop(jpeg: bytes, rng: np.random.Generator, *, size: int = 224) -> np.ndarray:
    """Decode, Inception-style window (10 attempts, else centre crop), resize, flip, float32 mean/std."""
    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    width, height = image.size
    box = None
    for _ in range(10):
        area = rng.uniform(0.08, 1.0) * width * height
        aspect = rng.uniform(3 / 4, 4 / 3)
        crop_width, crop_height = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
        if 0 < crop_width <= width and 0 < crop_height <= height:
            left = int(rng.integers(0, width - crop_width + 1))
            top = int(rng.integers(0, height - crop_height + 1))
            box = (left, top, left + crop_width, top + crop_height)
            break
    if box is None:
        side = min(width, height)
        box = ((width - side) // 2, (height - side) // 2, (width + side) // 2, (height + side) // 2)
    image = image.resize((size, size), Image.BILINEAR, box=box)
    if rng.random() < 0.5:
        image = image.transpose(Image.FLIP_LEFT_RIGHT)
    pixels = np.asarray(image, np.float32) / 255.0
    return (pixels - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)


def pil_rates(jpegs: list[bytes], *, repeats: int) -> dict[str, float]:
    rng = np.random.default_rng(0)

    def run_pass():
        for jpeg in jpegs:
            pil_random_resized_crop(jpeg, rng)

    return best_rates(run_pass, len(jpegs), repeats=repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-images", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes after one warm-up; best is kept")
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("benchmarks/results/input_pipeline.json"))
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    jpegs = make_jpegs(args.num_images)
    results = {
        "lightnets": tf_rates(jpegs, guarded=True, repeats=args.repeats),
        "guardless": tf_rates(jpegs, guarded=False, repeats=args.repeats),
        "no_antialias": tf_rates(jpegs, guarded=True, repeats=args.repeats, antialias=False),
        "pil": pil_rates(jpegs, repeats=args.repeats),
    }
    print(f"{args.num_images} JPEGs of {WIDTH}×{HEIGHT}, mean {np.mean([len(j) for j in jpegs]) / 1e3:.0f} kB; "
          "train preprocessing to 224, one core each")
    print(f"{'path':<12} {'images/s/core (CPU time)':>25} {'images/s (wall)':>16}")
    for path, rates in results.items():
        print(f"{path:<12} {rates['per_cpu_second']:>25.1f} {rates['per_wall_second']:>16.1f}")
    ratio = results["lightnets"]["per_cpu_second"] / results["pil"]["per_cpu_second"]
    print(f"lightnets / pil = {ratio:.2f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "input_pipeline",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "machine": platform.processor() or platform.machine(),
        "tensorflow": tf.__version__,
        "num_images": args.num_images,
        "image_size": [WIDTH, HEIGHT],
        "images_per_second": results,
        "lightnets_over_pil": ratio,
    }, indent=2))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
