"""Published PyTorch weights for lightnets models: torchvision and timm state_dicts imported with output parity.

    model, variables = lightnets.pretrained.load_pretrained("mobilenet_v2_100", "mobilenet_v2-b0353104.pth")
    logits = model.apply(variables, images, train=False)   # images: NHWC float32, preprocessed as
                                                            # get_source(name).evaluation says

``SOURCES`` lists the importable variants (docs/models.md, "Pretrained weights"). ``python -m
lightnets.pretrained.convert NAME STATE_DICT OUT.msgpack`` writes a lightnets weights file that ``main.py``
fine-tunes from (``config.init_from``) and evaluates (``--mode=eval --weights``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import numpy as np
from flax import serialization

from lightnets.pretrained.layers import import_variables, model_layers, torch_layers
from lightnets.pretrained.sources import SOURCES, Evaluation, PretrainedSource, get_source
from lightnets.pretrained.state_dict import PretrainedError, read_state_dict
from lightnets.registry import canonical_name, create_model

WEIGHTS_SUFFIX = ".msgpack"
WEIGHTS_FORMAT = "lightnets-weights/1"

__all__ = ["SOURCES", "WEIGHTS_SUFFIX", "Evaluation", "PretrainedError", "PretrainedSource", "get_source",
           "import_state_dict", "load_pretrained", "load_weights", "read_state_dict", "save_weights"]


def import_state_dict(model: nn.Module, state_dict: Mapping[str, np.ndarray], *, source: PretrainedSource
                      ) -> dict[str, Any]:
    """``model``'s variables ({'params', 'batch_stats'}, float32 numpy) from a PyTorch ``state_dict`` of
    ``source``'s peer, paired layer by layer in forward order (``lightnets.pretrained.layers``).

    Raises PretrainedError naming the first missing, unexpected or mis-shaped tensor.
    """
    return import_variables(model_layers(model, type(model).default_input_size),
                            torch_layers(state_dict, source.module_order, source=source.label),
                            source=source.label)


def load_pretrained(name: str, path: str | os.PathLike, **overrides: Any) -> tuple[nn.Module, dict[str, Any]]:
    """Registered model ``name`` and its variables from the published weights file ``path``.

    ``path`` is the peer's state_dict (``.pth``/``.pt``/``.bin`` with PyTorch installed, or ``.safetensors``
    without it) or a lightnets weights file (``.msgpack``, from ``python -m lightnets.pretrained.convert``).
    The model gets the source's ``model_options`` (``get_source(name)``) and then ``overrides``; an override
    that changes the architecture makes the import fail on the first tensor that no longer fits.

    Raises ValueError for a model without published weights, PretrainedError for a file that cannot be read
    or does not fit the model.
    """
    source = get_source(name)
    model = create_model(name, **{**source.model_options, **overrides})
    if os.fspath(path).endswith(WEIGHTS_SUFFIX):
        return model, load_weights(path, model=name)["variables"]
    return model, import_state_dict(model, read_state_dict(path), source=source)


def save_weights(path: str | os.PathLike, *, model: str, model_options: Mapping[str, Any],
                 variables: Mapping[str, Any], origin: str) -> None:
    """Writes a lightnets weights file: ``variables`` of registered ``model`` built with ``model_options``,
    and ``origin`` (where the weights came from), as msgpack (``flax.serialization``); missing parent
    directories are created.

    Raises PretrainedError for a path that does not end in ``.msgpack`` or cannot be written.
    """
    path = os.fspath(path)
    if not path.endswith(WEIGHTS_SUFFIX):
        raise PretrainedError(f"{path!r}: lightnets weights files end in {WEIGHTS_SUFFIX}")
    record = {"format": WEIGHTS_FORMAT, "model": canonical_name(model), "model_options": dict(model_options),
              "origin": origin, "variables": serialization.to_state_dict(dict(variables))}
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "wb") as file:
            file.write(serialization.msgpack_serialize(record))
    except OSError as error:
        raise PretrainedError(f"cannot write weights file {path!r}: {error.strerror}") from None


def load_weights(path: str | os.PathLike, *, model: str | None = None) -> dict[str, Any]:
    """A lightnets weights file as {'model', 'model_options', 'origin', 'variables'}.

    Raises PretrainedError for a missing or unreadable file, or one written for another model than ``model``.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise PretrainedError(f"weights file {path!r} does not exist")
    try:
        with open(path, "rb") as file:
            record = serialization.msgpack_restore(file.read())
    except Exception as error:  # msgpack raises several unrelated types for a corrupt file
        raise PretrainedError(f"weights file {path!r} is not a lightnets weights file: {error}") from None
    if not isinstance(record, dict) or record.get("format") != WEIGHTS_FORMAT:
        raise PretrainedError(f"weights file {path!r} is not a lightnets weights file ({WEIGHTS_FORMAT})")
    if model is not None and record["model"] != canonical_name(model):
        raise PretrainedError(f"weights file {path!r} holds {record['model']} weights, not {canonical_name(model)}")
    return record
