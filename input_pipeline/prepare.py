"""`python -m input_pipeline.prepare NAME --size=N`: a dataset rewritten once as small JPEGs (FFCV-style).

Reads every split of a dataset lightnets knows (whatever `sources.prepared_builder` gives: digits, cifar,
svhn, tiny_imagenet and imagenet2012 from their manual files, prepared first if need be) and writes a new
tfds dataset, `prepared_images/<NAME>_<N>` in the same data_dir, holding each image re-encoded as an RGB JPEG
(quality 90 unless `--quality`) whose shorter side is at most N: larger images are scaled to shorter side N
(the longer side rounded, so the aspect ratio is kept to ±1 pixel), smaller ones are re-encoded at their size,
never upscaled. Labels, split names and the order of the examples are the source's (tfds writes with
`disable_shuffling`). Every image is decoded once on the way, which validates it: an image that cannot be
decoded is left out, reported on stderr with its `tfds_id` (one line each) and counted at the end; the left-out
ids are also kept in the dataset's `metadata.json`. Features are {'image': Image(jpeg), 'label': the source's
ClassLabel}, so the rest of input_pipeline reads it exactly like the original; `data.prepared_size=N`
selects it (docs/input_pipeline.md, "Prepared datasets").

Implementation: TensorFlow ops in a parallel tf.data pipeline (`--workers` threads, each op on one thread),
the tfds writer in the main thread. Per image: `extract_jpeg_shape` reads the header; a JPEG much larger than
the target is decoded at a reduced DCT scale (`decode_jpeg(ratio=2, 4 or 8)`) that keeps at least twice the
target size (Pillow's `thumbnail` rule), other formats with `decode_image`; `tf.image.resize(method='area')`
(box averaging over the source pixels, as OpenCV's INTER_AREA; nothing is ever upscaled) scales it;
`encode_jpeg` writes it. Why, measured per core with `benchmarks/prepared_dataset.py speed` (numbers in
docs/input_pipeline.md, "Prepared datasets"): on 1000×750 JPEGs it re-encodes 228 images/s against 191 for
Pillow's antialiased bilinear resize, 135 for Pillow's bicubic and 177 for TF's antialiased bilinear; on
500×375 it is level with Pillow's bilinear (529 vs 516) and ahead of the others. Its PSNR against a float
Lanczos resize is within 0.4 dB of Pillow's bilinear (above it on 1000×750, below on 500×375) and 0.8–1.5 dB
under Pillow's bicubic, which is 1.3–1.7× slower. And the decoder that validates an image is the one training
uses, so the prepared dataset holds exactly the images the original pipeline can read, and training on it
never leaves the plain pipeline (`corrupt_images.guard_after_failure`). Every image is converted in the
guarded pipeline, which marks the ones that fail (`corrupt_images.attempt_images`; 13–16% of the re-encode
time in that measurement).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402
from absl import logging as absl_logging  # noqa: E402

from input_pipeline import corrupt_images, pipeline, preprocessing, sources  # noqa: E402
from input_pipeline.config import default_data_config  # noqa: E402
from input_pipeline.datasets import DATASET_NAMES, get_dataset_spec  # noqa: E402

BUILDER_NAME = "prepared_images"  # tfds name of PreparedImages; one config per (source, size)
PREPARED_VERSION = "1.0.0"
DEFAULT_SIZE = 256
DEFAULT_QUALITY = 90
DCT_SCALES = (1, 2, 4, 8)  # decode_jpeg's `ratio`s
DCT_GAP = 2  # a JPEG is decoded at the smallest DCT scale whose shorter side is still ≥ DCT_GAP × the target
METADATA_FILE = "metadata.json"
COMMAND = ".venv/bin/python -m input_pipeline.prepare"


def config_name(name: str, size: int) -> str:
    """The tfds config name of `name` prepared at shorter side `size`: 'imagenet2012_256'."""
    return f"{name}_{size}"


def data_dir_root(name: str, data_dir: str | None) -> str:
    """The tfds data_dir of the source `name` (`data_dir`, or tfds's default), where its prepared copy goes."""
    return os.fspath(tfds.builder(name, data_dir=data_dir).data_dir_root)


def prepared_dir(name: str, size: int, data_dir: str | None) -> str:
    """The directory of the prepared dataset: <data_dir>/prepared_images/<name>_<size>/1.0.0."""
    return os.path.join(data_dir_root(name, data_dir), BUILDER_NAME, config_name(name, size), PREPARED_VERSION)


def is_prepared(directory: str) -> bool:
    """Whether tfds finished writing the dataset in `directory` (it writes dataset_info.json last)."""
    return os.path.exists(os.path.join(directory, "dataset_info.json"))


def command(name: str, size: int, *, data_dir: str, manual_dir: str | None = None) -> str:
    """The exact command that prepares `name` at `size` in `data_dir` (run from the repository root)."""
    words = [COMMAND, name, f"--size={size}", f"--data-dir={shlex.quote(data_dir)}"]
    if manual_dir:
        words.append(f"--manual-dir={shlex.quote(manual_dir)}")
    return " ".join(words)


def target_size(width: int, height: int, size: int) -> tuple[int, int]:
    """(width, height) with the shorter side scaled down to `size` and the longer one rounded (half up); an
    image whose shorter side is already ≤ `size` keeps its size (never upscaled). As `reencode` computes it."""
    shorter, longer = min(width, height), max(width, height)
    if shorter <= size:
        return width, height
    longer = (2 * longer * size + shorter) // (2 * shorter)
    return (size, longer) if width < height else (longer, size)


def reencode(image_bytes: tf.Tensor, *, size: int, quality: int) -> tf.Tensor:
    """A JPEG (quality `quality`, RGB) of the image `image_bytes` scaled to `target_size`. The whole image is
    decoded, so truncated or corrupt bytes raise InvalidArgumentError, as in the training pipeline."""
    is_jpeg = tf.io.is_jpeg(image_bytes)

    def decode_jpeg():
        shorter = tf.reduce_min(tf.image.extract_jpeg_shape(image_bytes)[:2])
        # How many of the halvings 2, 4, 8 keep the shorter side ≥ DCT_GAP × size (never when not shrinking).
        halvings = tf.reduce_sum(tf.cast([shorter // scale >= DCT_GAP * size for scale in DCT_SCALES[1:]], tf.int32))
        return tf.switch_case(halvings, [lambda scale=scale: tf.io.decode_jpeg(image_bytes, channels=3, ratio=scale)
                                         for scale in DCT_SCALES])

    def decode_other():
        return tf.io.decode_image(image_bytes, channels=3, expand_animations=False)

    image = tf.cond(is_jpeg, decode_jpeg, decode_other)
    image.set_shape([None, None, 3])
    original = tf.cond(is_jpeg, lambda: tf.image.extract_jpeg_shape(image_bytes)[:2], lambda: tf.shape(image)[:2])
    target = tf.cast(_target_shape(tf.cast(original, tf.int64), size), tf.int32)
    resized = tf.cond(
        tf.reduce_all(tf.equal(tf.shape(image)[:2], target)),
        lambda: image,
        lambda: preprocessing.round_to_uint8(tf.image.resize(image, target, method="area")),
    )
    return tf.io.encode_jpeg(resized, quality=quality)


def _target_shape(height_width: tf.Tensor, size: int) -> tf.Tensor:
    """`target_size` on an int64 [height, width] tensor, as [height, width]."""
    shorter, longer = tf.reduce_min(height_width), tf.reduce_max(height_width)
    scaled_longer = (2 * longer * size + shorter) // (2 * shorter)
    height, width = height_width[0], height_width[1]
    scaled = tf.where(height < width, tf.stack([tf.constant(size, tf.int64), scaled_longer]),
                      tf.stack([scaled_longer, tf.constant(size, tf.int64)]))
    return tf.where(shorter <= size, height_width, scaled)


def reencoded_examples(examples: tf.data.Dataset, *, size: int, quality: int, workers: int) -> tf.data.Dataset:
    """{'image': bytes, 'label', 'tfds_id'} → {'image': `reencode`d JPEG or b'', 'label', 'tfds_id', 'ok'}, in
    order, on `workers` threads; 'ok' is False (and 'image' empty) where the image could not be decoded."""

    attempted = corrupt_images.attempt_images(
        examples, lambda example: reencode(example["image"], size=size, quality=quality),
        placeholder=tf.constant(b""), parallelism=workers,
    )
    return pipeline.with_threads(attempted.prefetch(2 * workers), workers)


@dataclasses.dataclass
class PreparedConfig(tfds.core.BuilderConfig):
    """One prepared dataset: `source` (a DATASET_NAMES entry in `data_dir`, manual files in `manual_dir`) at
    shorter side ≤ `size`, JPEG `quality`; `workers` tf.data threads re-encode."""

    source: str = ""
    size: int = DEFAULT_SIZE
    quality: int = DEFAULT_QUALITY
    data_dir: str | None = None
    manual_dir: str | None = None
    workers: int = 1


class PreparedImages(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """A source dataset's images re-encoded as JPEGs with shorter side ≤ N; labels, splits and order kept.

    Built only through `prepare` (its configs are made per source and size, not listed in BUILDER_CONFIGS), so
    it is not registered by name; read back with `tfds.builder_from_directory` (input_pipeline.sources), which
    needs neither this class nor the source.
    """

    VERSION = tfds.core.Version(PREPARED_VERSION)
    RELEASE_NOTES = {PREPARED_VERSION: "JPEG re-encode with shorter side ≤ size, undecodable images left out."}

    def _source_data(self):
        data = default_data_config(self.builder_config.source)
        data.data_dir = self.builder_config.data_dir
        data.manual_dir = self.builder_config.manual_dir
        return data

    def _info(self) -> tfds.core.DatasetInfo:
        config = self.builder_config
        source_label = tfds.builder(config.source, data_dir=config.data_dir).info.features["label"]
        return self.dataset_info_from_configs(
            description=(f"{config.source} re-encoded by input_pipeline.prepare: RGB JPEG quality {config.quality}, "
                         f"shorter side ≤ {config.size} (never upscaled); labels, splits and order unchanged; "
                         f"undecodable images left out (metadata.json)."),
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(None, None, 3), encoding_format="jpeg"),
                "label": tfds.features.ClassLabel(names=source_label.names),
            }),
            supervised_keys=("image", "label"),
            disable_shuffling=True,  # keep the source's stored order
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # everything is local
        source = sources.prepared_builder(self._source_data())
        self.info.metadata.update({"source": self.builder_config.source, "source_version": str(source.version),
                                   "size": self.builder_config.size, "quality": self.builder_config.quality,
                                   "resize": "tf.image.resize area, after a DCT-scaled JPEG decode",
                                   "left_out": {split: [] for split in source.info.splits}})
        return {split: self._generate_examples(source, split) for split in source.info.splits}

    def _generate_examples(self, source: tfds.core.DatasetBuilder, split: str):
        config = self.builder_config
        total = source.info.splits[split].num_examples
        # tfds sorts by key when shuffling is disabled, and buckets keys by their place in [0, 2**128): spread
        # the positions over that range so the order is kept and the temporary buckets share the data.
        spacing = 2**128 // max(total, 1)
        examples = sources.process_examples(source, split, process_index=0, process_count=1, drop_remainder=False)
        left_out = self.info.metadata["left_out"][split]  # tfds writes metadata.json after the last split

        converted = reencoded_examples(examples, size=config.size, quality=config.quality, workers=config.workers)
        for position, example in enumerate(converted.as_numpy_iterator()):
            if not example["ok"]:
                left_out.append(example["tfds_id"].decode())
                print(f'input_pipeline.prepare: left out undecodable image "{left_out[-1]}" - left out so far in '
                      f'{split}: {len(left_out)}', file=sys.stderr, flush=True)
                continue
            yield position * spacing, {"image": example["image"], "label": int(example["label"])}


@dataclasses.dataclass(frozen=True)
class Prepared:
    """What `prepare` did: the dataset directory, whether it was already there, and per split the examples
    written and the `tfds_id`s left out (empty when already prepared)."""

    directory: str
    already_prepared: bool
    examples: dict[str, int]
    left_out: dict[str, list[str]]


def prepare(name: str, *, size: int = DEFAULT_SIZE, quality: int = DEFAULT_QUALITY, data_dir: str | None = None,
            manual_dir: str | None = None, workers: int | None = None) -> Prepared:
    """Writes `name` at shorter side ≤ `size` as `prepared_images/<name>_<size>` in the source's data_dir,
    unless it is there already (then nothing is read). Raises ValueError for a bad argument or a prepared copy
    of another quality, FileNotFoundError for missing manual files (one line each)."""
    get_dataset_spec(name)  # ValueError listing the known datasets
    if size < 1:
        raise ValueError(f"--size={size}; valid: a shorter-side bound N ≥ 1")
    if not 1 <= quality <= 100:
        raise ValueError(f"--quality={quality}; valid: 1 … 100 (JPEG quality)")
    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers < 1:
        raise ValueError(f"--workers={workers}; valid: ≥ 1")
    directory = prepared_dir(name, size, data_dir)
    if is_prepared(directory):
        metadata = _read_metadata(directory)
        if metadata.get("quality", quality) != quality:
            raise ValueError(f"{config_name(name, size)} is already prepared with JPEG quality {metadata['quality']} "
                             f"in {directory}: delete that directory to prepare it with quality {quality}")
        return Prepared(directory, True, _split_sizes(tfds.builder_from_directory(directory)), {})
    source_data = default_data_config(name)
    source_data.data_dir, source_data.manual_dir = data_dir, manual_dir
    sources.prepared_builder(source_data)  # a missing manual file is named before any work; prepared first
    config = PreparedConfig(name=config_name(name, size), source=name, size=size, quality=quality,
                            data_dir=data_dir, manual_dir=manual_dir, workers=workers)
    builder = PreparedImages(config=config, data_dir=data_dir_root(name, data_dir))
    builder.download_and_prepare()
    return Prepared(directory, False, _split_sizes(builder), _read_metadata(directory)["left_out"])


def _split_sizes(builder: tfds.core.DatasetBuilder) -> dict[str, int]:
    return {split: info.num_examples for split, info in builder.info.splits.items()}


def _read_metadata(directory: str) -> dict[str, Any]:
    path = os.path.join(directory, METADATA_FILE)
    if not os.path.exists(path):
        return {}
    with open(path) as file:
        return json.load(file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m input_pipeline.prepare", description=__doc__.split("\n\n")[0].split(": ", 1)[1])
    parser.add_argument("name", metavar="NAME", help=f"dataset, one of {', '.join(DATASET_NAMES)}")
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE,
                        help=f"bound on the shorter side in pixels (default {DEFAULT_SIZE})")
    parser.add_argument("--quality", type=int, default=DEFAULT_QUALITY,
                        help=f"JPEG quality (default {DEFAULT_QUALITY})")
    parser.add_argument("--data-dir", "--data_dir", dest="data_dir",
                        help="tfds data_dir of the source, where the prepared dataset goes too (default: tfds's)")
    parser.add_argument("--manual-dir", "--manual_dir", dest="manual_dir",
                        help="manual files of imagenet2012/tiny_imagenet (default: <data_dir>/downloads/manual)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="tf.data threads that re-encode (default: the host's cores)")
    args = parser.parse_args(argv)
    # Quiet tfds's notes on custom configs and fresh directories (absl) and its reader's deprecation notes (TF);
    # the loggers' own levels are restored after, NOTSET included, so an in-process caller's logging is as it was.
    loggers = (absl_logging.get_absl_logger(), tf.get_logger())
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel("ERROR")
    try:
        return _run(args, prog=parser.prog)
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _run(args: argparse.Namespace, *, prog: str) -> int:
    started = time.perf_counter()
    try:
        done = prepare(args.name, size=args.size, quality=args.quality, data_dir=args.data_dir,
                       manual_dir=args.manual_dir, workers=args.workers)
    except (ValueError, FileNotFoundError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    name = config_name(args.name, args.size)
    if done.already_prepared:
        print(f"{name} is already prepared in {done.directory}; nothing to do")
        return 0
    seconds = time.perf_counter() - started
    counts = ", ".join(f"{split} {count:,}" for split, count in done.examples.items())
    left_out = sum(len(ids) for ids in done.left_out.values())
    print(f"{name} written to {done.directory}: {counts} images in {seconds:.0f} s; "
          f"{left_out} undecodable image(s) left out")
    if left_out:
        per_split = ", ".join(f"{split} {len(ids)}" for split, ids in done.left_out.items() if ids)
        print(f"input_pipeline.prepare: {left_out} undecodable image(s) left out ({per_split}); their tfds_ids are "
              f"in {os.path.join(done.directory, METADATA_FILE)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    from input_pipeline import prepare as importable  # tfds locates a builder's files by its package

    sys.exit(importable.main())
