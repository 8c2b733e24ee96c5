"""ShuffleNet V1 against its paper (Table 1) and the official models (docs/references.md#shufflenet-v1)."""

import functools

import flax.linen as nn
import jax
import numpy as np
import pytest

from lightnets import create_model
from lightnets.analysis.counting import count_model
from lightnets.models.shufflenet_v1 import ShuffleNetV1, ShuffleUnit, stage_widths, stem_width
from lightnets.ops import GroupedConv

from .checks import assert_one_train_step_updates_everything, counts, init_and_apply_shapes

# ShuffleNet Table 1 "Complexity" at 1×; it leaves out the FC (with the FC: 143.1/140.8/137.5/134.3/138.4M).
TABLE_1_COMPLEXITY = {1: 143e6, 2: 140e6, 3: 137e6, 4: 133e6, 8: 137e6}


def test_table_1_widths():
    assert {g: stage_widths(g, 1.0) for g in (1, 2, 3, 4, 8)} == {
        1: (144, 288, 576), 2: (200, 400, 800), 3: (240, 480, 960), 4: (272, 544, 1088), 8: (384, 768, 1536),
    }
    # Official megvii network.py: stem widths and stage widths of the scaled g=3 / g=8 models.
    assert [stem_width(3, s) for s in (0.5, 1, 1.5, 2)] == [12, 24, 24, 48]
    assert [stem_width(8, s) for s in (0.5, 1, 1.5, 2)] == [16, 24, 24, 48]
    assert stage_widths(3, 1.5) == (360, 720, 1440) and stage_widths(8, 0.5) == (192, 384, 768)


@pytest.mark.parametrize("groups", sorted(TABLE_1_COMPLEXITY))
def test_table_1_complexity_without_the_fc(groups):
    result = counts(f"shufflenet_v1_g{groups}_100")
    fc = stage_widths(groups, 1.0)[-1] * 1000
    assert {layer.name: layer.madds for layer in result.layers}["classifier"] == fc
    assert (result.madds - fc) == pytest.approx(TABLE_1_COMPLEXITY[groups], rel=0.005)


def test_g3_layers_read_like_table_1():
    result = counts("shufflenet_v1_g3_100")
    names = [layer.name for layer in result.layers]
    assert names == ["stem"] + [f"stage{s}_unit{u}" for s, n in ((2, 4), (3, 8), (4, 4)) for u in range(1, n + 1)] + [
        "classifier"
    ]
    shapes = {layer.name: layer.output_shape[1:] for layer in result.layers}
    assert shapes["stem"] == (112, 112, 24)
    assert shapes["stage2_unit1"] == (28, 28, 240) and shapes["stage3_unit1"] == (14, 14, 480)
    assert shapes["stage4_unit4"] == (7, 7, 960)
    assert result.params == 1_864_728  # classifier has no bias: 960·1000 weights
    assert {layer.name: layer.params for layer in result.layers}["classifier"] == 960_000


def test_shuffle_directions_give_different_functions_with_equal_params():
    norm = functools.partial(nn.BatchNorm, use_running_average=True)
    paper, megvii = (
        ShuffleUnit(12, 6, 3, 3, conv=GroupedConv, norm=norm, shuffle=shuffle) for shuffle in ("paper", "megvii")
    )
    x = jax.random.normal(jax.random.key(1), (1, 4, 4, 12))

    @jax.jit
    def both(x):
        variables = paper.init(jax.random.key(0), x)
        return variables, paper.apply(variables, x), megvii.apply(variables, x)

    variables, y_paper, y_megvii = both(x)
    assert jax.tree_util.tree_structure(variables) == jax.tree_util.tree_structure(
        jax.eval_shape(megvii.init, jax.random.key(0), x)
    )
    assert not np.allclose(y_paper, y_megvii)


def test_small_input_geometry():
    model = create_model("shufflenet_v1_g3_100", num_classes=10, small_input=True)
    shapes = {layer.name: layer.output_shape[1:] for layer in count_model(model, 32).layers}
    assert shapes["stem"] == (32, 32, 24) and shapes["stage4_unit4"] == (4, 4, 960) and shapes["classifier"] == (10,)


def test_one_train_step_with_grouped_convs_and_shuffle():
    # test_all_models trains g = 1 (dense 1×1s, no shuffle); this trains the grouped GConvs and the shuffle.
    model = ShuffleNetV1(groups=3, width_multiplier=0.25, depths=(2, 1, 1), small_input=True, num_classes=5)
    assert_one_train_step_updates_everything(model, 32)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(groups=5), "groups=5"),
        (dict(width_multiplier=0.0), "width_multiplier"),
        (dict(shuffle="reverse"), "shuffle='reverse'"),
        (dict(depths=(4, 8)), "depths"),
        (dict(groups=8, stem_features=12), "stem_features=12"),
    ],
)
def test_bad_options_raise(overrides, message):
    with pytest.raises(ValueError, match=message):
        init_and_apply_shapes(create_model("shufflenet_v1_g3_100", **overrides), 32)
