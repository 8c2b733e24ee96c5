"""PyTorch ``state_dict`` files as numpy: ``.safetensors`` through the safetensors package (no PyTorch
needed), ``.pth``/``.pt``/``.bin`` through ``torch.load(weights_only=True)`` when PyTorch is installed.

A state_dict maps a module path (``features.3.conv.1.0.weight``) to a tensor; PyTorch's layouts are
NCHW activations, OIHW conv kernels ``[out, in / groups, k_h, k_w]`` and ``[out, in]`` linear weights.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

import jax.numpy as jnp
import numpy as np

SAFETENSORS_SUFFIX = ".safetensors"
PICKLE_SUFFIXES = (".pth", ".pt", ".bin")
SUFFIXES = (SAFETENSORS_SUFFIX, *PICKLE_SUFFIXES)
# Keys under which training scripts commonly nest the state_dict in a checkpoint file.
_NESTED_KEYS = ("state_dict", "model", "model_state_dict")


class PretrainedError(ValueError):
    """A weights file that cannot be read or does not fit the model: the message names the file or tensor."""


def read_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The tensors of a state_dict file as numpy arrays, in the file's order.

    Floating tensors come back as float32 (bfloat16/float16 files included), integer ones as integers (int64
    as int32 from ``.safetensors``, read through JAX, which keeps 32-bit integers). A
    ``.pth`` checkpoint that nests its state_dict under 'state_dict', 'model' or 'model_state_dict' is
    unwrapped.

    Raises PretrainedError (one line) for a missing file, an unsupported suffix, a ``.pth`` file without
    PyTorch installed, or a file that holds no tensors.
    """
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    if os.path.isdir(path):
        raise PretrainedError(f"weights file {path!r} is a directory; give the state_dict file in it")
    if suffix not in SUFFIXES:
        raise PretrainedError(f"weights file {path!r}: unsupported suffix {suffix or '(none)'!r}; valid: "
                              f"{', '.join(SUFFIXES)} (and .msgpack for a lightnets weights file)")
    if not os.path.isfile(path):
        raise PretrainedError(f"weights file {path!r} does not exist")
    tensors = _read_safetensors(path) if suffix == SAFETENSORS_SUFFIX else _read_pickle(path)
    if not tensors:
        raise PretrainedError(f"weights file {path!r} holds no tensors")
    return {key: value.astype(np.float32) if jnp.issubdtype(value.dtype, jnp.floating) else value
            for key, value in tensors.items()}


def write_state_dict(state_dict: Mapping[str, np.ndarray], path: str | os.PathLike) -> None:
    """Writes ``state_dict`` as a ``.safetensors`` file (readable by PyTorch's and timm's loaders)."""
    from safetensors.numpy import save_file

    if not os.fspath(path).endswith(SAFETENSORS_SUFFIX):
        raise PretrainedError(f"{os.fspath(path)!r}: state_dicts are written as {SAFETENSORS_SUFFIX} files")
    save_file({key: np.ascontiguousarray(value) for key, value in state_dict.items()}, os.fspath(path))


def _read_safetensors(path: str) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.flax import load_file  # the numpy reader has no bfloat16; JAX's arrays do

    try:
        return {key: np.asarray(value) for key, value in load_file(path).items()}
    except (SafetensorError, OSError) as error:
        raise PretrainedError(f"weights file {path!r} is not a safetensors file: {error}") from None


def _read_pickle(path: str) -> dict[str, np.ndarray]:
    try:
        import torch
    except ImportError:
        raise PretrainedError(
            f"weights file {path!r}: reading {', '.join(PICKLE_SUFFIXES)} files needs PyTorch (pip install torch); "
            f"without it, use the {SAFETENSORS_SUFFIX} form of the weights") from None
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises RuntimeError, UnpicklingError, EOFError... for a bad file
        raise PretrainedError(f"weights file {path!r} {_unreadable_pickle(str(error) or type(error).__name__)}"
                              ) from None
    for key in _NESTED_KEYS:
        if isinstance(loaded, Mapping) and isinstance(loaded.get(key), Mapping):
            loaded = loaded[key]
    if not isinstance(loaded, Mapping):
        raise PretrainedError(f"weights file {path!r} holds a {type(loaded).__name__}, not a state_dict")
    return {key: value.detach().float().numpy() if value.is_floating_point() else value.numpy()
            for key, value in loaded.items() if isinstance(value, torch.Tensor)}


def _unreadable_pickle(message: str) -> str:
    """Why ``torch.load(weights_only=True)`` refused a file, from its (long, multi-paragraph) message."""
    if "Unsupported global" in message:
        return ("holds pickled Python objects (a whole model saved with torch.save(model)?), not a state_dict of "
                "tensors: save model.state_dict() instead")
    detail = re.sub(r"\x1b\[[0-9;]*m", "", message)
    detail = re.search(r"WeightsUnpickler error:\s*([^\n]+)", detail)
    reason = detail.group(1).strip() if detail else " ".join(message.split())[:120]
    return f"is not a PyTorch checkpoint that torch.load can read as tensors ({reason})"
