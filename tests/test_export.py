"""ONNX export (``lightnets.export``): onnxruntime computes the exported eval-mode forward as JAX does for the
families whose structured ops need care, and the command line exports or fails with one line and status 2.
Needs requirements-export.txt (the importorskips are only a fallback for an environment without it)."""

import functools
import subprocess
import sys

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lightnets import create_model
from lightnets.export import export_onnx, main

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("jax2onnx")

BATCH, CALIBRATION_BATCH = 2, 16
# (model, side): each family's structured ops — interlaced groups (clcNet), uneven groups and channel shuffle
# (SeesawNet), split + shuffle and a padded max pool (ShuffleNet V2), SE, hard-swish and depthwise convs
# (MobileNet V3); ceil-mode max pools (SqueezeNet) in test_command_line_exports_given_weights.
CASES = [("clcnet_a", 32), ("seesaw_shuffle_d050", 32), ("shufflenet_v2_x0_5", 32), ("mobilenet_v3_small_050", 32)]


def calibrated_variables(model, calibration: jax.Array, x: jax.Array, forward):
    """Random-init variables of ``model`` (built with ``bn_momentum=0``) whose BN statistics are those of the
    batch ``calibration``, perturbed (``_perturbed``) so that BN is neither the identity nor an exact
    normalisation, and whose classifier is rescaled so that ``forward(variables, x)`` has logits of unit
    standard deviation: a fixed tolerance then means the same for every model. (With init's unit statistics
    the activations shrink layer by layer to logits of ~1e-17, where no tolerance can fail.)"""
    # An RBG key: XLA compiles the init's random draws ~30% faster than threefry's.
    init_key, dropout_key, noise_key = jax.random.split(jax.random.key(0, impl="rbg"), 3)
    variables = jax.jit(model.init, static_argnames="train")(init_key, calibration, train=False)
    _, updates = jax.jit(functools.partial(model.apply, train=True, mutable=["batch_stats"]))(
        variables, calibration, rngs={"dropout": dropout_key})
    variables = {**variables, "batch_stats": _perturbed(updates["batch_stats"], noise_key)}
    scale = forward(variables, x).std()
    params = variables["params"]
    return {**variables, "params": {**params, "classifier": jax.tree.map(lambda p: p / scale, params["classifier"])}}


def _perturbed(stats: dict, key: jax.Array) -> dict:
    """Each BN layer's statistics perturbed: the variance raised by the layer's mean variance (a channel the
    calibration batch barely moves would otherwise amplify float32 rounding ~100×, to near the tolerance) and
    scaled by e^U(−¼, ¼), the mean shifted by N(0, 0.1²)·σ."""
    if "mean" in stats:
        mean_key, var_key = jax.random.split(key)
        var = (stats["var"] + stats["var"].mean()) * jnp.exp(
            jax.random.uniform(var_key, stats["var"].shape, minval=-0.25, maxval=0.25))
        return {"mean": stats["mean"] + 0.1 * jnp.sqrt(var) * jax.random.normal(mean_key, var.shape), "var": var}
    keys = jax.random.split(key, len(stats))
    return {name: _perturbed(stats[name], k) for name, k in zip(sorted(stats), keys)}


def run_onnx(path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["logits"], {"images": x})[0]


@pytest.mark.parametrize("name,size", CASES)
def test_onnxruntime_matches_jax(name, size, tmp_path):
    model = create_model(name, bn_momentum=0.0)  # momentum 0: one train-mode forward sets the running statistics
    calibration = jax.random.normal(jax.random.key(1), (CALIBRATION_BATCH, size, size, 3))
    x = calibration[:BATCH]
    forward = jax.jit(functools.partial(model.apply, train=False))
    variables = calibrated_variables(model, calibration, x, forward)
    expected = np.asarray(forward(variables, x))
    path = tmp_path / f"{name}.onnx"
    export_onnx(model, variables, input_shape=x.shape, path=path)

    got = run_onnx(path, np.asarray(x))
    assert got.shape == expected.shape == (BATCH, 1000) and got.dtype == np.float32
    np.testing.assert_array_less(np.abs(got - expected).max(), 1e-4)
    # Exported in canonical form: every convolution (grouped ones included) is an ONNX Conv, run by the runtime.
    assert "Conv" in {node.op_type for node in onnx.load(path).graph.node}


def test_command_line_exports_given_weights(tmp_path):
    model = create_model("squeezenet1_1", num_classes=10)
    x = jax.random.normal(jax.random.key(2), (1, 48, 48, 3))
    # Not the key(0) init that main() exports by default.
    variables = jax.jit(model.init, static_argnames="train")(jax.random.key(3, impl="rbg"), x, train=False)
    weights = tmp_path / "weights.msgpack"
    weights.write_bytes(flax.serialization.msgpack_serialize({"variables": variables, "step": 7}))
    out = tmp_path / "sq.onnx"

    assert main(["squeezenet1_1", "--out", str(out), "--image-size", "48", "--num-classes", "10",
                 "--weights", str(weights)]) == 0
    expected = jax.jit(functools.partial(model.apply, train=False))(variables, x)
    np.testing.assert_allclose(run_onnx(out, np.asarray(x)), expected, atol=1e-5)
    # A lightnets weights file brings its model options (num_classes); its model must be the one named.
    from lightnets.pretrained import save_weights

    save_weights(tmp_path / "sq.msgpack", model="squeezenet1_1", model_options={"num_classes": 10},
                 variables=variables, origin="test")
    nested = tmp_path / "new" / "sq.onnx"
    assert main(["squeezenet1_1", "--out", str(nested), "--image-size", "48", "--weights",
                 str(tmp_path / "sq.msgpack")]) == 0
    np.testing.assert_allclose(run_onnx(nested, np.asarray(x)), expected, atol=1e-5)
    assert main(["squeezenet1_0", "--out", str(out), "--weights", str(tmp_path / "sq.msgpack")]) == 2
    # Its three ceil-mode pools as 2-D MaxPools (lightnets.export._nchw_max_pools), not 4-D ones.
    pools = [node for node in onnx.load(out).graph.node if node.op_type == "MaxPool"]
    assert [list(onnx.helper.get_attribute_value(a)) for p in pools for a in p.attribute
            if a.name == "kernel_shape"] == [[3, 3]] * 3


@pytest.mark.parametrize("args,message", [
    (["squeezenet1_1", "--out", "m.pb"], "--out must end in .onnx, got 'm.pb'"),
    (["squeezenet1_1", "--out", "m.onnx", "--image-size", "0"], "--image-size must be a positive integer, got 0"),
    (["squeezenet1_1", "--out", "m.onnx", "--image-size", "8"], "squeezenet1_1 cannot run at --image-size 8"),
    (["squeezenet1_1", "--out", "m.onnx", "--weights", "missing.msgpack"], "--weights 'missing.msgpack' does not exist"),
    (["squeezenet1_1", "--out", "m.onnx", "--weights", "peer.pth"],
     "--weights 'peer.pth' is not a lightnets weights file (.msgpack); a PyTorch state_dict is converted first: "
     "python -m lightnets.pretrained.convert squeezenet1_1 peer.pth OUT.msgpack"),
])
def test_command_line_bad_input_is_one_line_and_status_2(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"python -m lightnets.export: error: {message}") and err.count("\n") == 1
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("shape,path,opset,message", [
    ((1, 32, 32, 4), "m.onnx", 23, r"input_shape must be \[N, H, W, 3\] with positive sizes, got \[1, 32, 32, 4\]"),
    ((1, 32, 32, 3), "m.tflite", 23, r"the output path must end in \.onnx, got '.*/m\.tflite'"),
    ((1, 32, 32, 3), "m.onnx", 9, r"opset 9 is not in \[13, "),
])
def test_export_onnx_rejects_bad_arguments(shape, path, opset, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        export_onnx(create_model("squeezenet1_1"), {}, input_shape=shape, path=tmp_path / path, opset=opset)
    assert not list(tmp_path.iterdir())


def test_module_entry_point_rejects_an_unknown_model(tmp_path):
    result = subprocess.run([sys.executable, "-m", "lightnets.export", "mobilenet_v9", "--out", "m.onnx"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.startswith("python -m lightnets.export: error: unknown model 'mobilenet_v9'") and result.stderr.count("\n") == 1
    assert not list(tmp_path.iterdir())
