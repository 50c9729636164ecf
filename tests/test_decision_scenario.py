"""The scenario model: validation, files with line numbers, field=value overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.decision import SCENARIO_SPACE, Scenario, apply_overrides, load_scenario_file
from advisor.decision.scenario import EXAMPLES_DIR, corpus_bucket, scenario_from_mapping
from advisor.errors import ScenarioError

DATA = Path(__file__).parent / "data" / "decision"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_example_loads():
    examples = sorted(EXAMPLES_DIR.glob("*.yaml"))
    assert examples
    for path in examples:
        assert load_scenario_file(path).known()


def test_yaml_scenario_is_typed(tmp_path):
    path = _write(
        tmp_path,
        "s.yaml",
        "labeled_examples: 1,200\ngaps: tone, format\ncompute: gpu\ncitations: yes\nunlabeled_corpus: 5000000\n",
    )
    scenario = load_scenario_file(path)
    assert scenario.labeled_examples == 1200
    assert scenario.gaps == ("format", "tone")  # canonical order
    assert scenario.compute == "single_gpu"  # alias
    assert scenario.citations is True
    assert scenario.unlabeled_corpus == "medium"  # a token count becomes its bucket


def test_wrong_type_names_file_line_and_field(tmp_path):
    path = _write(tmp_path, "scenario.yaml", "# my team\ncompute: cpu\nlabeled_examples: lots\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path)
    assert str(caught.value).startswith(
        f"{path}:3: field 'labeled_examples': expected a whole number, got 'lots'"
    )
    assert caught.value.hint


def test_unknown_key_suggests_the_closest_field(tmp_path):
    path = _write(tmp_path, "s.yaml", "compute: cpu\n\nlabelled_examples: 10\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path)
    assert caught.value.line == 3 and caught.value.field == "labelled_examples"
    assert "did you mean 'labeled_examples'" in str(caught.value)


def test_bad_choice_lists_the_allowed_values(tmp_path):
    path = _write(tmp_path, "s.yaml", "knowledge_changes: sometimes\n")
    with pytest.raises(ScenarioError, match="expected one of never, yearly, monthly"):
        load_scenario_file(path)


def test_nested_scenario_key_keeps_line_numbers(tmp_path):
    path = _write(tmp_path, "s.yaml", "scenario:\n  compute: cpu\n  gaps: [tone, charm]\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path)
    assert (caught.value.line, caught.value.field) == (3, "gaps")


def test_json_scenario_with_line_numbers(tmp_path):
    path = _write(
        tmp_path, "s.json", json.dumps({"compute": "cpu", "citations": "maybe"}, indent=2)
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path)
    assert (caught.value.line, caught.value.field) == (3, "citations")
    good = _write(tmp_path, "g.json", json.dumps({"labeled_examples": 40, "gaps": ["format"]}))
    assert load_scenario_file(good) == Scenario(labeled_examples=40, gaps=("format",))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("- a\n- b\n", "expected a mapping of scenario fields"),
        ("compute: [cpu\n", "not valid YAML"),
    ],
)
def test_unusable_files(tmp_path, text, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario_file(_write(tmp_path, "s.yaml", text))


def test_missing_file():
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario_file("no/such/scenario.yaml")


def test_overrides_apply_on_top_of_a_file():
    base = load_scenario_file(EXAMPLES_DIR / "banking.yaml")
    changed = apply_overrides(base, ["compute=cpu", "gaps=tone", "max_latency_s=1.5"])
    assert changed.compute == "cpu" and changed.gaps == ("tone",) and changed.max_latency_s == 1.5
    assert changed.labeled_examples == base.labeled_examples


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("compute", "is not field=value"),
        ("budjet=low", "did you mean 'budget'"),
        ("labeled_examples=-3", "expected a whole number"),
        ("max_latency_s=fast", "expected a positive number"),
    ],
)
def test_bad_overrides(override, message):
    with pytest.raises(ScenarioError, match=message):
        apply_overrides(Scenario(), [override])


def test_dataclass_refuses_values_outside_the_space():
    with pytest.raises(ScenarioError):
        Scenario(compute="tpu-pod")
    with pytest.raises(ScenarioError):
        Scenario(gaps=("charm",))


def test_space_covers_every_field():
    assert set(SCENARIO_SPACE) == set(Scenario.__dataclass_fields__)


def test_unknown_values_round_trip():
    assert (
        scenario_from_mapping({"label_quality": "unknown", "labeled_examples": "unknown"})
        == Scenario()
    )


@pytest.mark.parametrize(
    ("tokens", "bucket"),
    [(0, "none"), (5e5, "small"), (5e7, "medium"), (5e9, "large"), (5e10, "massive")],
)
def test_corpus_buckets(tokens, bucket):
    assert corpus_bucket(tokens) == bucket
