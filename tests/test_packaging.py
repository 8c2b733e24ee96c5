"""The installable library is the ``lightnets`` package alone, at one version, importable from anywhere.

``pip install -r requirements.txt -e .`` (README, ``.ci/run``) installs it editable; the tests that need the
install skip, with the reason, in an interpreter where it is not installed. Nothing here builds a wheel:
what a wheel or sdist would hold is read from pyproject.toml's discovery config and MANIFEST.in.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import lightnets

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
REPO_ROOT_CODE = ("tests", "benchmarks", "tools", "configs", "train_lib", "input_pipeline", "runtime")


def _installed() -> importlib.metadata.Distribution:
    """The interpreter's installed lightnets, never the ``lightnets.egg-info`` that building leaves in the
    repo root (on sys.path when run from there)."""
    site = [entry for entry in sys.path if entry and Path(entry).resolve() != REPO]
    for distribution in importlib.metadata.distributions(name="lightnets", path=site):
        return distribution
    pytest.skip("lightnets is not installed in this interpreter: run `.venv/bin/pip install -r "
                "requirements.txt -e .` (README.md)")


def _packages(directory: Path, prefix: str = ""):
    """Every package under ``directory`` the way setuptools' find_packages walks it (into packages only)."""
    for child in sorted(directory.iterdir()):
        if child.is_dir() and "." not in child.name and (child / "__init__.py").is_file():
            yield prefix + child.name
            yield from _packages(child, f"{prefix}{child.name}.")


def test_import_from_any_directory_finds_this_checkout(tmp_path):
    _installed()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    script = ("import importlib.util, lightnets; print(lightnets.__version__); print(lightnets.__file__); "
              "print(importlib.util.find_spec('train_lib'))")
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    version, file, train_lib = result.stdout.split()
    assert version == lightnets.__version__
    assert Path(file).resolve().is_relative_to(REPO / "lightnets"), f"{file} is not this checkout (editable)"
    assert train_lib == "None", "repo-root code must not become importable from anywhere"


def test_metadata_version_is_the_package_version():
    distribution = _installed()
    assert distribution.version == lightnets.__version__
    assert PYPROJECT["project"]["dynamic"] == ["version"]  # one source: lightnets/__init__.py
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "lightnets.__version__"}


def test_only_the_lightnets_package_is_packaged():
    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    assert find["include"] == ["lightnets*"]
    packages = [name for name in _packages(REPO / find.get("where", ["."])[0])
                if any(fnmatch.fnmatchcase(name, pattern) for pattern in find["include"])]
    assert {"lightnets", "lightnets.ops", "lightnets.models", "lightnets.analysis"} <= set(packages)
    assert all(name == "lightnets" or name.startswith("lightnets.") for name in packages), packages
    manifest = (REPO / "MANIFEST.in").read_text().splitlines()
    assert "prune tests" in manifest  # setuptools adds tests/test*.py to an sdist by default


def test_installed_distribution_holds_only_lightnets():
    distribution = _installed()
    assert distribution.read_text("top_level.txt").split() == ["lightnets"]
    parts = {Path(str(file)).parts[0] for file in distribution.files or ()}
    assert not parts & set(REPO_ROOT_CODE), parts


def test_console_script_is_the_summary_main():
    distribution = _installed()
    (script,) = [e for e in distribution.entry_points if e.group == "console_scripts"]
    assert (script.name, script.value) == ("lightnets-summary", "lightnets.summary:main")
    assert script.load()(["--list"]) == 0  # an int: the entry point's exit status
