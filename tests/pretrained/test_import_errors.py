"""What ``lightnets.pretrained`` says about files that do not fit: one line naming the file or the first
missing, unexpected or mis-shaped tensor. The state_dicts are a peer's (random-initialised), edited."""

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

import lightnets.pretrained as pretrained  # noqa: E402
from lightnets.pretrained.state_dict import read_state_dict, write_state_dict  # noqa: E402

NAME = "squeezenet1_1"


@pytest.fixture(scope="module")
def state_dict():
    torch.manual_seed(0)
    return {key: value.numpy() for key, value in torchvision.models.squeezenet1_1(weights=None).state_dict().items()}


def import_error(state_dict, tmp_path, name=NAME) -> str:
    path = tmp_path / "edited.safetensors"
    write_state_dict(state_dict, path)
    with pytest.raises(pretrained.PretrainedError) as caught:
        pretrained.load_pretrained(name, path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_missing_layer_is_named(state_dict, tmp_path):
    edited = {k: v for k, v in state_dict.items() if not k.startswith("classifier.1.")}
    assert "missing tensors for classifier" in import_error(edited, tmp_path)


def test_a_missing_bias_is_named(state_dict, tmp_path):
    edited = {k: v for k, v in state_dict.items() if k != "features.3.squeeze.bias"}
    assert "missing tensor features.3.squeeze.bias" in import_error(edited, tmp_path)


def test_an_unexpected_module_is_named(state_dict, tmp_path):
    edited = {**state_dict, "head.weight": np.zeros((10, 10), np.float32)}
    assert "unexpected tensor head.weight: the peer has no module named 'head'" in import_error(edited, tmp_path)


def test_a_misshaped_tensor_is_named_with_both_shapes(state_dict, tmp_path):
    edited = {**state_dict, "features.3.expand3x3.weight": np.zeros((64, 16, 1, 1), np.float32)}
    message = import_error(edited, tmp_path)
    assert "tensor features.3.expand3x3.weight of shape (64, 16, 1, 1) does not fit" in message
    assert "(3, 3, 16, 64)" in message


def test_another_architectures_file_fails_on_its_first_unknown_module(tmp_path):
    torch.manual_seed(0)
    other = {k: v.numpy() for k, v in torchvision.models.mobilenet_v2(weights=None).state_dict().items()}
    assert "the peer has no module named 'conv'" in import_error(other, tmp_path)


def test_bad_files_and_names_get_one_line_errors(tmp_path):
    with pytest.raises(pretrained.PretrainedError, match="does not exist"):
        read_state_dict(tmp_path / "absent.safetensors")
    with pytest.raises(pretrained.PretrainedError, match=r"unsupported suffix '\.npz'; valid: \.safetensors"):
        read_state_dict(tmp_path / "weights.npz")
    (tmp_path / "garbage.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(pretrained.PretrainedError, match="is not a safetensors file"):
        read_state_dict(tmp_path / "garbage.safetensors")
    (tmp_path / "garbage.pth").write_bytes(b"not a pickle")
    with pytest.raises(pretrained.PretrainedError, match=r"is not a PyTorch checkpoint that torch.load can read as "
                                                         r"tensors \(Unsupported operand"):
        read_state_dict(tmp_path / "garbage.pth")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pth")
    with pytest.raises(pretrained.PretrainedError, match=r"holds pickled Python objects .*save model.state_dict\(\)"):
        read_state_dict(tmp_path / "module.pth")
    (tmp_path / "folder.pth").mkdir()
    with pytest.raises(pretrained.PretrainedError, match="is a directory"):
        read_state_dict(tmp_path / "folder.pth")
    with pytest.raises(ValueError, match=r"no published PyTorch weights for model 'mobilenet_v2_10' \(did you mean "
                                         r"mobilenet_v2_100"):
        pretrained.get_source("mobilenet_v2_10")
    with pytest.raises(ValueError, match="no published PyTorch weights for model 'clcnet_a'; importable: "):
        pretrained.get_source("clcnet_a")


def test_bfloat16_tensors_are_read_as_float32(tmp_path):
    from safetensors.torch import save_file

    save_file({"a": torch.ones(2, 3, dtype=torch.bfloat16), "n": torch.arange(3)}, str(tmp_path / "mixed.safetensors"))
    tensors = read_state_dict(tmp_path / "mixed.safetensors")
    assert tensors["a"].dtype == np.float32 and tensors["n"].dtype.kind == "i"


def test_weights_files_say_which_model_they_hold(state_dict, tmp_path):
    write_state_dict(state_dict, tmp_path / "peer.safetensors")
    model, variables = pretrained.load_pretrained(NAME, tmp_path / "peer.safetensors")
    pretrained.save_weights(tmp_path / "w.msgpack", model=NAME, model_options={}, variables=variables, origin="test")
    with pytest.raises(pretrained.PretrainedError, match="holds squeezenet1_1 weights, not squeezenet1_0"):
        pretrained.load_weights(tmp_path / "w.msgpack", model="squeezenet1_0")
    (tmp_path / "bad.msgpack").write_bytes(b"\x00\x01")
    with pytest.raises(pretrained.PretrainedError, match="is not a lightnets weights file"):
        pretrained.load_weights(tmp_path / "bad.msgpack")
    with pytest.raises(pretrained.PretrainedError, match="lightnets weights files end in .msgpack"):
        pretrained.save_weights(tmp_path / "w.bin", model=NAME, model_options={}, variables=variables, origin="test")
    nested = tmp_path / "new" / "dir" / "w.msgpack"  # parent directories are made
    pretrained.save_weights(nested, model=NAME, model_options={}, variables=variables, origin="test")
    assert pretrained.load_weights(nested, model=NAME)["origin"] == "test"
    (tmp_path / "file").write_text("")
    with pytest.raises(pretrained.PretrainedError, match="cannot write weights file"):
        pretrained.save_weights(tmp_path / "file" / "w.msgpack", model=NAME, model_options={}, variables=variables,
                                origin="test")


def test_safetensors_files_are_read_without_pytorch(state_dict, tmp_path):
    write_state_dict(state_dict, tmp_path / "peer.safetensors")
    code = ("import sys; sys.modules['torch'] = None\n"  # any import of torch now fails
            "import lightnets.pretrained as p\n"
            f"model, variables = p.load_pretrained({NAME!r}, {str(tmp_path / 'peer.safetensors')!r})\n"
            "print(sorted(variables))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['params']"  # SqueezeNet has no batch norm


def test_pickled_files_without_pytorch_say_how_to_read_them(tmp_path):
    (tmp_path / "w.pth").write_bytes(b"x")
    code = ("import sys; sys.modules['torch'] = None\n"
            "from lightnets.pretrained.state_dict import read_state_dict\n"
            f"read_state_dict({str(tmp_path / 'w.pth')!r})")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "needs PyTorch (pip install torch)" in result.stderr


def test_convert_rejects_a_bad_output_name_and_an_unimportable_model(tmp_path, capsys):
    from lightnets.pretrained import convert

    with pytest.raises(SystemExit) as caught:
        convert.main([NAME, str(tmp_path / "x.pth"), str(tmp_path / "out.npz")])
    assert caught.value.code == 2 and "lightnets weights files end in .msgpack" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        convert.main(["clcnet_a", str(tmp_path / "x.pth"), str(tmp_path / "out.msgpack")])
    assert caught.value.code == 2 and "no published PyTorch weights for model 'clcnet_a'" in capsys.readouterr().err
