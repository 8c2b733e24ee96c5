"""Prepared datasets (`python -m input_pipeline.prepare`): the Inception crop on a resized image, and speed.

  crop   `--draws` seeded draws of the pipeline's own Inception window
         (`preprocessing.random_resized_crop_window`: area 0.08–1, aspect 3/4–4/3, 10 attempts, centre-crop
         fallback) on a 500×375 image and on its prepared 341×256 version with the same seeds: area fraction
         and aspect ratio (mean, percentiles, KS distance between the two), fallbacks, the correlation of one
         seed's windows on the two images, and how many crops have fewer than 224 pixels on a side (upscaled).
  speed  images/s per core (CPU time of this process, so other load on a shared machine does not count) on
         `--num-images` generated JPEGs per size (1000×750 and 500×375, both orientations, quality 90, cut
         from scikit-image's photos), re-encoded to shorter side 256 by: `prepare.reencoded_examples` (TF,
         DCT-scaled decode + area resize, with the undecodable-image guard) on one tf.data thread, the same
         without the guard, TF with a full decode and the antialiased bilinear resize, and Pillow (draft +
         antialiased bilinear or bicubic); each one's PSNR against a float Lanczos resize of the full decode;
         input_pipeline's imagenet2012 training recipe (Inception crop to 224) on original vs prepared JPEGs;
         the whole `prepare.prepare` (tfrecords in, tfrecords out) with one worker thread on a tiny_imagenet-
         layout archive of the same JPEGs; and the wall rate of `prepare.reencoded_examples` with 1 …
         `--workers` threads (meaningful only on idle cores).

  .venv/bin/python -m benchmarks.prepared_dataset crop                 # ~10 s
  .venv/bin/python -m benchmarks.prepared_dataset speed --workers 2    # ~75 s on 2 CPU cores
"""

import argparse
import io
import json
import math
import os
import pathlib
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402
from PIL import Image  # noqa: E402

import input_pipeline  # noqa: E402
from benchmarks.input_pipeline import make_jpegs, write_tiny_imagenet_archive  # noqa: E402
from input_pipeline import prepare, preprocessing, recipes, sources  # noqa: E402

PERCENTILES = (5, 25, 50, 75, 95)


def crop_distribution(draws: int, *, full=(375, 500), prepared_side: int = 256, crop: int = 224) -> dict:
    """Statistics of `draws` windows on a `full` (height, width) image and on its prepared resize."""
    small = prepare.target_size(full[1], full[0], prepared_side)[::-1]  # (height, width)
    results, windows = {}, {}
    for name, shape in (("full", full), ("prepared", small)):
        window_fn = tf.function(lambda seed, shape=shape: preprocessing.random_resized_crop_window(
            tf.constant([shape[0], shape[1], 3]), seed=seed))
        seeds = tf.data.Dataset.range(draws).map(lambda i: tf.stack([tf.constant(0, tf.int64), i]))
        window = np.concatenate([w.numpy() for w in seeds.map(window_fn).batch(4096)])
        windows[name] = window
        offset_h, offset_w, height, width = window.T.astype(float)
        area = height * width / (shape[0] * shape[1])
        aspect = width / height
        side = int(0.875 * min(shape))  # preprocessing.center_crop_window, used when no window fits
        fallback = ((height == side) & (width == side) & (offset_h == (shape[0] - side + 1) // 2)
                    & (offset_w == (shape[1] - side + 1) // 2))
        results[name] = {
            "image": [shape[1], shape[0]],
            "area": _summary(area), "aspect": _summary(aspect),
            "fallback_fraction": float(fallback.mean()),
            "upscaled_fraction": float((np.minimum(height, width) < crop).mean()),
            "mean_crop_pixels": float((height * width).mean()),
            "aspect_outside_range_fraction": float(((aspect < 3 / 4) | (aspect > 4 / 3)).mean()),
            "smallest_crop_side": int(np.minimum(height, width).min()),
            "distinct_windows": len({(int(h), int(w)) for h, w in zip(height, width)}),
            "_area": area, "_aspect": aspect,
        }
    for field in ("area", "aspect"):
        results[f"{field}_ks_distance"] = _ks_distance(results["full"].pop(f"_{field}"),
                                                       results["prepared"].pop(f"_{field}"))
    full_window, small_window = windows["full"].astype(float), windows["prepared"].astype(float)
    results["same_seed_correlation"] = {  # one seed on both images: the aspect follows, the area and place do not
        "aspect": _correlation(full_window[:, 3] / full_window[:, 2], small_window[:, 3] / small_window[:, 2]),
        "area": _correlation(full_window[:, 2] * full_window[:, 3], small_window[:, 2] * small_window[:, 3]),
        "relative_offset_h": _correlation(full_window[:, 0] / full[0], small_window[:, 0] / small[0]),
    }
    results["same_seed_aspect_mean_abs_difference"] = float(np.abs(
        full_window[:, 3] / full_window[:, 2] - small_window[:, 3] / small_window[:, 2]).mean())
    return results


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def _ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov–Smirnov statistic: the largest gap between the empirical CDFs."""
    points = np.union1d(a, b)
    cdf_a = np.searchsorted(np.sort(a), points, side="right") / len(a)
    cdf_b = np.searchsorted(np.sort(b), points, side="right") / len(b)
    return float(np.abs(cdf_a - cdf_b).max())


def _summary(values: np.ndarray) -> dict:
    return {"mean": float(values.mean()), "min": float(values.min()),
            **{f"p{p}": float(np.percentile(values, p)) for p in PERCENTILES}, "max": float(values.max())}


def per_core(run_pass, count: int, repeats: int) -> float:
    """Images per CPU second of this process, best of `repeats` passes after a warm-up."""
    run_pass()
    best = math.inf
    for _ in range(repeats):
        start = time.process_time()
        run_pass()
        best = min(best, time.process_time() - start)
    return count / best


def _one_thread(dataset: tf.data.Dataset) -> tf.data.Dataset:
    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    options.threading.max_intra_op_parallelism = 1
    return dataset.with_options(options)


def _records(jpegs: list[bytes]) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices({"image": jpegs, "label": np.zeros(len(jpegs), np.int32),
                                               "tfds_id": [f"bench__{i}" for i in range(len(jpegs))]})


def _tf_bilinear(image_bytes: tf.Tensor, size: int, quality: int) -> tf.Tensor:
    """The plain TF alternative: full decode, antialiased bilinear resize (the pipeline's filter), encode."""
    image = tf.io.decode_jpeg(image_bytes, channels=3)
    shape = tf.cast(tf.shape(image)[:2], tf.int64)
    resized = tf.image.resize(image, tf.cast(prepare._target_shape(shape, size), tf.int32), antialias=True)
    return tf.io.encode_jpeg(tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8), quality=quality)


def _pillow(image_bytes: bytes, size: int, quality: int, resample) -> bytes:
    """Pillow: draft (DCT-scaled decode to ≥ 2× the target, as `thumbnail`), antialiased resize, encode."""
    with Image.open(io.BytesIO(image_bytes)) as image:
        width, height = prepare.target_size(image.width, image.height, size)
        image.draft("RGB", (2 * width, 2 * height))
        rgb = image.convert("RGB")
    if rgb.size != (width, height):
        rgb = rgb.resize((width, height), resample)
    buffer = io.BytesIO()
    rgb.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _passes(jpegs: list[bytes], size: int, quality: int) -> dict:
    """One pass over `jpegs` per candidate, each returning the re-encoded JPEGs."""
    guarded = _one_thread(prepare.reencoded_examples(_records(jpegs), size=size, quality=quality, workers=1))
    unguarded = _one_thread(tf.data.Dataset.from_tensor_slices(jpegs).map(
        lambda j: prepare.reencode(j, size=size, quality=quality)))
    bilinear = _one_thread(tf.data.Dataset.from_tensor_slices(jpegs).map(lambda j: _tf_bilinear(j, size, quality)))
    return {
        "prepare (tf area, guarded)": lambda: [e["image"] for e in guarded.as_numpy_iterator()],
        "tf area, unguarded": lambda: list(unguarded.as_numpy_iterator()),
        "tf bilinear antialias": lambda: list(bilinear.as_numpy_iterator()),
        "pillow bilinear": lambda: [_pillow(j, size, quality, Image.Resampling.BILINEAR) for j in jpegs],
        "pillow bicubic": lambda: [_pillow(j, size, quality, Image.Resampling.BICUBIC) for j in jpegs],
    }


def _psnr_to_reference(jpegs: list[bytes], outputs: list[bytes], size: int) -> float:
    """Mean PSNR of decoded outputs against a float32 Lanczos resize of the full decode (no JPEG round trip
    for the reference, so this includes the quality-`quality` encoding loss)."""
    values = []
    for jpeg, out in zip(jpegs, outputs):
        full = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), np.float32)
        width, height = prepare.target_size(full.shape[1], full.shape[0], size)
        reference = np.stack([np.asarray(Image.fromarray(full[..., c], "F").resize((width, height), Image.LANCZOS))
                              for c in range(3)], axis=-1)
        error = np.mean((np.asarray(Image.open(io.BytesIO(out)).convert("RGB"), np.float32) - reference) ** 2)
        values.append(10 * math.log10(255**2 / error))
    return float(np.mean(values))


def train_recipe_pass(jpegs: list[bytes]):
    data = input_pipeline.default_data_config("imagenet2012")
    seeds = np.stack([np.zeros(len(jpegs)), np.arange(len(jpegs))], axis=1).astype(np.int64)
    dataset = tf.data.Dataset.from_tensor_slices((jpegs, seeds)).map(
        lambda image, seed: recipes.train_image(image, seed, data=data))
    dataset = _one_thread(dataset.batch(32))
    return lambda: [None for _ in dataset]


def end_to_end(jpegs: list[bytes], *, size: int, quality: int) -> dict:
    """`prepare.prepare` with one worker thread on a tiny_imagenet-layout archive holding `jpegs` (train) and
    8 of them (validation): tfrecord reading, re-encoding, tfds serialisation and writing, per CPU second."""
    with tempfile.TemporaryDirectory() as directory:
        manual_dir, data_dir = os.path.join(directory, "manual"), os.path.join(directory, "tfds")
        os.makedirs(manual_dir)
        write_tiny_imagenet_archive(pathlib.Path(manual_dir) / "tiny-imagenet-200.zip", jpegs)
        data = input_pipeline.default_data_config("tiny_imagenet")
        data.data_dir, data.manual_dir = data_dir, manual_dir
        sources.prepared_builder(data)  # the source, not timed
        count = len(jpegs) + 8
        start, cpu = time.perf_counter(), time.process_time()
        prepare.prepare("tiny_imagenet", size=size, quality=quality, data_dir=data_dir, manual_dir=manual_dir,
                        workers=1)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"images": count, "images_per_core_second": count / cpu, "images_per_wall_second": count / wall}


def speed(num_images: int, *, size: int, quality: int, workers: int, repeats: int) -> dict:
    results = {}
    everything = []
    for width, height in ((1000, 750), (500, 375)):
        jpegs = make_jpegs(num_images, width, height, resample=Image.BICUBIC)
        everything += jpegs
        passes = _passes(jpegs, size, quality)
        prepared = passes["prepare (tf area, guarded)"]()
        quality_sample = jpegs[:24]
        sample_passes = _passes(quality_sample, size, quality)
        results[f"{width}x{height}"] = {
            "mean_kb": float(np.mean([len(j) for j in jpegs]) / 1e3),
            "prepared_mean_kb": float(np.mean([len(j) for j in prepared]) / 1e3),
            "images_per_core_second": {name: per_core(run, len(jpegs), repeats) for name, run in passes.items()},
            "psnr_db_to_float_lanczos": {name: _psnr_to_reference(quality_sample, run(), size)
                                         for name, run in sample_passes.items()},
            "train_recipe_images_per_core_second": {
                "original": per_core(train_recipe_pass(jpegs), len(jpegs), repeats),
                "prepared": per_core(train_recipe_pass(prepared), len(jpegs), repeats),
            },
        }
    scaling = {}
    for count in sorted({1, *range(2, workers + 1, 2), workers}):
        dataset = prepare.reencoded_examples(_records(everything), size=size, quality=quality, workers=count)
        for _ in dataset.take(2 * count):  # warm-up
            pass
        start, cpu = time.perf_counter(), time.process_time()
        for _ in dataset:
            pass
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        scaling[count] = {"images_per_s": len(everything) / wall, "cpu_over_wall": cpu / wall}
    results["end_to_end_one_worker"] = end_to_end(everything, size=size, quality=quality)
    results["workers"] = scaling
    results["cores_visible"] = os.cpu_count()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("measure", choices=("crop", "speed"))
    parser.add_argument("--draws", type=int, default=10_000, help="crop: seeded windows per image")
    parser.add_argument("--num-images", type=int, default=200, help="speed: JPEGs per size")
    parser.add_argument("--size", type=int, default=prepare.DEFAULT_SIZE)
    parser.add_argument("--quality", type=int, default=prepare.DEFAULT_QUALITY)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="speed: most threads tried")
    parser.add_argument("--repeats", type=int, default=3, help="speed: timed passes after one warm-up; best kept")
    parser.add_argument("--output", type=pathlib.Path, help="also write the results as JSON here")
    args = parser.parse_args()
    tfds.disable_progress_bar()
    if args.measure == "crop":
        results = crop_distribution(args.draws, prepared_side=args.size)
    else:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        results = speed(args.num_images, size=args.size, quality=args.quality, workers=args.workers,
                        repeats=args.repeats)
    text = json.dumps(results, indent=1)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)


if __name__ == "__main__":
    main()
