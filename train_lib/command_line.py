"""``main.py``'s flags: parsing where every mistake is one line, and a quiet console.

A bad flag — unknown or misspelt config field, a value of the wrong type, a missing config file, a bad
config argument — raises ``UsageError`` with one line naming it and the valid choices; ``main.py``
prints it and exits with status 2 before any data or compile work.
"""

from __future__ import annotations

import logging as python_logging
import os
import re
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

import ml_collections
from absl import flags, logging
from ml_collections import config_flags
from ml_collections.config_flags.config_flags import ConfigFileFlagParser

from lightnets.registry import option_hint

MODES = ("train", "eval", "check", "save_weights")
HELP_FLAGS = frozenset({"-h", "-?", "--help", "--helpshort", "--helpfull", "--helpxml"})
_OVERRIDE = re.compile(r"^--?(?:no)?config\.([^=]+)")
_REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class UsageError(ValueError):
    """A command-line mistake; the message is one line."""


def exit_with_error(program: str, error: Exception) -> NoReturn:
    """Ends ``program`` with one stderr line: status 2 for bad input (UsageError, ConfigError — any
    ValueError), 1 for a failure of the run itself (divergence, unreadable or unwritable files)."""
    if isinstance(error, ValueError):
        print(f"{program}: error: {error}", file=sys.stderr)
        sys.exit(2)
    print(f"{program}: {type(error).__name__}: {error}", file=sys.stderr)
    sys.exit(1)


def define_flags(flag_values: flags.FlagValues, argv: Sequence[str] | None = None) -> None:
    """Defines main.py's flags on ``flag_values`` (``argv``: the arguments config overrides are read from;
    default ``sys.argv``)."""
    flags.DEFINE_string("workdir", None, "Directory for checkpoints, TensorBoard logs, config.json and results.json.",
                        flag_values=flag_values)
    flags.DEFINE_enum("mode", "train", MODES, "train: train (resuming) and evaluate; eval: evaluate a checkpoint of "
                      "--workdir exactly (or --weights); check: validate the config and data files, then exit; save_weights: "
                      "write a checkpoint's weights to --weights=FILE.msgpack (for config.init_from elsewhere).",
                      flag_values=flag_values)
    flags.DEFINE_string("checkpoint", "latest", "With --mode=eval or save_weights: 'latest', 'best' or a saved step "
                        "number.",
                        flag_values=flag_values)
    flags.DEFINE_string("weights", None, "With --mode=eval: evaluate this weights file instead of a checkpoint "
                        "(a lightnets .msgpack, or a published PyTorch state_dict of config.model: .safetensors, or "
                        ".pth with PyTorch; docs/models.md, 'Pretrained weights'); --workdir is then not needed.",
                        flag_values=flag_values)
    flags.DEFINE_bool("multi_process", None,
                      "Call jax.distributed.initialize() (default: when the environment describes a cluster: "
                      "TPU pod slices, SLURM, Open MPI, or JAX_COORDINATOR_ADDRESS set).", flag_values=flag_values)
    flags.DEFINE_bool("verbose", False, "Also show the libraries' INFO logs (orbax, tfds, jax).",
                      flag_values=flag_values)
    config_flags.DEFINE_config_file("config", None, "Training config file (configs/*.py[:arg]).", lock_config=True,
                                    flag_values=flag_values, sys_argv=None if argv is None else list(argv))


def parse(argv: Sequence[str], flag_values: flags.FlagValues) -> ml_collections.ConfigDict:
    """Parses ``argv`` (program name first) into ``flag_values``; returns the config with overrides applied.

    Raises UsageError (one line) for a missing or failing config file, an unknown config field or option,
    a value of the wrong type, a missing required flag or a stray argument.
    """
    config_arg = _flag_value(argv, "config")
    if config_arg is None and HELP_FLAGS.intersection(argv):
        flag_values(list(argv))  # absl prints the help and exits
    if config_arg is None:
        raise UsageError("--config is required: --config=configs/FILE.py[:ARG] (see configs/)")
    _check_overrides(argv, load_config(config_arg))
    try:
        rest = flag_values(list(argv))
    except flags.Error as error:
        raise UsageError(_one_line(error)) from None
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise UsageError(f"--config={config_arg}: {_one_line(error)}") from None
    if len(rest) > 1:
        raise UsageError(f"unexpected arguments: {' '.join(rest[1:])}")
    if flag_values.weights is not None and flag_values.mode not in ("eval", "save_weights"):
        raise UsageError(f"--weights={flag_values.weights} is used with --mode=eval or save_weights only (to start "
                         f"training from weights: --config.init_from={flag_values.weights})")
    if flag_values.mode == "save_weights" and flag_values.weights is None:
        raise UsageError("--mode=save_weights needs --weights=FILE.msgpack, the file to write")
    if not flag_values.workdir and not (flag_values.mode == "eval" and flag_values.weights is not None):
        raise UsageError("--workdir is required: a directory path (new or existing) or a gs:// URL")
    return flag_values.config


def load_config(config_arg: str) -> ml_collections.ConfigDict:
    """Loads ``PATH[:ARG]`` as config_flags does; raises UsageError for a missing file or a failing
    ``get_config``."""
    path = config_arg.split(":", 1)[0]
    if not os.path.isfile(path):
        nearby = sorted(f for f in os.listdir(os.path.dirname(path) or ".") if f.endswith(".py")) \
            if os.path.isdir(os.path.dirname(path) or ".") else []
        hint = f"; files there: {', '.join(nearby)}" if nearby else ""
        raise UsageError(f"--config={config_arg}: no config file {path}{hint}")
    try:
        return ConfigFileFlagParser("config").parse(config_arg)
    except (ValueError, TypeError) as error:
        raise UsageError(f"--config={config_arg}: {_one_line(error)}") from None


def _check_overrides(argv: Sequence[str], config: ml_collections.ConfigDict) -> None:
    for arg in argv[1:]:
        match = _OVERRIDE.match(arg)
        if not match:
            continue
        node, walked = config, "config"
        for key in match.group(1).split("."):
            if not isinstance(node, ml_collections.ConfigDict):
                raise UsageError(f"{arg}: {walked} is a value, not a group of fields")
            if key not in node:
                valid = sorted(node.keys())
                close = option_hint(key, valid)
                hint = f" (did you mean {walked}.{close}?)" if close else ""
                raise UsageError(f"{arg}: {walked} has no field {key!r}{hint}; valid: {', '.join(valid)}")
            node, walked = node[key], f"{walked}.{key}"


def _flag_value(argv: Sequence[str], name: str) -> str | None:
    value = None
    for index, arg in enumerate(argv[1:], 1):
        if arg.startswith((f"--{name}=", f"-{name}=")):
            value = arg.split("=", 1)[1]
        elif arg in (f"--{name}", f"-{name}") and index + 1 < len(argv):
            value = argv[index + 1]
    return value


def _one_line(error: BaseException) -> str:
    """One line of an error message: the last line of a wrapped traceback, else all lines joined."""
    lines = [line.strip() for line in str(error).replace("\\n", "\n").splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    return lines[-1] if any(line.startswith("Traceback") for line in lines) else " ".join(lines)


# Library warnings that say nothing about the run: TF's deprecation notices (tfds calls deprecated tf.data
# functions), orbax noting that a save without eval metrics is not ranked for "best", and tfds noting that a
# dataset it is about to prepare has no info file yet.
_ROUTINE_WARNINGS = ("is deprecated and will be removed", "Requested `tracked_metric`; did not provide metrics",
                     "has no dataset_info.json")


class _LibraryInfoFilter(python_logging.Filter):
    """Keeps this repository's records, and the libraries' warnings and errors except routine ones."""

    def filter(self, record: python_logging.LogRecord) -> bool:
        if record.pathname.startswith(_REPOSITORY) and "site-packages" not in record.pathname:
            return True
        return record.levelno >= python_logging.WARNING and not any(
            text in record.getMessage() for text in _ROUTINE_WARNINGS)


class _ConsoleFormatter(python_logging.Formatter):
    def format(self, record: python_logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        level = "" if record.levelno < python_logging.WARNING else f"{record.levelname}: "
        return f"{stamp} {level}{record.getMessage()}"


def configure_console(*, verbose: bool) -> None:
    """Short ``HH:MM:SS message`` log lines; the libraries' INFO chatter only when ``verbose``."""
    handler = logging.get_absl_handler()
    handler.setFormatter(_ConsoleFormatter())
    if not verbose:
        handler.addFilter(_LibraryInfoFilter())
    logging.set_verbosity(logging.INFO)
