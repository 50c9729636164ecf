"""Every loader of a file a person writes, fed arbitrary input: it loads, or it
raises the project's own error type (which the CLI prints as one located line).
Never a `KeyError`, a `TypeError` or a traceback.

The inputs are raw bytes, arbitrary text, and YAML/JSON documents built from
arbitrary values (so that the checks past the parser are reached too), written
over one file of an otherwise valid task, config, price table, scenario or bank.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.config import ConfigError, parse_override, resolve_config
from advisor.decision.scenario import apply_overrides, load_scenario_file
from advisor.errors import AdvisorError, ScenarioError, TaskError
from advisor.fileio import read_jsonl
from advisor.quiz.bank import BankError, load_bank
from advisor.tasks import check_task, load_task
from benchmarks.harness import load_prices
from benchmarks.results import load_run_results
from benchmarks.runs import RunError, load_run, summarise_run
from tiny import write_tiny_task

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# values as YAML and JSON can hold them, with the words the loaders look for as keys
KEYS = st.sampled_from(
    [
        "name", "version", "description", "domain", "system_prompt", "type", "labels",
        "style", "max_words", "money_pattern", "required_patterns", "decline", "patterns",
        "drift", "corpus", "score", "metrics", "id", "question", "reference", "facts",
        "kind", "messages", "role", "content", "prompt", "completion", "scenario",
        "options", "answer", "topic", "cpu_hour_usd", "gpu_hour_usd", "sft", "epochs",
        "rag", "top_k", "seeds", "strategies", "model", "dtype", "compute", "gaps",
        "labeled_examples", "max_latency_s", "unlabeled_corpus", "schema", "overall",
        "score", "mean", "by_kind", "task", "device",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["seen", "user", "assistant", "A", "B", "cpu", "rag", "tone", "x(", "[a"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(KEYS, st.text(max_size=8)), inner, max_size=5),
    ),
    max_leaves=20,
)
DOCUMENTS = st.dictionaries(KEYS, VALUES, max_size=8)
# valid records with a few fields replaced: the checks past "is it a mapping" run too
BASE_SPEC = {
    "name": "t",
    "version": 1,
    "description": "d",
    "domain": "x",
    "system_prompt": "s",
    "style": {"max_words": 30, "money_pattern": "Q\\d+"},
    "drift": {"corpus": "corpus_v2"},
}
BASE_ITEM = {"id": "x-1", "question": "q?", "reference": "r", "facts": ["r"], "kind": "seen"}
MESSAGE = st.fixed_dictionaries({"role": VALUES, "content": VALUES})
STYLE_KEYS = st.sampled_from(
    ["description", "max_words", "money_pattern", "required_patterns", "forbidden_patterns"]
)
NEAR_TASK_YAML = st.builds(
    lambda top, style, drift: {
        **BASE_SPEC,
        "style": {**BASE_SPEC["style"], **style},
        "drift": {**BASE_SPEC["drift"], **drift},
        **top,
    },
    DOCUMENTS,
    st.dictionaries(STYLE_KEYS, VALUES, max_size=3),
    st.dictionaries(st.sampled_from(["corpus", "note"]), VALUES, max_size=2),
)
NEAR_ITEM = DOCUMENTS.map(lambda d: {**BASE_ITEM, **d})
NEAR_TRAIN = st.one_of(
    st.lists(MESSAGE, max_size=3).map(lambda m: {"messages": m}),
    DOCUMENTS.map(lambda d: {"prompt": "p", "completion": "c", **d}),
)
YAMLISH = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["[", "{a", "[q_proj", "nan", ".inf", "-.inf", "a: b: c", "'", "*x", "&a"]),
    st.sampled_from(["!!python/object:os.system", "1e400", "0x1F", "~", "[1, [2]]", "{}"]),
)
MANIFEST_KEYS = st.sampled_from(
    ["run_id", "status", "created", "task", "device", "platform", "git", "versions"]
    + ["model", "strategies", "seeds", "config_hash", "identity"]
)
NEAR_MANIFEST = st.dictionaries(MANIFEST_KEYS, VALUES, max_size=6)
NEAR_SCORES = st.builds(
    lambda strategies, extra: {"schema": 1, "strategies": strategies, **extra},
    st.one_of(VALUES, st.dictionaries(st.sampled_from(["prompt", "rag"]), VALUES, max_size=2)),
    st.dictionaries(st.sampled_from(["not_scored", "learning_curve", "task"]), VALUES),
)
SCENARIO_KEYS = st.sampled_from(
    ["labeled_examples", "label_quality", "unlabeled_corpus", "knowledge", "gaps", "compute"]
    + ["budget", "latency", "citations", "max_latency_s", "max_prompt_tokens", "goal"]
)
NEAR_SCENARIO = st.dictionaries(SCENARIO_KEYS, VALUES, max_size=5)
CONFIG_KEYS = st.sampled_from(["sft", "cpt", "rag", "model", "generation", "scratch", "seeds"])
NEAR_CONFIG = st.dictionaries(
    CONFIG_KEYS,
    st.one_of(VALUES, st.dictionaries(st.sampled_from(["epochs", "lr", "top_k", "lora"]), VALUES)),
    max_size=4,
)


def _yaml(value) -> bytes:
    return yaml.safe_dump(value, allow_unicode=True).encode("utf-8")


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


ANY_BYTES = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
    DOCUMENTS.map(_yaml),
    VALUES.map(_yaml),
    DOCUMENTS.map(_json),
)
JSONL_BYTES = st.one_of(
    st.binary(max_size=400),
    st.lists(st.one_of(DOCUMENTS.map(_json), st.binary(max_size=40)), max_size=6).map(b"\n".join),
)


@pytest.fixture(scope="module")
def base_task(tmp_path_factory) -> Path:
    return write_tiny_task(tmp_path_factory.mktemp("props") / "task")


@pytest.fixture
def folder():
    path = Path(tempfile.mkdtemp(prefix="advisor-props-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _task_with(base: Path, folder: Path, name: str, data: bytes) -> Path:
    task = folder / "task"
    if task.exists():
        shutil.rmtree(task)
    shutil.copytree(base, task)
    (task / name).write_bytes(data)
    return task


def _loads_or_raises(load, error: type[AdvisorError]) -> None:
    try:
        load()
    except error as exc:
        assert str(exc).strip(), "an error says what is wrong"


# ---------------------------------------------------------------- JSON Lines


@SETTINGS
@given(data=JSONL_BYTES)
def test_read_jsonl(folder: Path, data: bytes) -> None:
    path = folder / "any.jsonl"
    path.write_bytes(data)
    _loads_or_raises(lambda: list(read_jsonl(path, TaskError)), TaskError)


@SETTINGS
@given(data=JSONL_BYTES, name=st.sampled_from(["train.jsonl", "test.jsonl"]))
def test_task_jsonl_files(base_task: Path, folder: Path, data: bytes, name: str) -> None:
    task = _task_with(base_task, folder, name, data)
    _loads_or_raises(lambda: load_task(task), TaskError)
    loaded, problems = check_task(task)  # collects instead of raising: never raises
    assert (loaded is None) == bool(problems)
    assert all(isinstance(p, TaskError) for p in problems)


@SETTINGS
@given(data=JSONL_BYTES)
def test_quiz_bank(folder: Path, data: bytes) -> None:
    path = folder / "bank.jsonl"
    path.write_bytes(data)
    _loads_or_raises(lambda: load_bank(path), BankError)


# ---------------------------------------------------------------- YAML


@SETTINGS
@given(data=ANY_BYTES)
def test_task_yaml(base_task: Path, folder: Path, data: bytes) -> None:
    task = _task_with(base_task, folder, "task.yaml", data)
    _loads_or_raises(lambda: load_task(task), TaskError)


@SETTINGS
@given(data=ANY_BYTES)
def test_config_file(folder: Path, data: bytes) -> None:
    path = folder / "config.yaml"
    path.write_bytes(data)
    _loads_or_raises(lambda: resolve_config(config_file=path), ConfigError)


@SETTINGS
@given(data=ANY_BYTES)
def test_price_table(folder: Path, data: bytes) -> None:
    path = folder / "prices.yaml"
    path.write_bytes(data)
    _loads_or_raises(lambda: load_prices(path), AdvisorError)


@SETTINGS
@given(text=st.text(max_size=60))
def test_config_override(text: str) -> None:
    _loads_or_raises(lambda: resolve_config(overrides=[text]), ConfigError)


@SETTINGS
@given(text=YAMLISH, key=KEYS, value=YAMLISH)
def test_config_override_of_a_known_key(text: str, key: str, value: str) -> None:
    for override in (f"{key}={value}", f"sft.{key}={value}", f"model.{key}={text}"):
        _loads_or_raises(lambda o=override: parse_override(o), ConfigError)
        _loads_or_raises(lambda o=override: resolve_config(overrides=[o]), ConfigError)


# ---------------------------------------------------------------- scenarios


@SETTINGS
@given(data=ANY_BYTES, suffix=st.sampled_from([".yaml", ".json"]))
def test_scenario_file(folder: Path, data: bytes, suffix: str) -> None:
    path = folder / f"scenario{suffix}"
    path.write_bytes(data)
    _loads_or_raises(lambda: load_scenario_file(path), ScenarioError)


@SETTINGS
@given(key=st.one_of(KEYS, SCENARIO_KEYS, st.text(max_size=12)), value=YAMLISH)
def test_scenario_field_value(key: str, value: str) -> None:
    from advisor.decision.scenario import Scenario

    _loads_or_raises(lambda: apply_overrides(Scenario(), [f"{key}={value}"]), ScenarioError)


# ---------------------------------------------------------------- run folders


@SETTINGS
@given(
    manifest=st.one_of(ANY_BYTES, NEAR_MANIFEST.map(_json)),
    scores=st.one_of(ANY_BYTES, NEAR_SCORES.map(_json)),
)
def test_run_folder(folder: Path, manifest: bytes, scores: bytes) -> None:
    run = folder / "20240101-000000-x-abc"
    run.mkdir(exist_ok=True)
    (run / "manifest.json").write_bytes(manifest)
    (run / "scores.json").write_bytes(scores)
    summarise_run(run)  # `runs list` shows any folder, damaged or not
    _loads_or_raises(lambda: load_run(run, answers=True), RunError)
    _loads_or_raises(lambda: load_run_results(run), AdvisorError)
