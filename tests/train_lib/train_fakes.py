"""Test-only pieces for train_lib: a tiny registered CNN, a synthetic data source following the
input_pipeline contract, and a tiny config."""

from __future__ import annotations

import dataclasses
import time

import flax.linen as nn
import jax
import ml_collections
import numpy as np

from lightnets.layers import ImageClassifier, global_avg_pool
from lightnets.registry import list_models, register_model

MODEL_NAME = "test_tiny_cnn"
IMAGE_SIZE = 8
NUM_CLASSES = 4


class TinyCNN(ImageClassifier):
    """Two conv-BN-ReLU layers, dropout and the classifier; ``groups`` applies to the second conv."""

    width: int = 8
    groups: int = 1
    dropout_rate: float = 0.1

    @nn.compact
    def __call__(self, x, *, train: bool):
        x = self.conv_bn_act(train, self.width, (3, 3), strides=(2, 2))(x)
        x = self.conv_bn_act(train, self.width, (3, 3), groups=self.groups)(x)
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(global_avg_pool(x))
        return self.classifier(x)


if MODEL_NAME not in list_models():
    register_model(MODEL_NAME, TinyCNN)


@dataclasses.dataclass(frozen=True)
class FakeSpec:
    """input_pipeline.DatasetSpec's fields for the fake dataset."""

    name: str
    num_classes: int
    splits: dict[str, int] = dataclasses.field(hash=False)
    train_split: str = "train"
    eval_split: str = "test"
    image_size: int = IMAGE_SIZE


class FakeDataSource:
    """The input_pipeline contract on a synthetic dataset 'fake': each class is a fixed random pattern plus
    noise. ``nan_at_step`` poisons that train step's batch; ``seconds_per_batch`` slows the train stream."""

    def __init__(self, *, num_train: int = 64, num_eval: int = 20, nan_at_step: int | None = None,
                 seconds_per_batch: float = 0.0):
        rng = np.random.default_rng(0)
        patterns = rng.normal(size=(NUM_CLASSES, IMAGE_SIZE, IMAGE_SIZE, 3)).astype(np.float32)

        def split(n: int):
            labels = rng.integers(0, NUM_CLASSES, size=n).astype(np.int32)
            images = patterns[labels] + 0.5 * rng.normal(size=(n, IMAGE_SIZE, IMAGE_SIZE, 3)).astype(np.float32)
            return images, labels

        self.train, self.eval = split(num_train), split(num_eval)
        self.spec = FakeSpec("fake", NUM_CLASSES, {"train": num_train, "test": num_eval})
        self.nan_at_step, self.seconds_per_batch = nan_at_step, seconds_per_batch

    def get_dataset_spec(self, name: str) -> FakeSpec:
        if name != "fake":
            raise ValueError(f"Unknown dataset {name!r}; known datasets: fake")
        return self.spec

    def validate_data_config(self, data) -> None:
        self.get_dataset_spec(data.name)

    def check_data_available(self, data) -> None:
        self.get_dataset_spec(data.name)

    def steps_per_epoch(self, data, global_batch_size: int) -> int:
        return max(1, len(self.train[1]) // global_batch_size)

    def create_train_iterator(self, data, *, global_batch_size: int, seed: int, start_step: int = 0,
                              process_index: int | None = None, process_count: int | None = None):
        index, count = _process(process_index, process_count)
        local = global_batch_size // count
        per_epoch = self.steps_per_epoch(data, global_batch_size)
        step = start_step
        while True:
            epoch, position = divmod(step, per_epoch)
            order = np.random.default_rng([seed, epoch]).permutation(len(self.train[1]))
            rows = order[position * global_batch_size:][index * local:(index + 1) * local]
            images = self.train[0][rows].copy()
            if step + 1 == self.nan_at_step:  # the batch of step `nan_at_step` (steps count from 1)
                images[0, 0, 0, 0] = np.nan
            time.sleep(self.seconds_per_batch)
            yield {"image": images, "label": self.train[1][rows]}
            step += 1

    def create_eval_iterator(self, data, *, global_batch_size: int, process_index: int | None = None,
                             process_count: int | None = None):
        index, count = _process(process_index, process_count)
        local = global_batch_size // count
        n = len(self.eval[1])
        padded = -(-n // global_batch_size) * global_batch_size
        rows = np.arange(padded) % n
        mask = np.arange(padded) < n
        for start in range(0, padded, global_batch_size):
            part = slice(start + index * local, start + (index + 1) * local)
            yield {"image": self.eval[0][rows[part]], "label": self.eval[1][rows[part]], "mask": mask[part]}


def _process(index: int | None, count: int | None) -> tuple[int, int]:
    """This process's (index, count), defaulting to JAX's as the real input pipeline does."""
    return (jax.process_index() if index is None else index, jax.process_count() if count is None else count)


def tiny_config(**overrides) -> ml_collections.ConfigDict:
    """A few-step SGD config of the tiny CNN on the fake data (batch 16, 4 steps per epoch)."""
    config = ml_collections.ConfigDict(dict(
        seed=0, model=MODEL_NAME, model_kwargs=ml_collections.ConfigDict(), dtype="float32", bn_mode="global",
        # The fake's images are float (a NaN can be injected); mean 0 / std 1/255 undoes the device's ÷255.
        data=ml_collections.ConfigDict(dict(
            name="fake", image_size=IMAGE_SIZE, normalization="mean_std", mean=(0.0, 0.0, 0.0),
            std=(1 / 255,) * 3, color_jitter=0.0, pca_lighting=0.0,
        )),
        batch_size=16, eval_batch_size=16, num_epochs=2.0, num_train_steps=-1,
        optimizer="sgd", momentum=0.9, nesterov=True, lr_in_momentum=False, rmsprop_decay=0.9, rmsprop_epsilon=1.0,
        rmsprop_initial_scale=1.0, learning_rate=0.1, schedule="cosine", warmup_epochs=0.5,
        warmup_init_factor=0.0, lr_decay_rate=0.98, lr_decay_epochs=1.0, lr_boundaries_epochs=(1,),
        lr_boundary_factor=0.1, lr_power=1.0, lr_end=0.0, weight_decay=1e-4, weight_decay_params="kernels",
        label_smoothing=0.1, ema_decay=0.0, ema_warmup=True, log_every_steps=2, eval_every_epochs=1.0,
        checkpoint_every_steps=4, keep_checkpoints=3, keep_best_checkpoint=True, divergence_factor=10.0,
        allow_config_change=False, ops_autotune=False, ops_autotune_budget_s=60.0, ops_autotune_cache_dir="",
        init_from=None, init_from_new_classifier=False,
    ))
    if overrides:
        config.update_from_flattened_dict(overrides)
    return config
