"""Every registered library variant: exact counts and logits shape; per model class (variants of a class share
their code, and each trace or compile costs seconds): bfloat16 dtypes and one training step.

``EXPECTED`` pins each variant's parameter count (all trainable values incl. BN γ/β and biases) and
multiply-adds at its family's default input size with 1000 classes, under the counting convention of
docs/references.md#counting-convention. These are our own counts, pinned exactly so that any change to a
network shows up here; how each compares with its paper (the published figure and Δ) is docs/models.md.
A new variant must add its line.
"""

import jax
import jax.numpy as jnp
import pytest

from lightnets import create_model, list_models
from lightnets.registry import model_class

from .checks import assert_one_train_step_updates_everything, counts, init_and_apply_shapes

# name: (params, MAdds) at type(model).default_input_size, 1000 classes.
EXPECTED = {
    "clcnet_a": (3_253_640, 342_973_440),
    "clcnet_ap": (3_253_640, 342_973_440),
    "clcnet_b": (4_085_128, 424_559_616),
    "g_sqnxt23_100": (544_072, 227_525_632),
    "igcv3_d050": (2_647_912, 183_262_080),
    "igcv3_d100": (3_491_688, 312_970_176),
    "mobilenet_v1_025": (470_072, 41_030_272),
    "mobilenet_v1_050": (1_331_592, 149_497_088),
    "mobilenet_v1_075": (2_585_560, 325_400_448),
    "mobilenet_v1_100": (4_231_976, 568_740_352),
    "mobilenet_v2_035": (1_677_128, 59_285_808),
    "mobilenet_v2_100": (3_504_872, 300_774_272),
    "mobilenet_v2_140": (6_108_776, 582_195_824),
    "mobilenet_v3_small_050": (932_736, 20_393_104),
    "mobilenet_v3_small_075": (1_675_024, 43_032_752),
    "mobilenet_v3_small_100": (2_542_856, 56_510_400),
    "mobilenet_v3_small_xsep": (2_524_976, 54_059_616),
    "seesaw_share_d050": (2_728_024, 209_265_792),
    "seesaw_share_d100": (3_644_184, 360_950_976),
    "seesaw_shuffle_d050": (2_728_024, 209_265_792),
    "seesaw_shuffle_d100": (3_644_184, 360_950_976),
    "shufflenet_v1_g1_100": (1_530_936, 143_078_976),
    "shufflenet_v1_g2_100": (1_732_848, 140_836_512),
    "shufflenet_v1_g3_050": (717_324, 37_589_856),
    "shufflenet_v1_g3_100": (1_864_728, 137_460_672),
    "shufflenet_v1_g3_150": (3_441_168, 292_443_552),
    "shufflenet_v1_g3_200": (5_449_776, 524_045_184),
    "shufflenet_v1_g4_100": (1_967_344, 134_339_776),
    "shufflenet_v1_g8_050": (1_010_448, 40_469_760),
    "shufflenet_v1_g8_100": (2_433_768, 138_365_952),
    "shufflenet_v1_g8_150": (4_268_952, 290_188_800),
    "shufflenet_v1_g8_200": (6_521_232, 521_942_016),
    "shufflenet_v2_050": (1_365_792, 40_476_448),
    "shufflenet_v2_100": (2_278_760, 145_814_296),
    "shufflenet_v2_150": (3_506_720, 298_970_656),
    "shufflenet_v2_200": (7_402_600, 590_783_000),
    "shufflenet_v2_x0_5": (1_366_792, 40_476_448),
    "shufflenet_v2_x1_0": (2_278_604, 144_907_992),
    "shufflenet_v2_x1_5": (3_503_624, 295_759_392),
    "shufflenet_v2_x2_0": (7_393_996, 583_253_464),
    "sqnxt23_100": (718_280, 281_916_416),
    "sqnxt23_200": (2_362_728, 750_760_960),
    "sqnxt23v2_100": (734_664, 224_916_480),
    "sqnxt23v3_100": (748_840, 224_916_480),
    "sqnxt23v4_100": (763_016, 224_916_480),
    "sqnxt23v5_100": (931_016, 224_916_480),
    "sqnxt34_100": (1_068_440, 361_395_200),
    "sqnxt44_100": (1_254_856, 433_648_640),
    "squeezenet1_0": (1_248_424, 832_667_936),
    "squeezenet1_0_bypass": (1_248_424, 832_667_936),
    "squeezenet1_1": (1_235_496, 387_747_520),
    "xception": (22_855_952, 8_357_403_496),
}
NAMES = list_models(library_only=True)


def _one_variant_per_class() -> list[str]:
    first = {}
    for name in NAMES:
        first.setdefault(model_class(name), name)
    return sorted(first.values())


def test_every_variant_is_pinned():
    assert sorted(EXPECTED) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_exact_counts_and_logits_shape(name):
    result = counts(name)
    assert (result.params, result.madds) == EXPECTED[name]
    assert result.output_shape == (1, 1000)


@pytest.mark.parametrize("name", _one_variant_per_class())
def test_bfloat16_dtypes(name):
    """bfloat16 compute and parameters at 64 px: every parameter bfloat16, logits float32 [N, num_classes]."""
    model = create_model(name, num_classes=10, dtype=jnp.bfloat16, param_dtype=jnp.bfloat16)
    variables, logits = init_and_apply_shapes(model, 64)
    assert (logits.shape, logits.dtype) == ((2, 10), jnp.float32)
    assert {leaf.dtype for leaf in jax.tree_util.tree_leaves(variables["params"])} == {jnp.dtype(jnp.bfloat16)}


def _shallow(model):
    """``model`` with every stage depth it allows cut to one block: each kind of block and parameter stays,
    at a fraction of the compile time."""
    depths = getattr(model, "depths", None)
    for index in range(len(depths or ())):
        candidate = model.clone(depths=tuple(1 if i == index else d for i, d in enumerate(model.depths)))
        try:
            candidate.check_options()
        except ValueError:  # e.g. Xception's fixed entry and exit flows
            continue
        model = candidate
    return model


@pytest.mark.parametrize("name", _one_variant_per_class())
def test_one_train_step_updates_every_parameter(name):
    """In the family's small-input geometry, one block per stage; family tests add steps for options that add
    or rewire parameters."""
    model = _shallow(create_model(name, num_classes=10, small_input=True))
    assert_one_train_step_updates_everything(model, 32)
