"""Output parity with the PyTorch peers: every importable variant (``lightnets.pretrained.SOURCES``) computes its
torchvision/timm peer's function.

Each peer is random-initialised (its BN statistics and affine parameters drawn too, so a swapped mean/var or a
wrong epsilon shows), its state_dict written to a file and imported with ``load_pretrained``; the same random
images go through both in eval mode (NCHW for PyTorch, NHWC for lightnets). Needs requirements-test.txt.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
timm = pytest.importorskip("timm")
from safetensors.torch import save_file  # noqa: E402

import lightnets.pretrained as pretrained  # noqa: E402

TOLERANCE = 1e-4  # max |Δlogit|, float32
IMAGE_SIZE = {"xception": 71, "squeezenet1_0": 67, "squeezenet1_1": 67}  # the smallest sizes with a spatial tail
DEFAULT_IMAGE_SIZE = 64


def peer_model(source: pretrained.PretrainedSource, seed: int = 0) -> "torch.nn.Module":
    """``source``'s peer, random-initialised with random BN statistics, in eval mode."""
    torch.manual_seed(seed)
    if source.library == "torchvision":
        model = getattr(torchvision.models, source.peer)(weights=None)
    else:
        model = timm.create_model(source.peer, pretrained=False)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    return model.eval()


def max_logit_difference(name: str, weights_path, peer, image_size: int) -> float:
    model, variables = pretrained.load_pretrained(name, weights_path)
    images = np.random.default_rng(0).standard_normal((2, image_size, image_size, 3)).astype(np.float32)
    with torch.no_grad():
        expected = peer(torch.from_numpy(images.transpose(0, 3, 1, 2).copy())).numpy()
    actual = np.asarray(model.apply(variables, images, train=False))
    assert actual.shape == expected.shape
    return float(np.abs(actual - expected).max())


@pytest.mark.parametrize("name", sorted(pretrained.SOURCES))
def test_imported_weights_compute_the_peers_logits(name, tmp_path):
    source = pretrained.SOURCES[name]
    peer = peer_model(source)
    path = tmp_path / f"{name}.safetensors"
    save_file(peer.state_dict(), str(path))
    difference = max_logit_difference(name, path, peer, IMAGE_SIZE.get(name, DEFAULT_IMAGE_SIZE))
    assert difference <= TOLERANCE, f"{source.label}: max |Δlogit| = {difference:.2e}"


def test_a_pth_checkpoint_nesting_its_state_dict_imports_like_the_bare_one(tmp_path):
    source = pretrained.SOURCES["mobilenet_v3_small_100"]
    peer = peer_model(source, seed=1)
    path = tmp_path / "checkpoint.pth"
    torch.save({"state_dict": peer.state_dict(), "epoch": 3}, path)
    assert max_logit_difference(source.model, path, peer, DEFAULT_IMAGE_SIZE) <= TOLERANCE


def test_a_converted_weights_file_keeps_the_logits(tmp_path):
    from lightnets.pretrained import convert

    source = pretrained.SOURCES["shufflenet_v2_x0_5"]
    peer = peer_model(source, seed=2)
    state_dict_path, weights_path = tmp_path / "peer.pth", tmp_path / "converted.msgpack"
    torch.save(peer.state_dict(), state_dict_path)
    convert.main([source.model, str(state_dict_path), str(weights_path)])
    assert max_logit_difference(source.model, weights_path, peer, DEFAULT_IMAGE_SIZE) <= TOLERANCE
    assert pretrained.load_weights(weights_path)["origin"].endswith("peer.pth")
