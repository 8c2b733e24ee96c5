"""Xception against its paper (Fig. 5, Table 3) and the Keras reference's counts (docs/references.md#xception)."""

import pytest

from lightnets import create_model
from lightnets.analysis.counting import count_model

from .checks import counts, init_and_apply_shapes


def test_default_input_is_299px():
    assert type(create_model("xception")).default_input_size == 299


def test_params_match_table_3():
    result = counts("xception")  # at 299 px
    assert result.params == 22_855_952  # Table 3; keras.applications.Xception "trainable params" (BN γβ included)
    assert result.params_without_bn == 22_855_952 - 54_528  # Keras's non-trainable count = BN channels × 2


def test_madds_round_to_the_quoted_8_4g():
    assert round(counts("xception").madds / 1e9, 1) == 8.4  # 8.357G; not stated in the paper


def test_flow_shapes_follow_fig_5():
    shapes = {layer.name: layer.output_shape[1:] for layer in counts("xception").layers}
    assert shapes["stem_conv2"] == (147, 147, 64)
    assert [shapes[f"entry_block{i}"] for i in (1, 2, 3)] == [(74, 74, 128), (37, 37, 256), (19, 19, 728)]
    assert [shapes[f"middle_block{i}"] for i in range(1, 9)] == [(19, 19, 728)] * 8
    assert "middle_block9" not in shapes
    assert shapes["exit_block"] == (10, 10, 1024) and shapes["exit_sepconv2"] == (10, 10, 2048)


def test_small_input():
    model = create_model("xception", small_input=True, num_classes=10)
    shapes = {layer.name: layer.output_shape[1:] for layer in count_model(model, 32).layers}
    assert shapes["stem_conv2"][:2] == (32, 32) and shapes["middle_block8"][:2] == (4, 4)
    assert shapes["exit_block"][:2] == (2, 2) and shapes["classifier"] == (10,)


def test_bad_option_is_named():
    with pytest.raises(ValueError, match=r"Xception depths=\(3, 0, 1\); valid: \(3, n, 1\) with n ≥ 1"):
        init_and_apply_shapes(create_model("xception", depths=(3, 0, 1)), 71)
