"""Params/MAdds counting (docs/references.md#counting-convention) on small hand-checkable models."""

import flax.linen as nn
import jax
import jax.numpy as jnp

from lightnets.analysis import count_model, madds_by_scope
from lightnets.layers import ImageClassifier, global_avg_pool
from lightnets.ops import InterlacedGroupConv, SqueezeExcite, UnevenGroupConv


class Tiny(ImageClassifier):
    @nn.compact
    def __call__(self, x, *, train=False):
        x = self.conv_bn_act(train, 8, (3, 3), strides=(2, 2), name="stem")(x)
        x = self.conv_bn_act(train, 8, (3, 3), groups=8, name="dw")(x)
        x = self.conv_bn_act(train, 16, (1, 1), groups=2, name="pw")(x)
        x = UnevenGroupConv((4, 12), (8, 24), name="uneven")(x)
        x = InterlacedGroupConv(32, (3, 3), groups=16, name="igc")(x)
        x = SqueezeExcite(8, name="se")(x)
        return self.classifier(global_avg_pool(x))


def test_counts_match_hand_arithmetic():
    # On CPU `auto` picks shifted-add depthwise and einsum 1×1s; counting must still see every conv.
    counts = count_model(Tiny(num_classes=10), 32)
    hw = 16 * 16
    expected_madds = {
        "stem": hw * 8 * 27, "dw": hw * 8 * 9, "pw": hw * 16 * 4, "uneven": hw * (4 * 8 + 12 * 24),
        "igc": hw * 32 * 9 * 2, "se": 32 * 8 + 8 * 32, "classifier": 32 * 10,
    }
    expected_params = {
        "stem": 27 * 8 + 16, "dw": 9 * 8 + 16, "pw": 4 * 16 + 32, "uneven": 4 * 8 + 12 * 24,
        "igc": 9 * 2 * 32, "se": 32 * 8 + 8 + 8 * 32 + 32, "classifier": 32 * 10 + 10,
    }
    by_name = {layer.name: layer for layer in counts.layers}
    assert [layer.name for layer in counts.layers] == list(expected_madds)  # execution order
    for name in expected_madds:
        assert by_name[name].madds == expected_madds[name], name
        assert by_name[name].params == expected_params[name], name
    assert counts.madds == sum(expected_madds.values())
    assert counts.params == sum(expected_params.values())
    assert counts.bn_params == 16 + 16 + 32
    assert counts.params_without_bn == counts.params - 64
    assert by_name["pw"].output_shape == (1, 16, 16, 16)


def test_madds_scale_with_resolution():
    small, large = count_model(Tiny(), 32), count_model(Tiny(), 64)
    head = 32 * 8 + 8 * 32 + 32 * 1000
    assert large.madds - head == 4 * (small.madds - head)


def test_scan_multiplies_by_length():
    def body(c, _):
        return c @ jnp.ones((4, 4)), None

    def fn(x):
        return jax.lax.scan(body, x, None, length=3)[0]

    assert sum(madds_by_scope(fn, jnp.ones((2, 4))).values()) == 3 * 2 * 4 * 4
