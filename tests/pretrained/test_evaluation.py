"""The documented commands of published weights, end to end: ``main.py --mode=eval --weights`` with
``configs/pretrained.py`` on imagenet2012 (tfds mock data), and convert → fine-tune (``init_from``) on digits."""

import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from lightnets import create_model, pretrained

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# main.py's main under tfds mock data: random examples in place of the imagenet2012 files.
UNDER_MOCK_DATA = """import sys
sys.argv = ["main.py", *{args!r}]
import tensorflow_datasets as tfds
from absl import app
import main
with tfds.testing.mock_data(num_examples=6):
    app.run(main.main, flags_parser=main.parse_flags)
"""


def run(code_or_args, *, mock: bool = False, timeout: int = 600) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", UNDER_MOCK_DATA.format(args=code_or_args)] if mock else \
        [sys.executable, "main.py", *code_or_args]
    return subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=timeout)


def random_weights_file(name: str, path) -> str:
    source = pretrained.get_source(name)
    model = create_model(name, **source.model_options)
    variables = model.init(jax.random.key(0), np.zeros((1, 64, 64, 3), np.float32), train=False)
    pretrained.save_weights(path, model=name, model_options=source.model_options, variables=variables, origin="test")
    return str(path)


def test_eval_of_a_weights_file_prints_the_published_figure_beside_ours(tmp_path):
    weights = random_weights_file("squeezenet1_1", tmp_path / "squeezenet1_1.msgpack")
    manual = tmp_path / "manual"
    manual.mkdir()
    for name in ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar"):
        (manual / name).touch()
    result = run(["--config=configs/pretrained.py:squeezenet1_1", "--mode=eval", f"--weights={weights}",
                  f"--config.data.data_dir={tmp_path / 'tfds'}", f"--config.data.manual_dir={manual}",
                  "--config.eval_batch_size=8"], mock=True)
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "eval  top-1 " in output and "(step 0, 6 examples)" in output
    assert ("published (torchvision squeezenet1_1, SqueezeNet1_1_Weights.IMAGENET1K_V1 (squeezenet1_1-b8a52dc0.pth)): "
            "top-1 58.18%  top-5 80.62% on ImageNet-1k validation") in output
    assert "this eval differs" not in output


def test_weights_flag_mistakes_are_one_line_usage_errors(tmp_path):
    result = run(["--config=configs/digits.py", "--weights=w.msgpack", f"--workdir={tmp_path}"])
    assert result.returncode == 2
    assert result.stderr.strip().endswith("--weights=w.msgpack is used with --mode=eval or save_weights only (to start "
                                          "training from weights: --config.init_from=w.msgpack)")
    result = run(["--config=configs/digits.py", "--mode=save_weights", f"--workdir={tmp_path}"])
    assert result.returncode == 2 and "--mode=save_weights needs --weights=FILE.msgpack" in result.stderr
    result = run(["--config=configs/pretrained.py:squeezenet1_1", "--mode=eval", f"--weights={tmp_path / 'none.pth'}"])
    assert result.returncode == 2 and f"--weights='{tmp_path / 'none.pth'}': no such file" in result.stderr


def test_convert_then_fine_tune_on_digits(tmp_path):
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    state_dict_path, weights = tmp_path / "peer.pth", tmp_path / "peer.msgpack"
    torch.save(torchvision.models.shufflenet_v2_x0_5(weights=None).state_dict(), state_dict_path)
    converted = subprocess.run([sys.executable, "-m", "lightnets.pretrained.convert", "shufflenet_v2_x0_5",
                                str(state_dict_path), str(weights)], capture_output=True, text=True, timeout=300)
    assert converted.returncode == 0, converted.stderr
    result = run(["--config=configs/digits_finetune.py", f"--config.init_from={weights}", "--config.num_train_steps=2",
                  "--config.warmup_epochs=0",
                  f"--config.data.data_dir={tmp_path / 'tfds'}", f"--workdir={tmp_path / 'run'}"])
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert (f"Starting from the weights in {weights}; initialised fresh: params/classifier/bias, "
            "params/classifier/kernel") in output
    assert (tmp_path / "run" / "results.json").exists()
