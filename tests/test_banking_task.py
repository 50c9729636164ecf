"""The built-in banking task: generated from one facts table, and keeping its promises.

The committed folder must equal a fresh regeneration, and the data must make
the comparison honest: seen facts are taught, unseen ones never are, drift items
ask what changed, and no test question leaks from train.
"""

from __future__ import annotations

import re

import pytest

from advisor.errors import TaskError
from advisor.tasks import KINDS, load_task, normalise_question
from benchmarks.generators import banking as generator


@pytest.fixture(scope="module")
def task():
    return load_task("banking")


@pytest.fixture(scope="module")
def table():
    return generator.load_table()


def _files_under(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _corpus_text(documents) -> str:
    return "\n".join(d.text for d in documents)


# ---------------------------------------------------------------- regeneration


def test_regeneration_reproduces_every_committed_file_byte_for_byte(tmp_path):
    generator.generate_into(tmp_path)
    committed = generator.DEFAULT_OUT
    assert _files_under(tmp_path) == _files_under(committed)
    for relative in _files_under(tmp_path):
        fresh, kept = (tmp_path / relative).read_bytes(), (committed / relative).read_bytes()
        assert fresh == kept, f"{relative} is stale: python -m benchmarks.generators.banking"
        assert b"\r\n" not in fresh


def test_check_passes_on_a_fresh_folder_and_lists_stale_files(tmp_path, capsys):
    generator.generate_into(tmp_path)
    assert generator.main(["--check", "--out", str(tmp_path)]) == 0

    (tmp_path / "corpus" / "atms.md").write_text("# ATMs\n\nedited by hand\n", encoding="utf-8")
    (tmp_path / "corpus_v2" / "remittances.md").unlink()
    (tmp_path / "corpus" / "notes.md").write_text("# Notes\n", encoding="utf-8")
    capsys.readouterr()
    assert generator.main(["--check", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "corpus/atms.md (differs)" in err
    assert "corpus_v2/remittances.md (missing)" in err
    assert "corpus/notes.md (not generated)" in err
    assert "train.jsonl" not in err


def test_writing_removes_documents_the_table_no_longer_has(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "renamed-away.md").write_text("# Old\n", encoding="utf-8")
    assert generator.main(["--out", str(tmp_path)]) == 0
    assert not (tmp_path / "corpus" / "renamed-away.md").exists()
    assert generator.main(["--check", "--out", str(tmp_path)]) == 0


# ---------------------------------------------------------------- the task as loaded


def test_task_loads_with_the_minimum_counts(task, table):
    taught = [f for f in table.facts if f.taught]
    assert len(table.facts) >= 40
    assert len(taught) >= 30 and sum(f.drift for f in taught) >= 6
    assert len(task.corpus) >= 15
    assert [d.doc_id for d in task.corpus_v2] == [d.doc_id for d in task.corpus]
    assert len(task.train) >= 300
    assert len(task.test) >= 120
    assert {item.kind for item in task.test} == set(KINDS)
    assert all(d.text.startswith("# ") for d in task.corpus)


def test_train_has_no_system_messages_and_drift_is_taught_with_old_values(task, table):
    assert all(len(e.messages) == 2 for e in task.train)
    assert not any(m["role"] == "system" for e in task.train for m in e.messages)
    answers = "\n".join(e.answer for e in task.train)
    for fact in table.facts:
        if fact.drift:
            for old, new in zip(fact.drifting_keys("v1"), fact.drifting_keys("v2"), strict=True):
                assert generator.mentions(answers, old), fact.id
                assert not generator.mentions(answers, new), fact.id


def test_system_prompt_asks_for_english_and_never_names_the_country(task):
    prompt = task.spec.system_prompt
    assert "English" in prompt
    assert "guatemal" not in prompt.lower()
    assert "guatemal" in _corpus_text(task.corpus).lower()  # the corpus may say where the bank is


def test_every_test_fact_is_stated_by_the_corpus_it_belongs_to(task):
    v1, v2 = _corpus_text(task.corpus), _corpus_text(task.corpus_v2)
    for item in task.test:
        current = v2 if item.kind == "drift" else v1
        for fact in item.facts:
            assert generator.mentions(current, fact), (item.id, fact)
            if item.kind == "drift":
                assert not generator.mentions(v1, fact), (item.id, fact)
        for stale in item.stale_facts:
            assert generator.mentions(v1, stale), (item.id, stale)
            assert not generator.mentions(v2, stale), (item.id, stale)
    assert all(item.stale_facts for item in task.test if item.kind == "drift")
    assert all(not item.facts for item in task.test if item.kind == "out_of_scope")


def test_unseen_facts_never_reach_train_and_seen_facts_always_do(task):
    answers = [e.answer for e in task.train]
    for item in task.test:
        if item.kind == "unseen":
            leaked = [a for a in answers for f in item.facts if generator.mentions(a, f)]
            assert not leaked, (item.id, leaked[:1])
        if item.kind == "seen":
            for fact in item.facts:
                assert any(generator.mentions(a, fact) for a in answers), (item.id, fact)


def test_no_test_question_repeats_or_nearly_repeats_a_train_question(task):
    train = {normalise_question(e.question) for e in task.train}
    test = [normalise_question(item.question) for item in task.test]
    assert len(set(test)) == len(test)
    assert not train & set(test)
    train_words = [set(q.split()) for q in train]
    for question in test:
        words = set(question.split())
        closest = max(generator.jaccard(words, other) for other in train_words)
        assert closest <= generator.NEAR_COPY_JACCARD, question


def test_corpus_versions_differ_exactly_in_the_drift_sentences(task, table):
    drift_sentences: dict[str, set[str]] = {}  # document -> its v1 sentences that change
    for fact in table.facts:
        if fact.drift:
            sentence = " ".join(fact.render(s, "v1") for s in fact.corpus)
            drift_sentences.setdefault(fact.doc, set()).add(sentence)
    v2 = {d.doc_id: d.text for d in task.corpus_v2}
    changed = {}
    for document in task.corpus:
        old, new = document.text.splitlines(), v2[document.doc_id].splitlines()
        assert len(old) == len(new)
        lines = {a for a, b in zip(old, new, strict=True) if a != b}
        if lines:
            changed[document.doc_id.removesuffix(".md")] = lines
    assert changed == drift_sentences


def test_every_answer_keeps_the_house_style(task):
    style = task.spec.style
    texts = [e.answer for e in task.train] + [item.reference for item in task.test]
    for text in texts:
        assert text.endswith(" — Ceiba Assist"), text
        assert all(re.search(p, text) for p in style.required_patterns), text
        assert not any(re.search(p, text) for p in style.forbidden_patterns), text
        assert sum(1 for w in text.split() if re.search(r"\w", w)) <= style.max_words, text
        for amount in re.findall(r"Q\s?\d[\d,]*(?:\.\d+)?", text):
            assert re.fullmatch(style.money_pattern, amount), (text, amount)


def test_only_out_of_scope_references_decline(task):
    for item in task.test:
        declines = any(re.search(p, item.reference, re.I) for p in task.spec.decline_patterns)
        assert declines == (item.kind == "out_of_scope"), item.id


def test_references_get_full_marks_from_the_scorer(task):
    """The real scorer agrees with the generator: each reference states all its
    facts, none of its stale ones, and passes every style check."""
    metrics = pytest.importorskip("benchmarks.metrics")
    for item in task.test:
        if item.facts:
            assert metrics.exact_match(item.facts, item.reference) == 1.0, item.id
        assert not any(metrics.fact_present(f, item.reference) for f in item.stale_facts), item.id
        assert metrics.style_score(item.reference, task.spec.style) == 1.0, item.id


# ---------------------------------------------------------------- the generator's checks


def test_mentions_matches_whole_figures_only():
    assert generator.mentions("A SINPE transfer costs Q5.00.", "Q5.00")
    assert generator.mentions("arrives in 1–2 hours", "1-2 hours")
    assert not generator.mentions("costs Q15.00", "Q5.00")
    assert not generator.mentions("up to Q5,000.00", "Q5.00")
    assert not generator.mentions("arrives in 2-3 business days", "3 business days")
    assert not generator.mentions("pays 1.5% a year", "5%")
    assert not generator.mentions("call 17220", "1722")


def _broken_table(tmp_path, old: str, new: str):
    text = generator.FACTS_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "banking_facts.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path, text


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_a_corpus_sentence_missing_its_fact_is_refused_at_its_line(tmp_path):
    path, text = _broken_table(
        tmp_path,
        "into a Banco Ceiba Azul account costs Q65.00.",
        "into a Banco Ceiba Azul account costs Q66.00.",
    )
    with pytest.raises(TaskError) as raised:
        generator.build(generator.load_table(path))
    assert raised.value.line == _line_of(text, "- id: wire_in")
    assert raised.value.field == "facts[wire_in].corpus"
    assert "Q65.00" in str(raised.value)


def test_a_test_question_copied_from_train_is_refused(tmp_path):
    path, _ = _broken_table(
        tmp_path,
        '- "How much does a SINPE transfer cost?"',
        '- "sinpe fee?"',
    )
    with pytest.raises(TaskError, match="appears twice"):
        generator.build(generator.load_table(path))


def test_a_corpus_only_figure_in_a_train_answer_is_refused(tmp_path):
    path, _ = _broken_table(
        tmp_path,
        '"Each CeibaPay payment costs Q1.00."',
        '"Each CeibaPay payment costs Q1.00; a wallet holds up to Q10,000.00."',
    )
    with pytest.raises(TaskError, match="corpus-only key 'Q10,000.00'"):
        generator.build(generator.load_table(path))


def test_a_stale_value_left_in_corpus_v2_is_refused(tmp_path):
    path, _ = _broken_table(
        tmp_path,
        "Withdrawals with a Ceiba card at a Banco Ceiba Azul ATM have no fee.",
        "Withdrawals at a Banco Ceiba Azul ATM have no fee; an ACH transfer costs Q3.00.",
    )
    with pytest.raises(TaskError, match="old value 'Q3.00' still appears in corpus v2"):
        generator.build(generator.load_table(path))


def test_an_answer_out_of_house_style_is_refused(tmp_path):
    path, _ = _broken_table(
        tmp_path,
        '"A SINPE transfer arrives in 1-2 hours on business days."',
        '"A SINPE transfer arrives in 1-2 hours and costs 5 quetzales, or Q5 at most."',
    )
    with pytest.raises(TaskError, match="house money format"):
        generator.build(generator.load_table(path))


def test_the_cli_exits_1_with_the_table_error_and_writes_nothing(tmp_path, capsys):
    path, _ = _broken_table(tmp_path, '- "sinpe fee?"', '- "How much does a SINPE transfer cost?"')
    out = tmp_path / "task"
    assert generator.main(["--facts", str(path), "--out", str(out)]) == 1
    assert "appears twice" in capsys.readouterr().err
    assert not out.exists()
