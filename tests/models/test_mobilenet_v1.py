"""MobileNet V1 against its paper (Tables 1, 6, 7, 9; docs/references.md#mobilenet-v1)."""

import pytest

from lightnets import create_model
from lightnets.analysis.counting import count_model

from .checks import counts, init_and_apply_shapes


def test_full_width_params_without_bn_are_weights_and_fc_bias():
    # Table 6's 4.2M counts no BN γβ: 4.2091M conv + FC weights and 1,000 FC biases (TF-slim mobilenet_v1.py).
    assert counts("mobilenet_v1_100").params_without_bn == 4_210_088


def test_layers_follow_table_1():
    shapes = [layer.output_shape[1:] for layer in counts("mobilenet_v1_100").layers]
    assert shapes[0] == (112, 112, 32)
    assert shapes[1:14] == [
        (112, 112, 64), (56, 56, 128), (56, 56, 128), (28, 28, 256), (28, 28, 256), (14, 14, 512),
        *[(14, 14, 512)] * 5, (7, 7, 1024), (7, 7, 1024),
    ]
    assert counts("mobilenet_v1_100").layers[-1].name == "classifier"


# Table 6 (width multiplier, 224 px) and Table 9 (0.5 at 160 px): (name, size, million MAdds, million params);
# params are rounded to 0.1M (0.01M in Table 9); MAdds are printed to 1M, sometimes truncated rather than rounded
# (ours: 568.74 → "569" but 290.68 → "290", 76.52 → "76"), so they must agree to within 1M.
PAPER_ROWS = [
    ("mobilenet_v1_100", 224, 569, 4.2, 1), ("mobilenet_v1_075", 224, 325, 2.6, 1),
    ("mobilenet_v1_050", 224, 149, 1.3, 1), ("mobilenet_v1_025", 224, 41, 0.5, 1),
    ("mobilenet_v1_050", 160, 76, 1.32, 2),
]


@pytest.mark.parametrize("name,size,madds,params,digits", PAPER_ROWS)
def test_width_multiplier_rows(name, size, madds, params, digits):
    result = counts(name, size)
    assert abs(result.madds / 1e6 - madds) < 1
    assert round(result.params_without_bn / 1e6, digits) == params


@pytest.mark.parametrize("size,madds", [(192, 418), (160, 290), (128, 186)])
def test_resolution_multiplier_rows(size, madds):  # Table 7
    assert abs(counts("mobilenet_v1_100", size).madds / 1e6 - madds) < 1
    assert counts("mobilenet_v1_100", size).params == counts("mobilenet_v1_100").params


def test_small_input_has_total_stride_8():
    model = create_model("mobilenet_v1_025", small_input=True, num_classes=10)
    shapes = {layer.name: layer.output_shape[1:] for layer in count_model(model, 32).layers}
    assert shapes["stem"][:2] == (32, 32) and shapes["block2"][:2] == (32, 32) and shapes["block13"][:2] == (4, 4)
    assert shapes["classifier"] == (10,)


@pytest.mark.parametrize("option,value", [("width_multiplier", 0.0), ("act", "gelu")])
def test_bad_options_are_named(option, value):
    with pytest.raises(ValueError, match=repr(value)):
        init_and_apply_shapes(create_model("mobilenet_v1_100", **{option: value}), 64)
