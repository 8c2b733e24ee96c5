"""Weights from outside the workdir: ``config.init_from`` (a fresh run starts from them) and ``main.py
--mode=eval --weights`` (evaluated as they are).

A weights file is a lightnets weights file (``.msgpack``, written by ``python -m lightnets.pretrained.convert``
or ``lightnets.pretrained.save_weights``) or a published PyTorch state_dict of the config's model
(``.safetensors``; ``.pth``/``.pt``/``.bin`` with PyTorch installed), imported with ``lightnets.pretrained``
(docs/models.md, "Pretrained weights"). Local paths only.
"""

from __future__ import annotations

import os
from typing import Any

import flax.linen as nn
import jax
import ml_collections
import numpy as np
from absl import logging
from flax import traverse_util

from lightnets import pretrained
from lightnets.pretrained.layers import model_layers, torch_layers
from lightnets.pretrained.state_dict import SUFFIXES as STATE_DICT_SUFFIXES
from lightnets.registry import canonical_name
from train_lib.config_validation import model_kwargs
from train_lib.errors import ConfigError

SUFFIXES = (pretrained.WEIGHTS_SUFFIX, *STATE_DICT_SUFFIXES)


def check_weights_file(path: str, *, field: str, model: str) -> None:
    """Raises ConfigError (naming ``field``) for a path that is not an existing weights file, or a state_dict
    for a model without published PyTorch weights; reads nothing."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES:
        raise ConfigError(f"{field}={path!r}: unsupported suffix {suffix or '(none)'!r}; valid: {', '.join(SUFFIXES)}")
    if not os.path.isfile(path):
        raise ConfigError(f"{field}={path!r}: no such file")
    if suffix != pretrained.WEIGHTS_SUFFIX:
        try:
            pretrained.get_source(model)
        except ValueError as error:
            raise ConfigError(f"{field}={path!r}: {error}") from None


def read_weights(path: str, *, field: str, config: ml_collections.ConfigDict, model: nn.Module) -> dict[str, Any]:
    """The variables ({'params', 'batch_stats'}, float32 numpy) of weights file ``path`` for ``config.model``, at
    the file's own classifier size; ``model`` is the config's model (its options build the import).

    Logs a warning for each model option the weights were made with that the config sets otherwise (e.g. timm's
    MobileNet V1 computes ReLU6: ``act='relu6'``). Raises ConfigError (naming ``field``) for a file that cannot
    be read or was made for another model.
    """
    try:
        if path.endswith(pretrained.WEIGHTS_SUFFIX):
            record = pretrained.load_weights(path, model=config.model)
            variables, made_with = record["variables"], record["model_options"]
        else:
            source = pretrained.get_source(config.model)
            state_dict = pretrained.read_state_dict(path)
            classifier = torch_layers(state_dict, source.module_order, source=source.label)[-1]
            variables = pretrained.import_state_dict(
                model.clone(num_classes=classifier.tensors["weight"].shape[0]), state_dict, source=source)
            made_with = source.model_options
    except ValueError as error:  # PretrainedError included
        raise ConfigError(f"{field}={path!r}: {error}") from None
    options = model_kwargs(config)
    for option, value in made_with.items():
        if options.get(option) != value:
            logging.warning("%s=%s: the weights were made with model option %s=%r; this config builds %s=%r "
                            "(--config.model_kwargs.%s=%r computes their function).", field, path, option, value,
                            option, options.get(option), option, value)
    return {"params": variables.get("params", {}), "batch_stats": variables.get("batch_stats", {})}


def classifier_path(model: nn.Module, image_size: int) -> tuple[str, ...]:
    """The module path of ``model``'s classifier: its last layer with variables in forward order."""
    return model_layers(model, image_size)[-1].path


def fit_variables(target: dict[str, Any], loaded: dict[str, Any], *, field: str, path: str,
                  classifier: tuple[str, ...] | None = None, new_classifier: bool = False,
                  ) -> tuple[dict[str, Any], list[str]]:
    """``loaded`` laid onto ``target``'s tree ({'params', 'batch_stats'}): every leaf of ``target`` takes the
    loaded value of the same path and shape. Leaves under module ``classifier`` (the fine-tune's, or None) keep
    ``target``'s value when the loaded one does not fit them (another number of classes) or when
    ``new_classifier``. Returns (variables, the paths of the leaves that kept ``target``'s value).

    Raises ConfigError naming the first leaf that is missing from ``loaded``, mis-shaped outside ``classifier``,
    or in ``loaded`` only.
    """
    flat_target = traverse_util.flatten_dict(target)
    flat_loaded = traverse_util.flatten_dict(loaded)
    fitted, kept = {}, []
    for key, leaf in flat_target.items():
        name = "/".join(key)
        value = flat_loaded.get(key)
        fits = value is not None and tuple(np.shape(value)) == tuple(leaf.shape)
        if classifier is not None and key[1:len(classifier) + 1] == classifier and (new_classifier or not fits):
            fitted[key] = leaf
            kept.append(name)
        elif fits:
            fitted[key] = np.asarray(value, np.float32)
        elif value is None:
            raise ConfigError(f"{field}={path!r} has no variable {name}")
        else:
            raise ConfigError(f"{field}={path!r}: variable {name} has shape {tuple(np.shape(value))}; the model's "
                              f"is {tuple(leaf.shape)}")
    if extra := sorted(set(flat_loaded) - set(flat_target)):
        raise ConfigError(f"{field}={path!r} has variable {'/'.join(extra[0])}, which the model lacks")
    return traverse_util.unflatten_dict(fitted), kept


def place(variables: dict[str, Any], shardings: Any) -> dict[str, Any]:
    """``variables`` on the devices, laid out as ``shardings`` (a matching tree of shardings)."""
    return jax.tree.map(lambda value, sharding: jax.device_put(np.asarray(value), sharding), variables, shardings)


def published_figure(config: ml_collections.ConfigDict) -> str:
    """One line with the published ImageNet-1k validation accuracy of ``config.model``'s PyTorch weights
    (``lightnets.pretrained.SOURCES``), for printing beside an eval of them, and whether ``config``'s data and
    preprocessing are the ones that figure was measured with."""
    source = pretrained.SOURCES.get(canonical_name(config.model))
    if source is None:
        return f"published: none for {config.model} (no published PyTorch weights)"
    line = (f"published ({source.label}, {source.weights}): top-1 {source.top1:.2f}%  top-5 {source.top5:.2f}% on "
            f"ImageNet-1k validation")
    differences = [f"{name} {ours!r} (published: {theirs!r})" for name, ours, theirs in _evaluation_fields(config, source)
                   if ours != theirs]
    return f"{line}; this eval differs: {', '.join(differences)}" if differences else line


def _evaluation_fields(config: ml_collections.ConfigDict, source: pretrained.PretrainedSource):
    data, evaluation = config.data, source.evaluation
    yield "data.name", data.name, "imagenet2012"
    yield "data.eval_split", data.eval_split, "validation"
    yield "data.image_size", data.image_size, evaluation.image_size
    yield "data.eval_preprocess", data.eval_preprocess, "resize_center_crop"
    yield "data.eval_crop_ratio", round(data.eval_crop_ratio, 4), round(evaluation.crop_fraction, 4)
    yield "data.resize_method", data.resize_method, evaluation.interpolation
    yield "data.normalization", data.normalization, "mean_std"
    yield "data.mean", tuple(data.mean), evaluation.mean
    yield "data.std", tuple(data.std), evaluation.std
