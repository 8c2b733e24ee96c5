"""main.py's flags: every config field is overridable with its type; every mistake is one line, exit 2."""

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from absl import flags

from train_lib import command_line

REPO = Path(__file__).parents[2]


def parse(*args: str):
    """Parses ``main.py ARGS`` into fresh flags (run from the repository root, as documented)."""
    argv = ["main.py", *args]
    flag_values = flags.FlagValues()
    command_line.define_flags(flag_values, argv)
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        return command_line.parse(argv, flag_values), flag_values
    finally:
        os.chdir(cwd)


def test_optional_fields_and_model_options_take_typed_overrides():
    config, flag_values = parse(
        "--config=configs/imagenet_clcnet.py:A", "--workdir=/tmp/w", "--config.data.manual_dir=/data/imagenet",
        "--config.data.data_dir=gs://bucket/tfds", "--config.model_kwargs.small_input=True",
        "--config.model_kwargs.gc_groups=4", "--config.batch_size=512", "--mode=eval", "--checkpoint=best")
    assert config.data.manual_dir == "/data/imagenet" and config.data.data_dir == "gs://bucket/tfds"
    assert config.model_kwargs.small_input is True and config.model_kwargs.gc_groups == 4
    assert config.model_kwargs.interlace is None  # unset: the registered variant's default applies
    assert config.batch_size == 512 and flag_values.mode == "eval" and flag_values.checkpoint == "best"


def test_config_argument_sets_model_options():
    config, _ = parse("--config=configs/digits.py:mobilenet_v1_025,small_input=True", "--workdir=/tmp/w")
    assert config.model == "mobilenet_v1_025" and config.model_kwargs.small_input is True


@pytest.mark.parametrize("args, message", [
    (["--config.lerning_rate=0.1"],
     "--config.lerning_rate=0.1: config has no field 'lerning_rate' (did you mean config.learning_rate?); valid: "),
    (["--config.data.nmae=x"], "config.data has no field 'nmae' (did you mean config.data.name?); valid: "),
    (["--config.model_kwargs.smal_input=True"],
     "config.model_kwargs has no field 'smal_input' (did you mean config.model_kwargs.small_input?)"),
    (["--config.batch_size=abc"], "--config.batch_size=abc: invalid literal for int() with base 10: 'abc'"),
    (["--config.model_kwargs.small_input=maybe"], "--config.model_kwargs.small_input"),
    (["--config.seed.x=1"], "config.seed is a value, not a group of fields"),
    (["--mode=predict"], "--mode"),
    (["stray"], "unexpected arguments: stray"),
    (["--workdir="], "--workdir is required: a directory path"),
])
def test_bad_flags_are_one_line(args, message):
    with pytest.raises(command_line.UsageError) as error:
        parse("--config=configs/digits.py", "--workdir=/tmp/w", *args)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("config_arg, message", [
    ("configs/nope.py", "--config=configs/nope.py: no config file configs/nope.py; files there: "),
    ("configs/imagenet_clcnet.py:C", "--config=configs/imagenet_clcnet.py:C: ValueError: clcNet variant 'C'; "
                                     "valid: A, B, Ap"),
    ("configs/digits.py:no_such_net", "no_such_net"),
])
def test_bad_config_file_or_argument_is_one_line(config_arg, message):
    with pytest.raises(command_line.UsageError) as error:
        parse(f"--config={config_arg}", "--workdir=/tmp/w")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_main_exits_2_with_one_line_and_no_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "main.py", "--config=configs/digits.py", f"--workdir={tmp_path}", "--config.lerning_rate=1"],
        cwd=REPO, capture_output=True, text=True, env=dict(os.environ, LIGHTNETS_HUGEPAGE_MALLOC="0"), timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "main.py: error: --config.lerning_rate=1: config has no field 'lerning_rate' (did you mean "
        "config.learning_rate?); valid: " + result.stderr.split("valid: ", 1)[1].strip()]
    assert "Traceback" not in result.stderr + result.stdout


def test_main_help_lists_its_flags_without_a_config():
    result = subprocess.run([sys.executable, "main.py", "--help"], cwd=REPO, capture_output=True, text=True,
                            env=dict(os.environ, LIGHTNETS_HUGEPAGE_MALLOC="0"), timeout=120)
    assert "--config is required" not in result.stderr
    assert all(f"  --{flag}" in result.stdout for flag in ("config", "workdir", "mode", "weights", "checkpoint"))


def record(pathname: str, level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("absl", level, pathname, 1, message, None, None)


def test_console_keeps_our_lines_and_drops_library_chatter():
    keep = command_line._LibraryInfoFilter().filter
    site = "/venv/lib/python3.11/site-packages/orbax/checkpoint/checkpoint_manager.py"
    assert keep(record(str(REPO / "train_lib" / "train.py"), logging.INFO, "step 22/880"))
    assert not keep(record(site, logging.INFO, "[process=0] Finished saving checkpoint"))
    assert keep(record(site, logging.WARNING, "Checkpoint directory is read-only"))
    assert not keep(record(site, logging.WARNING, "Requested `tracked_metric`; did not provide metrics."))
    assert not keep(record("/venv/lib/python3.11/site-packages/tensorflow/python/util/deprecation.py",
                           logging.WARNING, "CounterV2 (from tensorflow...) is deprecated and will be removed"))


def test_console_lines_are_time_and_message():
    line = command_line._ConsoleFormatter().format(record("x.py", logging.WARNING, "disk almost full"))
    assert re.fullmatch(r"\d\d:\d\d:\d\d WARNING: disk almost full", line)
