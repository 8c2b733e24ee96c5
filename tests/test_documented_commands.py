"""Every command documented in README.md, docs/*.md and the config docstrings parses and validates as
written, so no documented command can rot.

``main.py`` commands run their flag parsing and ``--mode=check`` validation (config, data files, workdir)
in-process; paths that stand for the user's storage (``--workdir``, ``--config.data.manual_dir``,
``--config.data.data_dir``, the tfds default directory) become temporary directories holding the manual
files a dataset needs as empty stand-ins, and weights files (``--weights``, ``--config.init_from``) empty files
of the same suffix (only their suffix and existence are checked before a run reads them). ``predict.py`` commands run their flag parsing. ``python -m MODULE ARGS`` commands run the module until its
argparse has parsed ARGS; ``tensorboard`` commands need the pinned ``tensorboard`` in the venv.
"""

from __future__ import annotations

import argparse
import re
import runpy
import shlex
import sys
from pathlib import Path

import jax
import pytest
from absl import flags
from tensorflow_datasets.core import constants as tfds_constants

import input_pipeline
import predict
from input_pipeline.datasets import MANUAL_FILES
from lightnets import create_model, pretrained
from train_lib import check_config, command_line
from train_lib.config_validation import model_kwargs
from train_lib.state import initial_variables

REPO = Path(__file__).parents[1]
SOURCES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), *sorted((REPO / "configs").glob("*.py"))]
COMMAND = re.compile(r"(?:^|&&|;|\s)((?:\S*python3?|\S*/python) (?:main\.py|predict\.py|-m [\w.]+)[^\n`\"]*"
                     r"|\S*tensorboard --logdir[^\n`\"]*)")
NOT_OURS = ("-m venv", "-m pip", "-m pytest")  # install/test commands: exercised by .ci/run itself
STORAGE_FLAGS = ("--workdir", "--config.data.manual_dir", "--config.data.data_dir")
WEIGHTS_FLAGS = ("--weights", "--config.init_from")  # the user's weights files: an empty stand-in, same suffix
OPTIONAL_MODULES = ("torch", "torchvision", "timm")  # requirements-bench.txt, not in the test venv


def documented_commands() -> list[tuple[str, str]]:
    """(where, command) for every documented command, continuation lines joined and comments dropped."""
    found = []
    for path in SOURCES:
        text = path.read_text().replace("\\\n", " ")
        for number, line in enumerate(text.splitlines(), 1):
            for part in re.split(r"&&|;", line):  # `install && run`: each command of a chain on its own
                for match in COMMAND.finditer(part):
                    command = match.group(1).split("  #")[0].strip()
                    if not any(skip in command for skip in NOT_OURS):
                        found.append((f"{path.relative_to(REPO)}:{number}", command))
    return found


COMMANDS = documented_commands()


def test_commands_are_found():
    where = {w.split(":")[0] for w, _ in COMMANDS}
    assert {"README.md", "docs/training.md", "configs/imagenet_clcnet.py"} <= where
    assert any(w.startswith("README.md") and c.startswith(".venv/bin/python main.py --config=configs/digits.py")
               for w, c in COMMANDS), "README's main-job command (after its install chain) is not checked"
    assert sum("main.py" in c for _, c in COMMANDS) >= 15


@pytest.fixture
def storage(tmp_path, monkeypatch):
    """A tfds directory whose manual dir holds every manual dataset's files (empty stand-ins)."""
    data_dir = tmp_path / "tensorflow_datasets"
    manual = data_dir / "downloads" / "manual"
    manual.mkdir(parents=True)
    for files in MANUAL_FILES.values():
        for name in files:
            (manual / name).write_bytes(b"")
    monkeypatch.setattr(tfds_constants, "DATA_DIR", str(data_dir))  # tfds reads it when data_dir is None
    monkeypatch.setenv("LIGHTNETS_HUGEPAGE_MALLOC", "0")  # benchmarks would re-exec the test process
    monkeypatch.chdir(REPO)
    return {"--workdir": str(tmp_path / "workdir"), "--config.data.manual_dir": str(manual),
            "--config.data.data_dir": str(data_dir)}


def localized(argv: list[str], storage: dict[str, str]) -> list[str]:
    return [_localized(arg, storage) for arg in argv]


def _localized(arg: str, storage: dict[str, str]) -> str:
    name, _, value = arg.partition("=")
    if name in STORAGE_FLAGS:
        return f"{name}={storage[name]}"
    if name in WEIGHTS_FLAGS:
        stand_in = Path(storage["--workdir"]).parent / f"weights{Path(value).suffix}"
        stand_in.touch()
        return f"{name}={stand_in}"
    return arg


def write_weights_for(config) -> None:
    """A weights file of ``config``'s model (random init) at ``config.init_from``, standing in for the one the
    documented command's earlier steps write."""
    model = create_model(config.model, **model_kwargs(config))
    variables = initial_variables(model, rng=jax.random.key(0), image_size=config.data.image_size)
    pretrained.save_weights(config.init_from, model=config.model, model_options=model_kwargs(config),
                            variables={"params": variables["params"], "batch_stats": variables.get("batch_stats", {})},
                            origin="stand-in")


class _Parsed(Exception):
    """Raised from argparse once a module's arguments are parsed: the command's work is not run."""


@pytest.mark.parametrize("where, command", COMMANDS, ids=[w for w, _ in COMMANDS])
def test_documented_command_parses_and_validates(where, command, storage, monkeypatch):
    words = shlex.split(command)
    if words[0].endswith("tensorboard"):
        assert words[0] == ".venv/bin/tensorboard", "use the venv's tensorboard: a bare one is not on PATH"
        assert (Path(sys.executable).parent / "tensorboard").exists(), "tensorboard is not installed in the venv"
        assert words[1].startswith("--logdir=")
        return
    if words[1] == "main.py":
        argv = localized(["main.py", *words[2:]], storage)
        flag_values = flags.FlagValues()
        command_line.define_flags(flag_values, argv)
        config = command_line.parse(argv, flag_values)
        if (config.init_from or "").endswith(".msgpack") and not Path(config.init_from).stat().st_size:
            write_weights_for(config)  # --mode=check reads init_from's tensors
        check_config(config, flag_values.workdir or storage["--workdir"], data_source=input_pipeline)
        return
    if words[1] == "predict.py":  # flags only: the workdir stands for a trained one
        flag_values = flags.FlagValues()
        predict.define_flags(flag_values)
        predict.parse(localized(["predict.py", *words[2:]], storage), flag_values)
        return
    module, args = words[2], words[3:]

    def parse_only(parser, args=None, namespace=None):
        original_parse_args(parser, args, namespace)
        raise _Parsed

    original_parse_args = argparse.ArgumentParser.parse_args
    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_only)
    monkeypatch.setattr(sys, "argv", [module, *args])
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except _Parsed:
        return
    except ModuleNotFoundError as error:
        if error.name in OPTIONAL_MODULES:
            pytest.skip(f"{module} needs {error.name} (requirements-bench.txt)")
        raise
    pytest.fail(f"{where}: `{command}` finished without parsing arguments with argparse")
