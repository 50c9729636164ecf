"""The built-in banking task: generated from one facts table, and keeping its promises.

The committed folder must equal a fresh regeneration, and the data must make
the comparison honest: seen facts are taught, unseen ones never are, drift items
ask what changed, and no test question leaks from train.
"""

from __future__ import annotations

import re
from dataclasses import replace

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


# ---------------------------------------------------------------- banking-large: the seed's scale


@pytest.fixture(scope="module")
def large_task():
    return load_task("banking-large")  # the loader's checks, leakage included


@pytest.fixture(scope="module")
def large_table():
    return generator.load_large_table()


def test_the_large_set_regenerates_byte_for_byte(tmp_path):
    generator.generate_into(tmp_path, variant=generator.LARGE_FILE)
    committed = generator.LARGE_OUT
    assert _files_under(tmp_path) == _files_under(committed)
    for relative in _files_under(tmp_path):
        fresh, kept = (tmp_path / relative).read_bytes(), (committed / relative).read_bytes()
        assert fresh == kept, f"{relative} is stale: python -m benchmarks.generators.banking"
    assert generator.main(["--check", "--variant", "large", "--out", str(tmp_path)]) == 0


def test_check_without_a_folder_checks_banking_and_banking_large(capsys):
    assert generator.main(["--check"]) == 0
    out = capsys.readouterr().out
    assert f"{generator.DEFAULT_OUT} is up to date" in out
    assert f"{generator.LARGE_OUT} is up to date" in out


def test_the_large_set_shares_corpus_and_test_with_banking(task, large_task):
    banking, large = generator.DEFAULT_OUT, generator.LARGE_OUT
    assert _files_under(banking) == _files_under(large)
    for relative in _files_under(banking):
        if relative not in ("train.jsonl", "task.yaml"):
            assert (banking / relative).read_bytes() == (large / relative).read_bytes(), relative
    assert large_task.test == task.test
    assert large_task.spec.name == "banking-large"
    # task.yaml differs in name and description only: the same prompt, style and decline
    renamed = replace(large_task.spec, name=task.spec.name, description=task.spec.description)
    assert renamed == task.spec


def test_the_large_set_has_at_least_1200_examples_and_no_test_question(task, large_task):
    assert len(large_task.train) >= 1200
    assert len(large_task.train) >= 3 * len(task.train)
    questions = [normalise_question(e.question) for e in large_task.train]
    assert len(set(questions)) == len(questions)
    asked = set(questions)
    train_words = [set(q.split()) for q in asked]
    for item in large_task.test:
        question = normalise_question(item.question)
        assert question not in asked, item.id
        closest = max(generator.jaccard(set(question.split()), other) for other in train_words)
        assert closest <= generator.NEAR_COPY_JACCARD, item.question


def test_the_large_set_keeps_banking_s_answers_and_teaches_no_unseen_fact(task, large_task):
    assert {e.answer for e in large_task.train} >= {e.answer for e in task.train}
    answers = [e.answer for e in large_task.train]
    for item in large_task.test:
        if item.kind == "unseen":
            assert not any(generator.mentions(a, f) for a in answers for f in item.facts), item.id


@pytest.mark.parametrize("size", [100, 300, 1000])
def test_every_prefix_of_the_large_set_covers_the_taught_facts_evenly(large_table, size):
    """`--train-sizes 100,300,1000,all` trains on prefixes: each must be balanced."""
    records = generator.build_train_records(large_table)
    taught = [f.id for f in large_table.facts if f.taught]
    counts = {fact_id: 0 for fact_id in taught}
    for record in records[:size]:
        if record.source in counts:
            counts[record.source] += 1
    assert min(counts.values()) >= 1
    assert max(counts.values()) - min(counts.values()) <= 1, counts
    sources = {r.source for r in records[:size]}
    assert {"style", "out_of_scope"} <= sources


def _broken_large(tmp_path, old: str, new: str):
    text = generator.LARGE_FILE.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path = tmp_path / "banking_facts_large.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path, _line_of(text, old)


def test_a_near_copy_of_a_test_question_in_the_large_source_is_refused_at_its_line(tmp_path):
    # "How much does a SINPE transfer cost?" is a test question
    path, line = _broken_large(
        tmp_path, '- "sinpe transfer charge"', '- "How much does a SINPE transfer cost me?"'
    )
    with pytest.raises(TaskError) as raised:
        generator.build(generator.load_large_table(path))
    assert raised.value.file == str(path)
    assert raised.value.line == line
    assert raised.value.field == "facts.sinpe_fee[0]"
    assert "nearly copies test 'How much does a SINPE transfer cost?'" in str(raised.value)


def test_a_large_wording_that_repeats_a_train_question_is_refused_at_its_line(tmp_path):
    path, line = _broken_large(tmp_path, '- "sinpe transfer charge"', '- "Sinpe fee?!"')
    with pytest.raises(TaskError, match="appears twice") as raised:
        generator.build(generator.load_large_table(path))
    assert (raised.value.file, raised.value.line) == (str(path), line)
    assert raised.value.field == "facts.sinpe_fee[0]"


def test_a_corpus_only_fact_gets_no_large_wordings(tmp_path):
    path, line = _broken_large(
        tmp_path,
        "  sinpe_time:\n",
        '  wire_in:\n    - "fee for receiving a wire?"\n  sinpe_time:\n',
    )
    with pytest.raises(TaskError, match="not a taught fact") as raised:
        generator.load_large_table(path)
    assert (raised.value.file, raised.value.line) == (str(path), line)
    assert raised.value.field == "facts.wire_in"


def test_a_large_style_example_out_of_house_style_is_refused_at_its_line(tmp_path):
    old = 'answer: "Glad I could help. Have a good day!"'
    path, _ = _broken_large(tmp_path, old, 'answer: "Glad I could help, gracias!"')
    with pytest.raises(TaskError, match="forbidden pattern") as raised:
        generator.build(generator.load_large_table(path))
    text = path.read_text(encoding="utf-8")
    assert raised.value.file == str(path)
    assert raised.value.line == _line_of(text, '- question: "Perfect, that\'s all I needed."')
    assert raised.value.field.startswith("style_examples[")
