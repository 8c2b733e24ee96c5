"""Who may import whom (docs/ARCHITECTURE.md, "Layers"): read from every import statement of the repository's
packages, function-level imports included, so a new dependency against the layering fails here first."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIRST_PARTY = ("lightnets", "train_lib", "input_pipeline", "configs", "runtime", "benchmarks", "tools", "tests")
ACCELERATOR_FRAMEWORKS = ("tensorflow", "tensorflow_datasets", "torch", "torchvision", "timm")

# importing module prefix -> first-party module prefixes it may import (the longest matching prefix rules).
ALLOWED = {
    "lightnets.ops": ("lightnets.ops",),
    "lightnets.layers": ("lightnets.ops",),
    "lightnets.blocks": ("lightnets.ops", "lightnets.layers"),
    "lightnets.registry": ("lightnets.models",),
    "lightnets.models": ("lightnets.ops", "lightnets.layers", "lightnets.blocks", "lightnets.registry",
                         "lightnets.models"),
    "lightnets.analysis": ("lightnets.ops", "lightnets.layers", "lightnets.blocks", "lightnets.registry",
                           "lightnets.models", "lightnets.analysis"),
    "lightnets": ("lightnets",),
    "runtime": ("runtime",),
    "input_pipeline": ("input_pipeline",),
    "train_lib": ("lightnets", "train_lib"),
    "configs": ("lightnets", "input_pipeline", "configs"),
}
# Third-party frameworks each layer may use: TensorFlow only in the input pipeline; PyTorch in benchmarks and,
# imported inside the function that reads pickled state_dicts, in the pretrained-weights reader.
FRAMEWORKS_ALLOWED = {
    "input_pipeline": ("tensorflow", "tensorflow_datasets"),
    "lightnets.pretrained.state_dict": ("torch",),
}


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def rule(module: str, table: dict) -> tuple[str, ...] | None:
    matches = [prefix for prefix in table if module == prefix or module.startswith(prefix + ".")]
    return table[max(matches, key=len)] if matches else None


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


SOURCES = sorted(
    path for package in ALLOWED if "." not in package for path in (ROOT / package).rglob("*.py")
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports_follow_the_layers(path):
    module = module_name(path)
    allowed = rule(module, ALLOWED)
    frameworks = rule(module, FRAMEWORKS_ALLOWED) or ()
    wrong = sorted(
        name for name in imported_modules(path)
        if (name.split(".")[0] in FIRST_PARTY and not _within(name, allowed))
        or (name.split(".")[0] in ACCELERATOR_FRAMEWORKS and not _within(name, frameworks))
    )
    assert not wrong, f"{module} may import only {', '.join(allowed + frameworks)}; it imports {', '.join(wrong)}"


def test_the_layer_table_covers_every_package():
    assert len(SOURCES) > 50 and {module_name(p).split(".")[0] for p in SOURCES} == {
        p for p in ALLOWED if "." not in p
    }
