"""Xception against its paper (Fig. 5, Table 3) and the Keras reference's counts."""

import functools

import pytest

from lightnets import create_model, list_models
from lightnets.analysis.counting import count_model

from .checks import assert_dtypes, assert_logits_shape, assert_one_train_step_updates_everything


@functools.cache
def counts_at_299():
    return count_model(create_model("xception"), 299)


def test_registered_with_a_299px_default():
    assert "xception" in list_models()
    assert type(create_model("xception")).default_input_size == 299


def test_logits_shape():
    assert_logits_shape(create_model("xception", num_classes=10), 71)  # Keras's smallest input


def test_dtypes():
    assert_dtypes(functools.partial(create_model, "xception", num_classes=10, middle_flow_repeats=1), 71)


def test_params_match_table_3():
    counts = counts_at_299()
    assert counts.params == 22_855_952  # Table 3; Keras "trainable params" (BN γβ included)
    assert counts.params_without_bn == 22_855_952 - 54_528  # Keras's non-trainable count = BN channels × 2


def test_madds_round_to_the_quoted_8_4g():
    assert round(counts_at_299().madds / 1e9, 1) == 8.4  # 8.357G; not stated in the paper


def test_flow_shapes_follow_fig_5():
    shapes = {layer.name: layer.output_shape[1:] for layer in counts_at_299().layers}
    assert shapes["stem_conv2"] == (147, 147, 64)
    assert [shapes[f"entry_block{i}"] for i in (1, 2, 3)] == [(74, 74, 128), (37, 37, 256), (19, 19, 728)]
    assert [shapes[f"middle_block{i}"] for i in range(1, 9)] == [(19, 19, 728)] * 8
    assert "middle_block9" not in shapes
    assert shapes["exit_block"] == (10, 10, 1024) and shapes["exit_sepconv2"] == (10, 10, 2048)


def test_small_input():
    model = create_model("xception", small_input=True, num_classes=10)
    assert_logits_shape(model, 32)
    shapes = {layer.name: layer.output_shape[1:3] for layer in count_model(model, 32).layers}
    assert shapes["stem_conv2"] == (32, 32) and shapes["middle_block8"] == (4, 4) and shapes["exit_block"] == (2, 2)


def test_bad_option_is_named():
    with pytest.raises(ValueError, match="middle_flow_repeats must be at least 1, got 0"):
        assert_logits_shape(create_model("xception", middle_flow_repeats=0), 71)


def test_one_train_step():
    model = create_model("xception", small_input=True, middle_flow_repeats=1, num_classes=10)
    assert_one_train_step_updates_everything(model, 32)
