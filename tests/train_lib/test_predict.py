"""predict.py on a workdir trained briefly on the real digits pipeline (tiny test model): each image's top-5
with the digit names, matching the model run on the eval recipe's output; the moving average when the
checkpoint keeps one; one-line errors with status 2.

predict.py runs as ``__main__`` in a fresh interpreter (``runpy``) that first imports ``train_fakes`` so
the test model is registered there too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import optax
import pytest
import tensorflow as tf
from PIL import Image

import input_pipeline
import train_fakes
from configs import digits
from input_pipeline import recipes
from input_pipeline.builders.digits import upsampled_digits
from train_lib import device_preprocessing, partitioning, train_and_evaluate, workdir
from train_lib.checkpointing import Checkpointer
from train_lib.config_validation import build_model
from train_lib.state import TrainState, initial_variables

REPO = Path(__file__).parents[2]
BOOTSTRAP = ("import runpy, sys, train_fakes; sys.argv = ['predict.py', *sys.argv[1:]]; "
             "runpy.run_path('predict.py', run_name='__main__')")
LINE = re.compile(r"^  ([1-5])\. (\S+) +(\d+\.\d\d)%$")
STEPS, EVERY = 30, 15
EMA_CLASS = 7  # the moving average saved by the `ema_workdir` fixture predicts this class for every image


def run_predict(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, LIGHTNETS_HUGEPAGE_MALLOC="0", JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join([str(REPO / "tests" / "train_lib"), str(REPO)]))
    return subprocess.run([sys.executable, "-c", BOOTSTRAP, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def parse_output(stdout: str) -> dict[str, list[tuple[str, float]]]:
    """{path: [(label, percent)] × 5} from predict.py's blocks (separated by blank lines)."""
    blocks = {}
    for block in stdout.strip().split("\n\n"):
        path, *lines = block.splitlines()
        matches = [LINE.match(line) for line in lines]
        assert all(matches), block
        assert [int(m.group(1)) for m in matches] == list(range(1, len(lines) + 1)), block
        blocks[path] = [(m.group(2), float(m.group(3))) for m in matches]
    return blocks


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(workdir, config): the tiny CNN after 30 digits steps, checkpoints at steps 15 and 30, no EMA."""
    path = tmp_path_factory.mktemp("predict_workdir")
    config = digits.get_config(f"{train_fakes.MODEL_NAME},width=16")
    config.num_train_steps = STEPS
    config.checkpoint_every_steps = EVERY
    config.log_every_steps = STEPS
    train_and_evaluate(config, str(path), data_source=input_pipeline, devices=jax.devices()[:1])
    return path, config


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Three test-split digits as files: RGB PNG and grayscale PNG at 32 px, RGB JPEG at 48 px."""
    folder = tmp_path_factory.mktemp("predict_images")
    pixels, labels, is_test = upsampled_digits()
    picks = [int(np.flatnonzero(is_test & (labels == digit))[0]) for digit in (3, 5, 8)]
    paths = [folder / "digit_3.png", folder / "digit_5_gray.png", folder / "digit_8.jpg"]
    Image.fromarray(pixels[picks[0]]).save(paths[0])
    Image.fromarray(pixels[picks[1]][..., 0], mode="L").save(paths[1])
    Image.fromarray(pixels[picks[2]]).resize((48, 48), Image.BILINEAR).save(paths[2], quality=95)
    return [str(p) for p in paths]


def restored_variables(workdir_path, config, step: int, parts=("params", "batch_stats")):
    model = build_model(config, num_classes=10)
    abstract = jax.eval_shape(lambda key: initial_variables(model, rng=key, image_size=config.data.image_size),
                              jax.random.key(0))
    sharding = partitioning.replicated(partitioning.create_mesh(jax.devices()[:1]))
    variables = {name: jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding),
                                    abstract[name]) for name in ("params", "batch_stats")}
    with Checkpointer(str(workdir_path), keep=3, keep_best=True) as checkpointer:
        restored = checkpointer.restore_parts(step, {"ema": variables} if parts == ("ema",) else variables)
    return model, restored["ema"] if parts == ("ema",) else restored


def reference_probabilities(model, variables, config, paths) -> np.ndarray:
    """The model on the eval pipeline's preprocessing of the files: ``recipes.eval_image`` in a tf.data map on
    the host, then the eval step's ``device_preprocessing.eval_preprocessing``."""
    encoded = tf.data.Dataset.from_tensor_slices([Path(p).read_bytes() for p in paths])
    batch = next(encoded.map(lambda b: recipes.eval_image(b, data=config.data)).batch(len(paths)).as_numpy_iterator())
    images = device_preprocessing.eval_preprocessing(config.data)(batch)
    logits = model.apply(jax.device_put(variables, jax.devices()[0]), images, train=False)
    return np.asarray(jax.nn.softmax(logits.astype(np.float32)))


@pytest.fixture(scope="module")
def ema_workdir(trained, tmp_path_factory):
    """A workdir whose checkpoint (step 30) keeps the trained params and a moving average that differs from
    them: the classifier bias of class EMA_CLASS raised by 50, so the EMA predicts it for every image."""
    path = tmp_path_factory.mktemp("predict_ema_workdir")
    workdir_path, config = trained
    model, variables = restored_variables(workdir_path, config, STEPS)

    def raise_class(key_path, leaf):
        is_bias = jax.tree_util.keystr(key_path).endswith("['bias']") and leaf.shape == (10,)
        return leaf.at[EMA_CLASS].add(50.0) if is_bias else leaf

    ema = {"params": jax.tree_util.tree_map_with_path(raise_class, variables["params"]),
           "batch_stats": variables["batch_stats"]}
    assert jax.tree.leaves(jax.tree.map(lambda a, b: bool((a != b).any()), ema["params"], variables["params"])) \
        .count(True) == 1, "expected exactly one classifier bias"
    state = TrainState.create(apply_fn=model.apply, params=variables["params"], tx=optax.sgd(0.1),
                              batch_stats=variables["batch_stats"], ema=ema).replace(step=STEPS)
    with Checkpointer(str(path), keep=3, keep_best=True) as checkpointer:
        checkpointer.save(state)
    config = config.copy_and_resolve_references()
    config.ema_decay = 0.9
    workdir.write_config(str(path), config)
    return path, config


def test_predict_prints_top5_matching_the_model(trained, images):
    workdir_path, config = trained
    result = run_predict(f"--workdir={workdir_path}", *images)
    assert result.returncode == 0, result.stderr
    blocks = parse_output(result.stdout)
    assert list(blocks) == images
    model, variables = restored_variables(workdir_path, config, STEPS)
    reference = reference_probabilities(model, variables, config, images)
    for path, probabilities in zip(images, reference):
        rows = blocks[path]
        assert len(rows) == 5
        labels, percents = [label for label, _ in rows], [percent for _, percent in rows]
        assert set(labels) <= {str(d) for d in range(10)} and len(set(labels)) == 5, rows
        assert percents == sorted(percents, reverse=True), rows
        assert sum(percents) <= 100.03, rows  # five values rounded to 0.01
        assert int(labels[0]) == int(np.argmax(probabilities)), (path, rows, probabilities)
        for label, percent in rows:
            assert percent == pytest.approx(100 * probabilities[int(label)], abs=0.011), (path, rows, probabilities)


def test_predict_uses_the_moving_average_when_kept(ema_workdir, images):
    workdir_path, config = ema_workdir
    model, ema = restored_variables(workdir_path, config, STEPS, parts=("ema",))
    assert (reference_probabilities(model, ema, config, images).argmax(-1) == EMA_CLASS).all()
    result = run_predict(f"--workdir={workdir_path}", "--checkpoint=latest", images[0])
    assert result.returncode == 0, result.stderr
    rows = parse_output(result.stdout)[images[0]]
    assert rows[0] == (str(EMA_CLASS), 100.0), rows


@pytest.mark.parametrize("case", ["no_workdir", "no_config", "no_checkpoints", "bad_step", "missing_image",
                                  "bad_image"])
def test_errors_are_one_line_with_status_2(case, trained, images, tmp_path):
    workdir_path, _ = trained
    args, expected = {
        "no_workdir": ([images[0]], "--workdir is required"),
        "no_config": ([f"--workdir={tmp_path}", images[0]], "has no config.json"),
        "no_checkpoints": ([f"--workdir={tmp_path}", images[0]], "has no checkpoints"),
        "bad_step": ([f"--workdir={workdir_path}", "--checkpoint=999", images[0]],
                     f"--checkpoint=999; valid: latest, best or a saved step ({EVERY}, {STEPS})"),
        "missing_image": ([f"--workdir={workdir_path}", str(tmp_path / "missing.png")],
                          f"cannot read {tmp_path / 'missing.png'}: No such file or directory"),
        "bad_image": ([f"--workdir={workdir_path}", images[0], str(tmp_path / "bad.png")],
                      f"cannot decode {tmp_path / 'bad.png'} as an image"),
    }[case]
    if case == "no_checkpoints":
        (tmp_path / "config.json").write_text((workdir_path / "config.json").read_text())
    (tmp_path / "bad.png").write_bytes(b"not an image")
    result = run_predict(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("predict.py: error: "), result.stderr
    assert expected in lines[0], lines[0]
