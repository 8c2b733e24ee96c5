"""The registry contract and the `python -m lightnets.summary` command line."""

import json
import subprocess
import sys

import flax.linen as nn
import pytest

from lightnets import ReferenceCounts, create_model, list_models, reference_counts, register_model
from lightnets.layers import ImageClassifier, global_avg_pool
from lightnets.registry import aliases
from lightnets.summary import main


class SummaryProbeNet(ImageClassifier):
    width: int = 8

    @nn.compact
    def __call__(self, x, *, train=False):
        if self.width < 1:
            raise ValueError(f"width must be positive, got {self.width}")
        x = self.conv_bn_act(train, self.width, (3, 3), strides=(2, 2), name="stem")(x)
        return self.classifier(global_avg_pool(x))


NAME = "test_summary_probe_net"
if NAME not in list_models():
    register_model(NAME, SummaryProbeNet, reference=ReferenceCounts(params=None, madds=None, source="test"), width=8)


def test_create_model_applies_overrides():
    model = create_model(NAME, num_classes=7, width=4)
    assert (model.num_classes, model.width) == (7, 4)


def test_unknown_name_and_key_list_the_valid_ones():
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        create_model("nope")
    with pytest.raises(ValueError, match=r"unknown option\(s\) 'widht' \(did you mean 'width'\?\); valid: .*width"):
        create_model(NAME, widht=3)


def test_double_registration_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        register_model(NAME, SummaryProbeNet)


def test_timm_and_torchvision_aliases_build_the_same_variant():
    assert create_model("mobilenet_v2") == create_model("mobilenetv2_100") == create_model("mobilenet_v2_100")
    assert reference_counts("mobilenet_v3_small") == reference_counts("mobilenet_v3_small_100")
    assert "mobilenet_v2" not in list_models() and aliases("mobilenet_v2_100") == ("mobilenet_v2", "mobilenetv2_100")
    with pytest.raises(ValueError, match="'mobilenet_v2' is registered twice"):
        register_model("another_name", SummaryProbeNet, aliases=("mobilenet_v2",))


def test_reference_counts_lookup():
    assert reference_counts(NAME).source == "test"
    assert reference_counts("nope") is None


def test_summary_json(capsys):
    assert main([NAME, "--input-size", "32", "--num-classes", "5", "--set", "width=4", "--json", "--layers"]) == 0
    out = json.loads(capsys.readouterr().out)
    stem = 27 * 4 + 2 * 4
    assert out["params"] == stem + 4 * 5 + 5
    assert out["params_without_bn"] == out["params"] - 8
    assert out["madds"] == 16 * 16 * 4 * 27 + 4 * 5
    assert (out["input_size"], out["num_classes"]) == (32, 5)
    assert [layer["name"] for layer in out["layers"]] == ["stem", "classifier"]


def test_summary_table_and_errors(capsys):
    assert main([NAME, "--input-size", "32", "--layers"]) == 0
    table = capsys.readouterr().out
    assert "stem" in table and "16x16x8" in table
    assert main([NAME, "--set", "width=0"]) == 2
    assert "width must be positive, got 0" in capsys.readouterr().err
    assert main([NAME, "--set", "depth=3"]) == 2
    assert "unknown option(s) 'depth'" in capsys.readouterr().err
    assert main(["nope"]) == 2


# Every published variant the model zoo provides (one registered name per paper model; docs/models.md).
REQUIRED_NAMES = """
squeezenet1_0 squeezenet1_1 squeezenet1_0_bypass xception mobilenet_v1_100 mobilenet_v1_075 mobilenet_v1_050
mobilenet_v1_025 mobilenet_v2_100 mobilenet_v2_140 mobilenet_v2_035 mobilenet_v3_small_100 shufflenet_v1_g1_100
shufflenet_v1_g2_100 shufflenet_v1_g3_100 shufflenet_v1_g4_100 shufflenet_v1_g8_100 shufflenet_v1_g3_050
shufflenet_v1_g3_150 shufflenet_v1_g3_200 shufflenet_v2_050 shufflenet_v2_100 shufflenet_v2_150 shufflenet_v2_200
sqnxt23_100 sqnxt23v5_100 sqnxt23_200 sqnxt34_100 sqnxt44_100 g_sqnxt23_100 igcv3_d100 igcv3_d050
seesaw_shuffle_d100 seesaw_shuffle_d050 seesaw_share_d100 seesaw_share_d050 clcnet_a clcnet_b clcnet_ap
mobilenet_v3_small_xsep
""".split()


def test_list_from_a_fresh_process():
    out = subprocess.run(
        [sys.executable, "-m", "lightnets.summary", "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == sorted(out)
    assert set(REQUIRED_NAMES) <= set(out), sorted(set(REQUIRED_NAMES) - set(out))


def test_library_only_leaves_out_models_registered_elsewhere():
    assert NAME in list_models("test_*")
    assert NAME not in list_models(library_only=True)
    assert set(REQUIRED_NAMES) <= set(list_models(library_only=True))


def test_a_library_class_registered_by_user_code_is_not_a_library_model():
    from lightnets.models.mobilenet_v2 import MobileNetV2

    name = "test_user_mobilenet_v2_050"
    if name not in list_models():
        register_model(name, MobileNetV2, width_multiplier=0.5)
    assert name in list_models() and name not in list_models(library_only=True)
    assert "mobilenet_v2_100" in list_models(library_only=True)


@pytest.mark.parametrize("old, new", [("width_mult", "width_multiplier"), ("scale", "width_multiplier"),
                                      ("stage_repeats", "depths"), ("middle_flow_repeats", "depths")])
def test_renamed_options_point_to_their_new_name(old, new):
    model = {"width_multiplier": "shufflenet_v1_g3_100", "depths": "xception"}[new]
    with pytest.raises(ValueError, match=rf"unknown option\(s\) '{old}' \(did you mean '{new}'\?\)"):
        create_model(model, **{old: 1})


@pytest.mark.parametrize("field, value, message", [
    ("padding", "VALID", "padding='VALID'; valid: symmetric, SAME"),
    ("bn_momentum", 1.5, "bn_momentum=1.5; valid: [0, 1]"),
    ("bn_epsilon", 0.0, "bn_epsilon=0.0; valid: > 0"),
    ("width_multiplier", float("nan"), "width_multiplier must be positive, got nan"),
])
def test_shared_options_are_checked_by_every_model(field, value, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        create_model("mobilenet_v2_035", **{field: value}).check_options()
