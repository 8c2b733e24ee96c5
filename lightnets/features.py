"""Feature extraction for every registered model: per-stage feature maps, pre-logits and logits from one
forward pass, with no per-model tables.

The idea and its convention are timm's (``timm/models/_features.py``: ``FeatureInfo``, the ``features_only``
feature extractors and ``forward_features`` / ``forward_head(pre_logits=True)``), in Flax form:

* the candidate feature maps are the 4-D (NHWC) arrays that flow between the model's **top-level child
  modules** (stem, stages or blocks, head conv, ...): each child's output, and a child's input where it is
  not simply the previous child's output (an op the model applies inline between children, such as
  ShuffleNet's stem max pool, produced it; timm's ``hook_type='forward_pre'``);
* ``reduction`` is the input size over the feature size, i.e. the cumulative stride; of the candidates at a
  reduction the **last** one is kept, and the kept maps are listed in order of increasing reduction;
* candidates stop at the top-level module named ``classifier`` (``ImageClassifier.classifier``'s Dense, or
  SqueezeNet's conv10); ``nn.Dropout`` children are transparent (a dropout is not a stage).

Where the convention meets a registered model's structure:

* ShuffleNet V1/V2 (default geometry): the stem's 3×3/2 max pool is applied inline and the next unit has
  stride 2, so the reduction-4 map is the input of ``stage2_unit1`` (``hook_type='forward_pre'``);
  SqueezeNext's ceil-mode stem pool is followed by stride-1 units, whose outputs are used.
* SqueezeNet: its max pools are inline, each followed by a Fire module, whose output is used. With
  ``simple_bypass`` the last shortcut (fire9's) is added inline, so the final map is the input of the
  ``Dropout_0`` child (``forward_pre``). The classifier is conv10 (a conv on the map, not a Dense).
* Xception: ``exit_sepconv2``'s output is the final map before the ReLU the model applies inline, so the
  feature is pre-activation (as are the residual block outputs, each next block starting with its ReLU).
* MobileNet V3: ``head_fc`` (a Dense on the pooled vector) comes after the final map, so ``pre_logits``
  is its (hard-swish, dropout) output, not the pooled map.

Everything is computed from the model itself: ``jax.eval_shape`` traces it under
``flax.linen.intercept_methods``, which records each top-level child's call. Reductions are exact for
every padding and pooling mode (VALID, SAME, symmetric, Caffe/PyTorch ceil mode): the model is traced at
the requested size and at that size plus 256 pixels, and a map's reduction is 256 over the growth of its
spatial size (a multiple of every stride up to 256 grows each map by exactly 256 / its stride).
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from lightnets.layers import global_avg_pool

# Hook types as timm's FeatureHooks names them: a module's output, or its input.
FORWARD = "forward"
FORWARD_PRE = "forward_pre"
CLASSIFIER = "classifier"
_PROBE_STEP = 256  # the second trace's extra pixels per spatial axis: a multiple of every stride up to 256


@dataclasses.dataclass(frozen=True)
class FeatureInfo:
    """One feature map a model yields (timm's ``FeatureInfo`` entry: ``module``, ``num_chs``, ``reduction``).

    Attributes:
      module: name of the top-level child module the map belongs to (a path of length one, e.g.
        ``'stage3'``, ``'stem'``, ``'stage2_unit1'``).
      num_channels: channels C of the ``[N, H, W, C]`` map.
      reduction: input size / feature size, the cumulative stride (a power of two for every registered
        model): ``H == ceil(image_height / reduction)`` for padded networks, a little less after unpadded
        convs or ceil-mode pools.
      hook_type: ``'forward'`` (the module's output) or ``'forward_pre'`` (its input: a map made by an op
        the model applies inline before calling ``module``, e.g. ShuffleNet's stem max pool).
    """

    module: str
    num_channels: int
    reduction: int
    hook_type: str = FORWARD


class Features(NamedTuple):
    """What ``forward_features`` returns (a pytree: it can leave ``jax.jit``).

    Attributes:
      features: one ``[N, H_i, W_i, C_i]`` array per ``feature_info`` entry, same order, in the model's
        compute ``dtype`` (float32 by default, bfloat16 for a bfloat16 model).
      pre_logits: ``[N, D]``, the input of the ``classifier`` module: after global pooling, dropout and any
        head FC (MobileNet V3's ``head_fc``), in the compute ``dtype``. Where the classifier is a conv on a
        map (SqueezeNet's conv10), it is the spatial mean of that conv's input.
      logits: float32 ``[N, num_classes]``, what ``model.apply`` returns.
      updates: the collections the call mutated: ``{'batch_stats': ...}`` when ``train=True`` for a model
        with BatchNorm, else ``{}``.
    """

    features: list[jax.Array]
    pre_logits: jax.Array
    logits: jax.Array
    updates: dict


@dataclasses.dataclass(frozen=True)
class _Tap:
    """A candidate map: the ``call``-th call of top-level child ``module``, its input or output, ``(H, W, C)``."""

    module: str
    hook_type: str
    call: int
    shape: tuple[int, ...]


def _is_map(value: Any) -> bool:
    return getattr(value, "ndim", None) == 4


class _Recorder:
    """``nn.intercept_methods`` interceptor recording the candidate maps of one call of the model (module
    docstring) and the inputs of its ``classifier``."""

    def __init__(self) -> None:
        self.taps: list[_Tap] = []
        self.arrays: list[Any] = []
        self.classifier_inputs: list[Any] = []
        self._calls: collections.Counter[str] = collections.Counter()
        self._current: Any = None  # the array the last child returned (a child taking it adds no map)
        self._done = False  # past the classifier

    def _record(self, name: str, hook_type: str, call: int, x: Any) -> None:
        self.taps.append(_Tap(name, hook_type, call, tuple(x.shape[1:])))
        self.arrays.append(x)

    def __call__(self, next_fun: Callable, args: tuple, kwargs: dict, context: Any) -> Any:
        path = context.module.path
        if context.method_name != "__call__" or len(path) > 1:
            return next_fun(*args, **kwargs)
        x = args[0] if args else None
        if not path:  # the model itself: its input is not a feature map
            self._current = x
            return next_fun(*args, **kwargs)
        name = path[0]
        call = self._calls[name]
        self._calls[name] += 1
        if name == CLASSIFIER and x is not None:
            self.classifier_inputs.append(x)
        if not self._done and _is_map(x) and x is not self._current:
            self._record(name, FORWARD_PRE, call, x)
        out = next_fun(*args, **kwargs)
        if not self._done:
            if name == CLASSIFIER:
                self._done = True
            elif not isinstance(context.module, nn.Dropout) and _is_map(out):
                self._record(name, FORWARD, call, out)
            self._current = out
        return out


# (model, height, width, channels, dtype) -> the candidate maps of the model on such images; bounded LRU.
_PROBES: collections.OrderedDict[tuple, tuple[_Tap, ...]] = collections.OrderedDict()
_MAX_PROBES = 512


def _probe_key(model: nn.Module, height: int, width: int, channels: int, dtype: Any) -> tuple | None:
    key = (model, height, width, channels, jnp.dtype(dtype).name)
    try:
        hash(key)
    except TypeError:  # a model field holding an unhashable value (a list): nothing is cached
        return None
    return key


def _remember(key: tuple | None, taps: Sequence[_Tap]) -> None:
    if key is not None:
        _PROBES[key] = tuple(taps)
        _PROBES.move_to_end(key)
        while len(_PROBES) > _MAX_PROBES:
            _PROBES.popitem(last=False)


def _probe(model: nn.Module, height: int, width: int, channels: int, dtype: Any) -> tuple[_Tap, ...]:
    """The candidate maps of ``model`` on ``height``×``width`` images: one ``eval_shape`` trace, cached."""
    key = _probe_key(model, height, width, channels, dtype)
    if key is not None and key in _PROBES:
        _PROBES.move_to_end(key)
        return _PROBES[key]
    recorder = _Recorder()

    def init(images: jax.Array) -> jax.Array:
        with nn.intercept_methods(recorder):
            return model.init_with_output(jax.random.key(0), images, train=False)[0]

    jax.eval_shape(init, jax.ShapeDtypeStruct((1, height, width, channels), dtype))
    _remember(key, recorder.taps)
    return tuple(recorder.taps)


def _too_small(model: nn.Module, height: int, width: int, reason: str) -> ValueError:
    return ValueError(f"{type(model).__name__}: image size {height}x{width} is too small for the model ({reason})")


def _probe_or_too_small(model: nn.Module, height: int, width: int, channels: int, dtype: Any) -> tuple[_Tap, ...]:
    """``_probe``, raising the one-line 'too small' ValueError where the model fails at this size (call it
    after a successful probe at a larger size, which shows the size is the cause)."""
    try:
        return _probe(model, height, width, channels, dtype)
    except (ValueError, TypeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise _too_small(model, height, width, reason) from error


def _select(
    model: nn.Module, taps: Sequence[_Tap], grown: Sequence[_Tap], height: int, width: int
) -> list[tuple[int, FeatureInfo]]:
    """(index into ``taps``, its ``FeatureInfo``) of the kept maps, in order of increasing reduction;
    ``grown`` are the same model's candidates on images ``_PROBE_STEP`` pixels larger on each axis."""
    label = type(model).__name__
    if [(t.module, t.hook_type, t.call) for t in taps] != [(t.module, t.hook_type, t.call) for t in grown]:
        raise ValueError(f"{label}: the sequence of top-level module calls depends on the image size; "
                         "feature maps cannot be matched across sizes")
    kept: dict[int, tuple[int, FeatureInfo]] = {}
    for index, (tap, big) in enumerate(zip(taps, grown)):
        if 0 in tap.shape[:2]:
            raise _too_small(model, height, width, f"{tap.module} {tap.hook_type} map is {tap.shape[0]}x{tap.shape[1]}")
        growth = (big.shape[0] - tap.shape[0], big.shape[1] - tap.shape[1])
        if growth == (0, 0):
            continue  # e.g. an already pooled [N, 1, 1, C] map: not a spatial feature map
        if growth[0] != growth[1] or growth[0] <= 0 or _PROBE_STEP % growth[0]:
            raise ValueError(f"{label}: {tap.module} ({tap.hook_type}) has no integer reduction common to both "
                             f"spatial axes (grows by {growth} for {_PROBE_STEP} more input pixels)")
        reduction = _PROBE_STEP // growth[0]
        kept[reduction] = (index, FeatureInfo(tap.module, tap.shape[2], reduction, tap.hook_type))
    return [kept[reduction] for reduction in sorted(kept)]


def _check_size(model: nn.Module, height: int, width: int, channels: int) -> None:
    if min(height, width, channels) < 1:
        raise ValueError(f"{type(model).__name__}: image size {height}x{width}x{channels} must be positive")


def _size_pair(image_size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(image_size, int):
        return image_size, image_size
    size = tuple(image_size)
    if len(size) != 2 or not all(isinstance(s, int) for s in size):
        raise ValueError(f"image_size must be an int or an (height, width) pair of ints, got {image_size!r}")
    return size  # type: ignore[return-value]


def feature_info(model: nn.Module, image_size: int | Sequence[int], *, in_channels: int = 3) -> list[FeatureInfo]:
    """The feature maps ``forward_features`` returns for ``image_size`` inputs, as timm's ``feature_info``.

    Args:
      model: any ``ImageClassifier`` (e.g. ``create_model('mobilenet_v2_100')``); called as
        ``model(images, train=False)``.
      image_size: input height = width, or a ``(height, width)`` pair.
      in_channels: input channels.

    Returns:
      One ``FeatureInfo`` per distinct reduction, in order of increasing reduction: of the 4-D arrays
      passed between the model's top-level child modules (before its ``classifier``), the last one at each
      reduction (module docstring). For ``mobilenet_v2_100`` at 224: stage1 (2, 16 ch), stage2 (4, 24),
      stage3 (8, 32), stage5 (16, 96), head (32, 1280).

    Raises:
      ValueError: the image size is too small for the model (a layer would produce no output), or not
        positive; or the model's maps cannot be given an integer reduction.

    Nothing is computed: the model is traced with ``jax.eval_shape`` at ``image_size`` and at 256 px more,
    each trace cached per (model, size, channels, dtype) for models whose fields are hashable (every
    registered model); ``forward_features`` at a size leaves its trace there. Safe to call under ``jax.jit``.
    """
    height, width = _size_pair(image_size)
    _check_size(model, height, width, in_channels)
    grown = _probe(model, height + _PROBE_STEP, width + _PROBE_STEP, in_channels, jnp.float32)  # errors propagate
    taps = _probe_or_too_small(model, height, width, in_channels, jnp.float32)
    return [info for _, info in _select(model, taps, grown, height, width)]


def forward_features(
    model: nn.Module, variables: Mapping[str, Any], images: jax.Array, *, train: bool = False,
    rngs: Mapping[str, jax.Array] | None = None,
) -> Features:
    """Per-stage feature maps, pre-logits and logits of ``images`` from one ``model.apply``.

    timm's ``forward_features`` (the last map), its ``features_only`` extractors (every map of
    ``feature_info``) and ``forward_head(pre_logits=True)`` (the classifier's input) in one call.

    Args:
      model: the model ``variables`` belong to; its top-level ``classifier`` module marks the head.
      variables: ``{'params': ..., 'batch_stats': ...}`` as ``model.init`` returns them.
      images: NHWC ``[N, H, W, C]`` images (as ``model.apply`` takes them).
      train: training mode: batch statistics (``updates`` holds the new ``batch_stats``) and dropout.
      rngs: the ``apply`` rngs, e.g. ``{'dropout': key}`` when ``train`` and the model has dropout.

    Returns:
      ``Features``: ``features`` in ``feature_info(model, (H, W), in_channels=C)`` order, NHWC arrays of
      the model's compute dtype; ``pre_logits`` ``[N, D]`` (D = the classifier's input width); float32
      ``logits`` ``[N, num_classes]``; ``updates``. Works under ``jax.jit`` with ``variables`` and
      ``images`` as arguments. Besides the one ``model.apply``, the model is traced once (shapes only, at
      256 px more, cached) to tell each map's reduction.

    Raises:
      ValueError: ``images`` is not 4-D; the image size is too small for the model (as ``feature_info``);
        the model has no top-level module named ``classifier``. Errors of ``model.apply`` itself (e.g.
        variables of another model) propagate unchanged.

    For every registered model but SqueezeNet the classifier is a Dense on ``pre_logits``:
    ``pre_logits @ kernel (+ bias)`` of ``variables['params']['classifier']`` is ``logits``. SqueezeNet's
    classifier is conv10, then a ReLU, then the global pool: its ``pre_logits`` (the spatial mean of conv10's
    input) is the pooled final map, but its logits are not a function of it.
    """
    if getattr(images, "ndim", None) != 4:
        raise ValueError(f"images must be NHWC [N, H, W, C], got shape {getattr(images, 'shape', None)}")
    _, height, width, channels = images.shape
    _check_size(model, height, width, channels)
    grown = _probe(model, height + _PROBE_STEP, width + _PROBE_STEP, channels, images.dtype)  # errors propagate
    recorder = _Recorder()
    mutable = ["batch_stats"] if train and "batch_stats" in variables else False
    try:
        with nn.intercept_methods(recorder):
            result = model.apply(variables, images, train=train, rngs=rngs, mutable=mutable)
    except (ValueError, TypeError):
        _probe_or_too_small(model, height, width, channels, images.dtype)  # raises if the size is the cause
        raise
    logits, updates = result if mutable else (result, {})
    if not train:  # the same candidates a probe at this size finds: feature_info(model, (H, W)) is now free
        _remember(_probe_key(model, height, width, channels, images.dtype), recorder.taps)
    plan = _select(model, recorder.taps, grown, height, width)
    classifier_inputs = recorder.classifier_inputs
    if not classifier_inputs:
        raise ValueError(f"{type(model).__name__} has no top-level module named {CLASSIFIER!r}; "
                         "pre-logits are the input of that module")
    pre_logits = classifier_inputs[-1]
    if pre_logits.ndim == 4:  # a conv classifier (SqueezeNet's conv10) on the final map
        pre_logits = global_avg_pool(pre_logits)
    return Features([recorder.arrays[index] for index, _ in plan], pre_logits, logits, dict(updates))
