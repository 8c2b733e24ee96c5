"""SqueezeNet against its paper (Table 1, Table 3) and the official prototxts (docs/references.md#squeezenet)."""

import jax
import pytest

from lightnets import create_model
from lightnets.analysis.counting import count_model

from .checks import assert_one_train_step_updates_everything, counts, init_and_apply_shapes

# Table 1: output size and "#parameter before pruning" per layer (227 px input; conv10 is our 'classifier').
TABLE_1 = {
    "conv1": ((111, 111, 96), 14_208), "fire2": ((55, 55, 128), 11_920), "fire3": ((55, 55, 128), 12_432),
    "fire4": ((55, 55, 256), 45_344), "fire5": ((27, 27, 256), 49_440), "fire6": ((27, 27, 384), 104_880),
    "fire7": ((27, 27, 384), 111_024), "fire8": ((27, 27, 512), 188_992), "fire9": ((13, 13, 512), 197_184),
    "classifier": ((13, 13, 1000), 513_000),
}


def test_v1_0_matches_table_1_layer_by_layer():
    result = counts("squeezenet1_0")
    layers = {layer.name: (layer.output_shape[1:], layer.params) for layer in result.layers}
    assert layers == TABLE_1
    assert result.params == result.params_without_bn == 1_248_424  # Table 1 total; torchvision squeezenet1_0


def test_v1_0_madds_default_is_the_papers_geometry_and_the_prototxt_is_an_option():
    # conv10 13×13 (Table 1) → 832.7M; the prototxt's pad 1 → 861.3M, README "1.72 GFLOPS" = 2 × MACs.
    assert counts("squeezenet1_0").madds == pytest.approx(833e6, rel=5e-4)  # ShuffleNet paper Table 6: 833 MFLOPs
    padded = counts("squeezenet1_0", conv10_padding=1)
    assert padded.madds == pytest.approx(861.3e6, rel=5e-4) and padded.madds == pytest.approx(1.72e9 / 2, rel=5e-3)
    assert padded.layers[-1].output_shape == (1, 15, 15, 1000)
    assert padded.params == 1_248_424


def test_v1_1_counts():
    assert counts("squeezenet1_1").params == 1_235_496  # torchvision squeezenet1_1
    assert counts("squeezenet1_1", 224).madds == pytest.approx(349.2e6, rel=5e-4)  # 224 px, ceil-mode pools


def test_simple_bypass_adds_four_shortcuts_and_no_parameters():
    assert counts("squeezenet1_0_bypass").params == counts("squeezenet1_0").params
    x = jax.ShapeDtypeStruct((1, 64, 64, 3), "float32")

    def adds(name):
        model = create_model(name)
        variables = jax.eval_shape(model.init, jax.random.key(0), x)
        jaxpr = jax.make_jaxpr(model.apply)(variables, x)
        return sum(eqn.primitive.name == "add" for eqn in jaxpr.eqns)

    assert adds("squeezenet1_0_bypass") - adds("squeezenet1_0") == 4  # around fire3, fire5, fire7, fire9


@pytest.mark.parametrize("name", ("squeezenet1_0", "squeezenet1_1"))
def test_small_input_keeps_32px_until_the_pools(name):
    model = create_model(name, small_input=True, num_classes=10)
    layers = {layer.name: layer.output_shape for layer in count_model(model, 32).layers}
    assert layers["conv1"][1:3] == (32, 32) and layers["fire9"][1:3] == (4, 4)
    assert layers["classifier"] == (1, 4, 4, 10)  # conv10, before the global average pool


@pytest.mark.parametrize("option,value", [("version", "2.0"), ("conv10_padding", 2)])
def test_bad_options_are_named(option, value):
    with pytest.raises(ValueError, match=repr(value)):
        init_and_apply_shapes(create_model("squeezenet1_0", **{option: value}), 64)


def test_one_train_step_of_v1_1_with_simple_bypass():
    # test_all_models trains squeezenet1_0; this trains v1.1's layout and the bypass shortcuts.
    model = create_model("squeezenet1_1", small_input=True, simple_bypass=True, num_classes=10)
    assert_one_train_step_updates_everything(model, 32)
