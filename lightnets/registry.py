"""Named model variants in timm's style: ``create_model('mobilenet_v2_100', num_classes=10)``.

Each family module registers ``functools.partial``s of its Linen class; overrides are checked against the
class's fields before construction so a typo fails with the list of valid keys. A variant may also answer to
the names timm and torchvision give the same architecture (``aliases``: ``mobilenetv2_100``,
``mobilenet_v2``); ``list_models`` lists each variant once, under its own name.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import functools
import sys
from typing import Any

import flax.linen as nn

_MODELS: dict[str, functools.partial] = {}
_ALIASES: dict[str, str] = {}
_LIBRARY: set[str] = set()  # names registered by the modules of lightnets.models
# Option names of earlier versions -> the name that replaced them (one vocabulary: docs/ARCHITECTURE.md).
RENAMED_OPTIONS = {
    "width_mult": "width_multiplier", "scale": "width_multiplier", "width": "width_multiplier",
    "stage_repeats": "depths", "middle_flow_repeats": "depths",
}
_REFERENCES: dict[str, "ReferenceCounts"] = {}
_INTERNAL_FIELDS = ("parent", "name")


@dataclasses.dataclass(frozen=True)
class ReferenceCounts:
    """Published counts a variant is meant to reproduce (for comparison only; ours are computed).

    ``params``/``madds`` in units (not millions); ``source`` names the table or file they come from,
    ``input_size`` the resolution they were counted at.
    """

    params: float | None
    madds: float | None
    source: str
    input_size: int = 224


def register_model(
    name: str, model_cls: type[nn.Module], *, reference: ReferenceCounts | None = None,
    aliases: tuple[str, ...] = (), **defaults: Any,
) -> functools.partial:
    """Registers ``name`` as ``model_cls(**defaults)``, also reachable as each of ``aliases`` (the timm or
    torchvision name of the same architecture); returns the partial. Raises ValueError for a name or alias
    already taken or an unknown field in ``defaults``."""
    for key in (name, *aliases):
        if key in _MODELS or key in _ALIASES:
            raise ValueError(f"model {key!r} is registered twice")
    _check_keys(name, model_cls, defaults)
    _MODELS[name] = functools.partial(model_cls, **defaults)
    _ALIASES.update(dict.fromkeys(aliases, name))
    if sys._getframe(1).f_globals.get("__name__", "").startswith("lightnets.models."):
        _LIBRARY.add(name)
    if reference is not None:
        _REFERENCES[name] = reference
    return _MODELS[name]


def canonical_name(name: str) -> str:
    """The registered name ``name`` stands for (itself unless it is a timm/torchvision alias)."""
    _import_families()
    return _ALIASES.get(name, name)


def aliases(name: str) -> tuple[str, ...]:
    """The timm/torchvision names registered for variant ``name``, sorted."""
    _import_families()
    return tuple(sorted(alias for alias, target in _ALIASES.items() if target == name))


def reference_counts(name: str) -> ReferenceCounts | None:
    """The published counts registered for ``name`` (or the variant it is an alias of), if any."""
    return _REFERENCES.get(canonical_name(name))


def model_fields(model_cls: type[nn.Module]) -> tuple[str, ...]:
    """The configurable fields of a model class."""
    return tuple(f.name for f in dataclasses.fields(model_cls) if f.name not in _INTERNAL_FIELDS)


# Fields a training config sets itself (from the dataset and ``config.dtype``), not model options.
_CONFIG_SET_FIELDS = ("num_classes", "dtype", "param_dtype")
_OPTION_TYPES = {"bool": bool, "int": int, "float": float, "str": str}


def model_options(name: str) -> dict[str, type]:
    """The options of model ``name`` a config can set, with their value types (``bool``, ``int``, ``float``,
    ``str`` or ``tuple``): every field of its class except ``num_classes``, ``dtype`` and ``param_dtype``.

    Optional fields (``float | None``) report their non-None type. Raises ValueError for an unknown name.
    """
    options = {}
    for field in dataclasses.fields(model_class(name)):
        if field.name in _INTERNAL_FIELDS or field.name in _CONFIG_SET_FIELDS:
            continue
        annotation = str(field.type).replace(" | None", "").replace("Optional[", "").rstrip("]")
        if annotation in _OPTION_TYPES:
            options[field.name] = _OPTION_TYPES[annotation]
        elif annotation.startswith(("tuple", "Sequence")):
            options[field.name] = tuple
    return options


def option_hint(key: str, valid: tuple[str, ...] | list[str]) -> str | None:
    """The valid option a mistyped or renamed ``key`` most likely means, if any."""
    if RENAMED_OPTIONS.get(key) in valid:
        return RENAMED_OPTIONS[key]
    close = difflib.get_close_matches(key, valid, n=1)
    return close[0] if close else None


def check_option_names(name: str, options: dict[str, Any]) -> None:
    """Raises ValueError naming each key of ``options`` that is not a field of model ``name`` (with the field
    it most likely means) and listing the valid ones. The values are the model's ``check_options``'s job."""
    _check_keys(name, model_class(name), options)


def _check_keys(name: str, model_cls: type[nn.Module], overrides: dict[str, Any]) -> None:
    valid = model_fields(model_cls)
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        hints = [f"{key!r} (did you mean {hint!r}?)" if (hint := option_hint(key, valid)) else repr(key)
                 for key in unknown]
        raise ValueError(f"{name}: unknown option(s) {', '.join(hints)}; valid: {', '.join(valid)}")


def create_model(name: str, **overrides: Any) -> nn.Module:
    """Builds the registered model ``name`` (or alias) with ``overrides`` applied to its fields.

    Raises ValueError naming close registered names for an unknown ``name``, and the valid fields for an
    unknown override.
    """
    name = canonical_name(name)
    if name not in _MODELS:
        close = difflib.get_close_matches(name, [*_MODELS, *_ALIASES], n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"unknown model {name!r}{hint}; run `python -m lightnets.summary --list` for all "
                         f"{len(_MODELS)} registered names")
    factory = _MODELS[name]
    _check_keys(name, factory.func, overrides)
    return factory(**overrides)


def model_class(name: str) -> type[nn.Module]:
    """The Linen class of registered model ``name`` (or alias); ValueError for an unknown name."""
    create_model(name)  # validates the name
    return _MODELS[canonical_name(name)].func


def list_models(pattern: str = "*", *, library_only: bool = False) -> list[str]:
    """Registered names matching a shell-style ``pattern``, sorted.

    ``library_only`` keeps the variants that ``lightnets.models`` registers, leaving out models registered
    by user code or tests (even of a library class).
    """
    _import_families()
    return sorted(n for n in _MODELS if fnmatch.fnmatch(n, pattern) and (not library_only or n in _LIBRARY))


def _import_families() -> None:
    import lightnets.models  # noqa: F401  (each family module registers its variants on import)


