"""Images/s per CPU core of ImageNet-style training preprocessing on full-size JPEGs.

Generates `--num-images` JPEGs of ~500×375 (random crops of scikit-image's bundled photos, both
orientations, quality 90) and times, on one core each, in the same run:
  lightnets  input_pipeline's training path for imagenet2012 (the host half, ending at uint8: the float
             half runs on the accelerator, train_lib.device_preprocessing): Inception crop with the fused
             decode_and_crop_jpeg, 224 resize, flip, in a plain parallel tf.data map — what the iterators
             run until an image fails to decode (corrupt_images.guard_after_failure) — one tf.data thread
             and one intra-op thread;
  guarded    the same recipe in the guarded pipeline the iterators turn to after such a failure
             (corrupt_images.map_images with guarded=True);
  no_antialias  the lightnets path with `data.resize_antialias=False` (plain bilinear sampling);
  large      the lightnets path on 1000×750 JPEGs cut from the same photos (large originals);
  prepared   the lightnets path on those large JPEGs as `python -m input_pipeline.prepare` writes them
             (`prepare.reencode`: shorter side 256, quality 90); prepared / large is the preparation's gain;
  pil        a plain PIL baseline: full decode, random-resized-crop (area 0.08–1, aspect 3/4–4/3, the same
             10-attempt rule), bilinear resize to 224, flip, float32 mean/std.
Per-core rate = images / CPU seconds of this process (time.process_time, all threads), so that other
load on a shared machine does not count against either path; wall-clock rates are reported beside it.
Prints a table and the lightnets/pil ratio.

End to end (`--end-to-end-model`, default mobilenet_v3_small_050; '' skips it): `train_lib.train_and_evaluate`
trains the model (at 224 px unless `--end-to-end-image-size`) with the real pipeline (tiny_imagenet built from a tiny-imagenet-200.zip holding
the same JPEGs: the ImageNet training recipe, the guard, tf.data on every core) and then, in a fresh
workdir, with a data source whose train iterator yields one fixed uint8 batch (synthetic data: no decoding,
the same host→device path); each rate is the train loop's own `train/images_per_sec` at the last step (first,
compiling step and evaluation excluded). The ratio real / synthetic is the share of the loop's speed the
pipeline keeps; on a CPU the pipeline and the model share the cores.

Writes JSON (`--output`).

  .venv/bin/python -m benchmarks.input_pipeline                # ~3 minutes on 2 CPU cores
  .venv/bin/python -m benchmarks.input_pipeline --num-images 64 --repeats 1 --end-to-end-steps 4 \
      --end-to-end-batch 4 --end-to-end-image-size 32 --output /tmp/input_pipeline.json   # smoke run
"""

import argparse
import datetime
import io
import json
import math
import os
import pathlib
import platform
import tempfile
import time
import types
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import skimage.data  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

import input_pipeline  # noqa: E402
from configs import default  # noqa: E402
from input_pipeline import corrupt_images, prepare, recipes  # noqa: E402
from train_lib import train_and_evaluate  # noqa: E402

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
    """The imagenet2012 training recipe over `jpegs` in tf.data restricted to one thread, in the plain or the
    guarded pipeline."""
    data = input_pipeline.default_data_config("imagenet2012")
    data.resize_antialias = antialias
    examples = tf.data.Dataset.from_tensor_slices({
        "image": jpegs,
        "label": np.zeros(len(jpegs), np.int32),
        "tfds_id": [f"bench__{i}" for i in range(len(jpegs))],
        "seed": np.stack([np.zeros(len(jpegs)), np.arange(len(jpegs))], axis=1).astype(np.int64),
    })
    images = corrupt_images.map_images(
        examples, lambda example: recipes.train_image(example["image"], example["seed"], data=data),
        image_size=data.image_size, on_corrupt="error", guarded=guarded)
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


def write_tiny_imagenet_archive(path: pathlib.Path, jpegs: list[bytes], *, validation: list[bytes] | None = None,
                                num_classes: int = 2) -> None:
    """A tiny-imagenet-200.zip (the real layout) whose train images are `jpegs` and whose validation images are
    `validation` (default: the first 8 of `jpegs`); image i of either split is of class i % num_classes."""
    root, wnids = "tiny-imagenet-200", [f"n{index:08d}" for index in range(num_classes)]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{root}/wnids.txt", "\n".join(wnids) + "\n")
        for index, jpeg in enumerate(jpegs):
            wnid = wnids[index % num_classes]
            archive.writestr(f"{root}/train/{wnid}/images/{wnid}_{index}.JPEG", jpeg)
        annotations = []
        for index, jpeg in enumerate(jpegs[:8] if validation is None else validation):
            archive.writestr(f"{root}/val/images/val_{index}.JPEG", jpeg)
            annotations.append(f"val_{index}.JPEG\t{wnids[index % num_classes]}\t0\t0\t1\t1\n")
        archive.writestr(f"{root}/val/val_annotations.txt", "".join(annotations))


def synthetic_source(batch: dict[str, np.ndarray]) -> types.SimpleNamespace:
    """input_pipeline with a train iterator that yields `batch` forever."""
    functions = {name: getattr(input_pipeline, name) for name in (
        "get_dataset_spec", "validate_data_config", "check_data_available", "steps_per_epoch", "create_eval_iterator")}

    def create_train_iterator(data, **_):
        while True:
            yield batch

    return types.SimpleNamespace(**functions, create_train_iterator=create_train_iterator)


def _last_scalar(workdir: pathlib.Path, tag: str) -> float:
    values = [value.simple_value if value.HasField("simple_value") else float(tf.make_ndarray(value.tensor))
              for path in sorted(workdir.rglob("events.out.tfevents.*"))
              for event in tf.compat.v1.train.summary_iterator(str(path))
              for value in event.summary.value if value.tag == tag]
    return values[-1]


def end_to_end(jpegs: list[bytes], *, model: str, batch_size: int, steps: int, image_size: int,
               directory: pathlib.Path) -> dict:
    """Train-loop images/s of `model` with the real pipeline and with synthetic batches (module docstring)."""
    manual_dir = directory / "manual"
    manual_dir.mkdir()
    write_tiny_imagenet_archive(manual_dir / "tiny-imagenet-200.zip", jpegs)
    config = default.get_config("tiny_imagenet", model)
    config.data.update(data_dir=str(directory / "tfds"), manual_dir=str(manual_dir), image_size=image_size)
    config.update(batch_size=batch_size, eval_batch_size=batch_size, num_train_steps=steps,
                  log_every_steps=steps, checkpoint_every_steps=steps, warmup_epochs=0.0)
    config.eval_every_epochs = float(steps)  # evaluate (excluded from the rate) only after the last step
    input_pipeline.steps_per_epoch(config.data, batch_size)  # builds the dataset before anything is timed
    rates = {}
    for name, source in (("real", input_pipeline), ("synthetic", synthetic_source({
            "image": np.random.default_rng(0).integers(0, 256, (batch_size, image_size, image_size, 3), np.uint8),
            "label": np.zeros(batch_size, np.int32)}))):
        workdir = directory / name
        train_and_evaluate(config, str(workdir), data_source=source)
        rates[name] = _last_scalar(workdir, "train/images_per_sec")
        print(f"end to end, {name:<9} {rates[name]:8.1f} images/s", flush=True)
    return {"model": model, "batch_size": batch_size, "steps": steps, "image_size": image_size,
            "images_per_second": rates, "real_over_synthetic": rates["real"] / rates["synthetic"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-images", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5, help="timed passes after one warm-up; best is kept")
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("benchmarks/results/input_pipeline.json"))
    parser.add_argument("--end-to-end-model", default="mobilenet_v3_small_050",
                        help="registered model of the end-to-end run ('' skips it)")
    parser.add_argument("--end-to-end-batch", type=int, default=32)
    parser.add_argument("--end-to-end-steps", type=int, default=40, help="train steps per end-to-end run")
    parser.add_argument("--end-to-end-image-size", type=int, default=224)
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    jpegs = make_jpegs(args.num_images)
    large = make_jpegs(args.num_images, 2 * WIDTH, 2 * HEIGHT, seed=1)
    prepared = [prepare.reencode(jpeg, size=prepare.DEFAULT_SIZE, quality=prepare.DEFAULT_QUALITY).numpy()
                for jpeg in large]
    results = {
        "lightnets": tf_rates(jpegs, guarded=False, repeats=args.repeats),
        "guarded": tf_rates(jpegs, guarded=True, repeats=args.repeats),
        "no_antialias": tf_rates(jpegs, guarded=False, repeats=args.repeats, antialias=False),
        "large": tf_rates(large, guarded=False, repeats=args.repeats),
        "prepared": tf_rates(prepared, guarded=False, repeats=args.repeats),
        "pil": pil_rates(jpegs, repeats=args.repeats),
    }
    print(f"{args.num_images} JPEGs of {WIDTH}×{HEIGHT} (large: {2 * WIDTH}×{2 * HEIGHT}), "
          f"mean {np.mean([len(j) for j in jpegs]) / 1e3:.0f} kB; train preprocessing to 224, one core each")
    print(f"{'path':<12} {'images/s/core (CPU time)':>25} {'images/s (wall)':>16}")
    for path, rates in results.items():
        print(f"{path:<12} {rates['per_cpu_second']:>25.1f} {rates['per_wall_second']:>16.1f}")
    ratio = results["lightnets"]["per_cpu_second"] / results["pil"]["per_cpu_second"]
    gain = results["prepared"]["per_cpu_second"] / results["large"]["per_cpu_second"]
    print(f"lightnets / pil = {ratio:.2f}; prepared / large = {gain:.2f}")
    combined = None
    if args.end_to_end_model:
        with tempfile.TemporaryDirectory() as directory:
            combined = end_to_end(jpegs, model=args.end_to_end_model, batch_size=args.end_to_end_batch,
                                  steps=args.end_to_end_steps, image_size=args.end_to_end_image_size,
                                  directory=pathlib.Path(directory))
        print(f"end to end, real / synthetic = {combined['real_over_synthetic']:.2f}")
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
        "prepared_over_large": gain,
        "end_to_end": combined,
    }, indent=2))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
