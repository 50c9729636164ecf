"""The built-in tasks beside banking: generated from one source each, byte for byte,
and keeping the promises that make the comparison honest."""

from __future__ import annotations

import re

import pytest

from advisor.tasks import KINDS, list_builtin_tasks, load_task, normalise_question
from benchmarks.generators import facts_table, support

FACTS_TASKS = ("banking", "health", "legal")


def _files_under(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _same_files(fresh, committed) -> None:
    assert _files_under(fresh) == _files_under(committed)
    for relative in _files_under(fresh):
        assert (fresh / relative).read_bytes() == (committed / relative).read_bytes(), relative


def test_every_builtin_task_is_listed_and_loads() -> None:
    assert set(list_builtin_tasks()) >= {*FACTS_TASKS, "support"}
    for name in list_builtin_tasks():
        load_task(name)  # validated, leakage included


@pytest.mark.parametrize("name", FACTS_TASKS)
def test_facts_tasks_regenerate_byte_for_byte(name, tmp_path) -> None:
    facts_table.generate_into(tmp_path, facts_table.facts_file(name))
    _same_files(tmp_path, facts_table.default_out(name))
    assert facts_table.main(["--check", "--out", str(tmp_path)], name=name) == 0


@pytest.mark.parametrize("name", ("health", "legal"))
def test_facts_tasks_probe_every_kind_with_drift(name) -> None:
    task = load_task(name)
    assert {item.kind for item in task.test} == set(KINDS)
    assert len(task.train) >= 300 and len(task.test) >= 120 and len(task.corpus) >= 15
    drift = [item for item in task.test if item.kind == "drift"]
    v1 = " ".join(d.text for d in task.corpus)
    v2 = " ".join(d.text for d in task.current_corpus)
    for item in drift:
        assert item.stale_facts, item.id
        # the current value is in v2 only; the stale one in v1 only
        for fact in item.facts:
            assert fact in v2, (item.id, fact)
        for stale in item.stale_facts:
            assert stale in v1 and not re.search(rf"(?<![\d.,]){re.escape(stale)}(?![\d])", v2)


@pytest.mark.parametrize("name", ("health", "legal"))
def test_facts_tasks_decline_out_of_scope_and_only_there(name) -> None:
    from benchmarks.metrics import is_decline

    task = load_task(name)
    patterns = task.spec.decline_patterns
    for item in task.test:
        assert is_decline(item.reference, patterns) == (item.kind == "out_of_scope"), item.id


def test_support_regenerates_byte_for_byte(tmp_path) -> None:
    support.generate_into(tmp_path)
    _same_files(tmp_path, support.DEFAULT_OUT)
    assert support.main(["--check", "--out", str(tmp_path)]) == 0


def test_support_is_a_classification_task_of_the_promised_size() -> None:
    task = load_task("support")
    assert task.spec.is_classification
    assert len(task.labels) >= 30
    assert len(task.train) + len(task.test) >= 900
    train_labels = {e.answer for e in task.train}
    test_labels = {i.reference for i in task.test}
    assert train_labels == test_labels == set(task.labels)
    asked = {normalise_question(e.question) for e in task.train}
    assert not any(normalise_question(i.question) in asked for i in task.test)
    assert len(task.corpus) >= 15


def test_support_refuses_a_test_message_that_copies_a_train_one(tmp_path) -> None:
    import shutil

    import yaml

    from advisor.errors import TaskError

    data = tmp_path / "data"
    shutil.copytree(support.DATA_DIR, data)
    path = data / "messages_1.yaml"
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    first = table["intents"][0]
    train, test = support.split(support.load_intents(data)[0])
    # the shuffle depends on the label and the count only: the edited message stays in test
    where = [" ".join(m.split()) for m in first["messages"]].index(test[0])
    first["messages"][where] = train[0] + " thanks"
    path.write_text(yaml.safe_dump(table, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TaskError, match="nearly copies"):
        support.build(data)


def test_task_all_leaves_out_the_larger_variants() -> None:
    from advisor.tasks import is_task_variant

    names = list_builtin_tasks()
    assert [n for n in names if is_task_variant(n, names)] == ["banking-large"]
