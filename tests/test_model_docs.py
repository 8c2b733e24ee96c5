"""docs/models.md is up to date with tools/gen_model_docs.py (cheaply: all names, two rows regenerated)."""

import importlib.util
import pathlib

import pytest

from lightnets import list_models
from lightnets.analysis.counting import ModelCounts

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("gen_model_docs", ROOT / "tools" / "gen_model_docs.py")
gen_model_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_model_docs)

# Two cheap models whose rows are regenerated in full (counting every model takes minutes).
SAMPLED = ("shufflenet_v1_g3_100", "shufflenet_v2_050")


@pytest.fixture(scope="module")
def rows():
    return gen_model_docs.table_rows((ROOT / "docs" / "models.md").read_text())


def test_every_registered_model_has_a_row(rows):
    assert sorted(rows) == list_models(library_only=True), "run python -m tools.gen_model_docs"


@pytest.mark.parametrize("name", SAMPLED)
def test_sampled_rows_match_the_generator(rows, name):
    assert rows[name] == gen_model_docs.model_row(name), "run python -m tools.gen_model_docs"


def test_header_is_the_generators(rows):
    text = (ROOT / "docs" / "models.md").read_text()
    assert text.startswith(gen_model_docs.HEADER)
    assert text == gen_model_docs.HEADER + "".join(row + "\n" for row in rows.values()) + gen_model_docs.weights_section()


def test_weights_column_and_section_name_every_source(rows):
    from lightnets.pretrained import SOURCES

    for name, source in SOURCES.items():
        assert rows[name].endswith(f"| {source.library} {source.top1:.2f} |")
        assert f"\n| {name} | {source.library} `{source.peer}` |" in gen_model_docs.weights_section()
    assert rows["clcnet_a"].endswith("| – |")


def test_params_deviation_picks_the_closer_convention():
    counts = ModelCounts(params=1_050, bn_params=50, madds=0, input_size=224, num_classes=1000, layers=())
    assert gen_model_docs.params_deviation(counts, 1_000) == "+0.00% w/o BN"
    assert gen_model_docs.params_deviation(counts, 1_050) == "+0.00%"
    assert gen_model_docs.params_deviation(counts, None) == "–"
