"""`advisor tasks import`: every format in, a task that validates and runs out;
bad input located, and nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.importing import ImportDataError, ImportRequest, import_task
from advisor.importing.formats import Example, Where
from advisor.importing.split import near_duplicate_pairs, split_examples
from advisor.tasks import load_task
from tiny import save_tiny_embedder, save_tiny_model

SAMPLES = Path(__file__).parent / "data" / "import"
runner = CliRunner()

FORMATS = [
    # (files, extra flags, what the importer must say it read, task type)
    (["openai_chat.jsonl"], ["--corpus", "docs"], "chat messages JSONL", "generation"),
    (["bedrock.jsonl"], [], "prompt/completion pairs (Bedrock", "generation"),
    (["trl_conversational.jsonl"], [], "TRL conversational", "generation"),
    (
        ["trl_conversational_prompt_completion.jsonl"],
        [],
        "TRL conversational prompt-completion",
        "generation",
    ),
    (["trl_text.jsonl", "bedrock.jsonl"], [], "TRL language modeling", "generation"),
    (["alpaca.json"], [], "Alpaca instructions", "generation"),
    (["sharegpt.json"], [], "ShareGPT conversations", "generation"),
    (["qa.parquet"], [], "Parquet", "generation"),
    (["intents.csv"], [], "CSV", "classification"),
    (
        ["intents.tsv"],
        ["--text-col", "utterance", "--label-col", "intent"],
        "TSV",
        "classification",
    ),
    (["intents_table.jsonl"], [], "a table with named columns", "classification"),
    (["hf_intents"], [], "Hugging Face dataset", "classification"),
]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return save_tiny_model(root / "llama"), save_tiny_embedder(root / "embedder")


def _import(tmp_path: Path, files: list[str], flags: list[str]) -> tuple[Path, object]:
    to = tmp_path / "task"
    args = ["tasks", "import", *(str(SAMPLES / f) for f in files), "--to", str(to)]
    args += [str(SAMPLES / f) if f == "docs" else f for f in flags]
    return to, runner.invoke(app, args)


@pytest.mark.parametrize(("files", "flags", "read_as", "task_type"), FORMATS)
def test_import_validate_and_quick_compare(files, flags, read_as, task_type, tmp_path, models):
    model_dir, embedder_dir = models
    to, result = _import(tmp_path, files, flags)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert read_as in output and "read as:" in output
    task = load_task(to)
    assert task.spec.type == task_type
    assert task.train and task.test
    if task_type == "classification":
        assert len(task.labels) == 8
    if "--corpus" in flags or "trl_text.jsonl" in files:
        assert task.corpus

    checked = runner.invoke(
        app,
        ["tasks", "validate", str(to), "--model", str(model_dir), "--embedder", str(embedder_dir)],
    )
    assert checked.exit_code == 0, checked.output
    assert "valid" in checked.output and "token lengths" in checked.output

    runs = tmp_path / "runs"
    compared = runner.invoke(
        app,
        [
            "compare",
            "--task",
            str(to),
            "--profile",
            "quick",
            "--runs-dir",
            str(runs),
            f"model.generator={model_dir}",
            f"model.embedder={embedder_dir}",
            "scratch.n_embd=32",
            "scratch.n_head=2",
            "scratch.steps=3",
        ],
    )
    assert compared.exit_code == 0, compared.output
    (run,) = runs.iterdir()
    scores = json.loads((run / "scores.json").read_text())
    assert scores["task_type"] == task_type
    assert scores["strategies"], scores
    if task_type == "classification":
        assert {"supervised", "embed"} <= set(scores["strategies"])
        assert "accuracy" in compared.output and "macro-F1" in compared.output
    elif not task.corpus:  # nothing to retrieve from or pre-train on: said, not a crash
        assert {"rag", "cpt", "sft+rag"} <= set(scores["not_scored"])
        assert "not scored" in compared.output and "skipped" in compared.output
    assert (run / "report.md").is_file()


def test_multi_turn_chat_keeps_weighted_turns_as_context_only(tmp_path) -> None:
    to, result = _import(tmp_path, ["openai_chat.jsonl"], ["--test-size", "4"])
    assert result.exit_code == 0, result.output
    task = load_task(to)
    answers = [e.answer for e in task.train]
    assert "Hello! How can I help?" not in answers  # weight 0: never an answer to learn
    multi = [e for e in task.train if len(e.messages) > 2]
    assert multi and all(
        m["content"] != "Hello! How can I help?" or m["role"] == "assistant"
        for e in multi
        for m in e.messages
    )
    # the shared system message became the task's system prompt, not a turn
    assert "Larkspur Cycles" in task.spec.system_prompt
    assert not any(m["role"] == "system" for e in task.train for m in e.messages)


def test_pdf_pages_without_text_and_other_files_are_reported(tmp_path) -> None:
    to, result = _import(tmp_path, ["bedrock.jsonl"], ["--corpus", "docs"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "repairs.pdf: page(s) 2 of 2 have no text" in output
    assert "notes.bin" in output
    texts = {d.doc_id: d.text for d in load_task(to).corpus}
    assert "tune-up costs $45.00" in texts["repairs.md"]
    assert "river tour leaves at 9:00 am" in texts["tours.md"]
    assert "track()" not in texts["tours.md"] and "color:red" not in texts["tours.md"]
    assert texts["tours.md"].startswith("# Guided tours")


# ---------------------------------------------------------------- bad input


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize(
    ("content", "suffix", "flags", "message", "where"),
    [
        (
            '{"prompt": "hi", "completion": "hello"}\n{oops',
            ".jsonl",
            [],
            "malformed JSON",
            ":2",
        ),
        (
            '{"messages": [{"role": "robot", "content": "hi"}]}\n',
            ".jsonl",
            [],
            "unknown role",
            ":1",
        ),
        (
            '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "weight": 2}]}\n',
            ".jsonl",
            [],
            "weight is 0 or 1",
            ":1",
        ),
        ('{"prompt": "hi", "completion": ""}\n', ".jsonl", [], "field 'completion': empty", ":1"),
        ("", ".jsonl", [], "is empty", ""),
        ("text,label\n", ".csv", [], "has no rows", ""),
        ("words,tags\nhello,greet\n", ".csv", ["--text-col", "word"], "no column 'word'", ""),
        ("x\n", ".xlsx", [], "unsupported file type", ""),
        ('[{"instruction": "a"}]', ".json", [], "field 'output': missing", "item 1"),
    ],
)
def test_bad_input_is_located_and_nothing_is_written(
    content, suffix, flags, message, where, tmp_path
) -> None:
    source = tmp_path / f"data{suffix}"
    source.write_text(content)
    to = tmp_path / "task"
    result = runner.invoke(app, ["tasks", "import", str(source), "--to", str(to), *flags])
    assert result.exit_code == 1
    assert message in result.output and where in result.output
    assert "Traceback" not in result.output
    assert not to.exists()
    assert [p.name for p in tmp_path.iterdir()] == [source.name]  # no staging folder left


def test_a_file_in_another_format_than_forced_says_what_it_is(tmp_path) -> None:
    result = runner.invoke(
        app,
        [
            "tasks",
            "import",
            str(SAMPLES / "openai_chat.jsonl"),
            "--format",
            "alpaca",
            "--to",
            str(tmp_path / "t"),
        ],
    )
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "field 'instruction'" in text and "try --format chat" in text


def test_an_unknown_forced_format_suggests_the_near_name(tmp_path) -> None:
    result = runner.invoke(
        app,
        [
            "tasks",
            "import",
            str(SAMPLES / "bedrock.jsonl"),
            "--format",
            "sharegtp",
            "--to",
            str(tmp_path / "t"),
        ],
    )
    assert result.exit_code == 1 and "did you mean 'sharegpt'" in result.output


def test_not_utf8_is_refused_at_its_line(tmp_path) -> None:
    source = tmp_path / "latin.csv"
    source.write_bytes("text,label\ntea,drink\ncaf\xe9 au lait,drink\n".encode("latin-1"))
    result = runner.invoke(app, ["tasks", "import", str(source), "--to", str(tmp_path / "t")])
    assert result.exit_code == 1 and "latin.csv:3: not UTF-8" in " ".join(result.output.split())


def test_an_empty_table_says_so(tmp_path) -> None:
    source = tmp_path / "empty.csv"
    source.write_text("")
    result = runner.invoke(app, ["tasks", "import", str(source), "--to", str(tmp_path / "t")])
    assert result.exit_code == 1 and "empty.csv: the file is empty" in result.output


def test_an_existing_folder_is_kept_unless_forced_and_replaced_whole(tmp_path) -> None:
    to = tmp_path / "task"
    to.mkdir()
    (to / "mine.txt").write_text("keep me")
    before = _snapshot(to)
    args = ["tasks", "import", str(SAMPLES / "intents.csv"), "--to", str(to)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "already exists" in result.output
    assert _snapshot(to) == before
    # forced, but the new task fails: the old folder is untouched
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nonly one,label\n")
    result = runner.invoke(app, ["tasks", "import", str(bad), "--to", str(to), "--force"])
    assert result.exit_code == 1 and _snapshot(to) == before
    result = runner.invoke(app, [*args, "--force"])
    assert result.exit_code == 0, result.output
    assert not (to / "mine.txt").exists() and load_task(to).spec.is_classification
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "task"]


def test_a_given_test_file_that_leaks_is_refused(tmp_path) -> None:
    rows = [json.loads(line) for line in (SAMPLES / "bedrock.jsonl").read_text().splitlines()]
    test = tmp_path / "test.jsonl"
    test.write_text("".join(json.dumps(r) + "\n" for r in rows[:3]))
    result = runner.invoke(
        app,
        [
            "tasks",
            "import",
            str(SAMPLES / "bedrock.jsonl"),
            "--test",
            str(test),
            "--to",
            str(tmp_path / "t"),
        ],
    )
    assert result.exit_code == 1 and "leakage" in result.output and not (tmp_path / "t").exists()
    # named by the files the user has, not by the task files that were never written
    assert f"{test}:1" in result.output and "bedrock.jsonl:1" in result.output
    allowed = runner.invoke(
        app,
        [
            "tasks",
            "import",
            str(SAMPLES / "bedrock.jsonl"),
            "--test",
            str(test),
            "--to",
            str(tmp_path / "t"),
            "--allow-leakage",
        ],
    )
    assert allowed.exit_code == 0, allowed.output


# ---------------------------------------------------------------- the split


def _examples(pairs: list[tuple[str, str]]) -> list[Example]:
    return [
        Example(
            ({"role": "user", "content": q}, {"role": "assistant", "content": a}),
            Where("x.jsonl", n),
            group=f"x:{n}",
        )
        for n, (q, a) in enumerate(pairs, start=1)
    ]


def _distinct_messages(count: int, seed: int = 0) -> list[str]:
    import random

    rng = random.Random(seed)
    words = [f"w{i}" for i in range(2000)]
    return [" ".join(rng.sample(words, 6)) for _ in range(count)]


LABELLED = [(text, "abc"[n % 3]) for n, text in enumerate(_distinct_messages(120))]


def test_the_split_is_seeded_and_stratified() -> None:
    examples = _examples(LABELLED + [(f"rare {n}", "d") for n in range(5)])
    first = split_examples(examples, test_size=0.25, seed=0, stratify=True)
    again = split_examples(examples, test_size=0.25, seed=0, stratify=True)
    other = split_examples(examples, test_size=0.25, seed=1, stratify=True)
    assert [e.where for e in first.test] == [e.where for e in again.test]
    assert [e.where for e in first.test] != [e.where for e in other.test]
    share = {label: sum(e.answer == label for e in first.test) for label in "abcd"}
    assert share == {"a": 10, "b": 10, "c": 10, "d": 1}
    assert len(first.train) + len(first.test) == len(examples)


def test_a_label_never_loses_its_last_training_example() -> None:
    examples = _examples(LABELLED + [("a lonely one", "solo")])
    split = split_examples(examples, test_size=0.5, seed=3, stratify=True)
    assert any(e.answer == "solo" for e in split.train)
    assert not any(e.answer == "solo" for e in split.test)


def test_near_duplicates_stay_on_one_side() -> None:
    pairs = [(f"how do I reset my password on device {n}", "reset") for n in range(3)]
    pairs += [(f"distinct question number {n} about topic {n}", f"answer {n}") for n in range(30)]
    pairs += [("How do I reset my password on device 1?!", "reset")]
    examples = _examples(pairs)
    for seed in range(10):
        split = split_examples(examples, test_size=0.3, seed=seed, stratify=False)
        train = {e.question.lower().strip("?!") for e in split.train}
        assert not any(e.question.lower().strip("?!") in train for e in split.test)
        assert split.groups >= 1


def test_a_big_near_duplicate_group_does_not_swell_the_test_set() -> None:
    # 40 copies of one question (a template, a follow-up asked in every conversation) beside
    # 100 distinct ones: the copies stay whole, and the test set stays near its size
    copies = [("and soft-boiled?", "six minutes")] * 40
    distinct = [(text, f"answer {n}") for n, text in enumerate(_distinct_messages(100))]
    labelled = [(text, "ab"[n % 2]) for n, text in enumerate(_distinct_messages(100, seed=1))]
    for seed in range(5):
        split = split_examples(
            _examples(copies + distinct), test_size=0.2, seed=seed, stratify=False
        )
        assert 20 <= len(split.test) <= 36, len(split.test)  # 28 asked
        stratified = split_examples(
            _examples(labelled + [("the same one", "a")] * 30),
            test_size=0.2,
            seed=seed,
            stratify=True,
        )
        assert 22 <= len(stratified.test) <= 30, len(stratified.test)  # 26 asked


def test_near_duplicate_pairs_finds_reworded_copies_only() -> None:
    found = near_duplicate_pairs(
        ["How much is a SINPE transfer?", "When do branches open"],
        ["how much is a sinpe transfer", "Where is the nearest ATM?"],
    )
    assert [(i, j) for i, j, _ in found] == [(0, 0)]


def test_import_task_writes_nothing_when_there_is_nothing_to_learn(tmp_path) -> None:
    with pytest.raises(ImportDataError, match="no labeled examples"):
        import_task(ImportRequest(sources=(SAMPLES / "trl_text.jsonl",), to=tmp_path / "t"))
    assert not (tmp_path / "t").exists()


def test_init_scaffolds_tasks_that_validate(tmp_path, models) -> None:
    model_dir, embedder_dir = models
    for task_type in ("generation", "classification"):
        folder = tmp_path / task_type
        result = runner.invoke(app, ["tasks", "init", str(folder), "--type", task_type])
        assert result.exit_code == 0, result.output
        assert load_task(folder).spec.type == task_type
        assert "#" in (folder / "task.yaml").read_text()  # commented
        checked = runner.invoke(
            app, ["tasks", "validate", str(folder), "--model", str(model_dir), "--no-embeddings"]
        )
        assert checked.exit_code == 0, checked.output
    again = runner.invoke(app, ["tasks", "init", str(tmp_path / "generation")])
    assert again.exit_code == 1 and "not empty" in again.output


def test_validate_reports_every_problem_with_its_line(tmp_path) -> None:
    folder = tmp_path / "task"
    shutil.copytree(Path(__file__).parent / "data" / "import", tmp_path / "samples")
    runner.invoke(app, ["tasks", "init", str(folder), "--type", "classification"])
    with (folder / "train.jsonl").open("a") as handle:
        handle.write('{"prompt": "hello", "completion": "not_a_label"}\n{oops\n')
    with (folder / "test.jsonl").open("a") as handle:
        handle.write('{"id": "1", "question": "again", "reference": "card_arrival"}\n')
    result = runner.invoke(
        app, ["tasks", "validate", str(folder), "--no-tokens", "--no-embeddings"]
    )
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "train.jsonl:3: field 'answer'" in text and "not one of the task's labels" in text
    assert "train.jsonl:4" in text and "malformed JSON" in text
    assert "test.jsonl:3: field 'id': duplicate id" in text
    assert "3 problem(s)" in text


def test_validate_names_near_duplicate_leakage(tmp_path) -> None:
    folder = tmp_path / "task"
    runner.invoke(app, ["tasks", "init", str(folder), "--type", "classification"])
    with (folder / "test.jsonl").open("a") as handle:
        handle.write(
            '{"id": "3", "question": "My new card still hasn\u2019t arrived yet.", '
            '"reference": "card_arrival"}\n'
        )
    result = runner.invoke(
        app, ["tasks", "validate", str(folder), "--no-tokens", "--no-embeddings"]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "near-duplicate leakage" in text and "test.jsonl:3" in text and "train.jsonl:1" in text
