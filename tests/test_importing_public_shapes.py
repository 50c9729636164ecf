"""`advisor tasks import` on the shapes public data sets come in: Dolly's fields, SQuAD
(nested JSON, and the Hub's flattened rows), class ids with their names in a saved
dataset or a Hub Parquet file, a CSV without a header row, columns with names the
importer does not know. Built in each test, in the shapes those sets use."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from advisor.importing import ImportDataError, ImportRequest, import_task
from advisor.importing.formats import Example, Options, Where
from advisor.importing.split import split_examples
from advisor.tasks import load_task

TOPICS = {
    "World": ["election", "minister", "treaty", "border", "summit", "embassy"],
    "Sports": ["match", "goal", "coach", "season", "league", "final"],
    "Business": ["stocks", "profit", "merger", "market", "earnings", "bank"],
    "Sci/Tech": ["software", "chip", "space", "internet", "research", "robot"],
}


def _headlines(count: int, seed: int = 0) -> list[tuple[str, str, str]]:
    """(topic, title, description) rows, every text its own."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        topic = list(TOPICS)[n % len(TOPICS)]
        first, second, third = rng.sample(TOPICS[topic], 3)
        rows.append(
            (
                topic,
                f"Report {n}: {first} news",
                f"Story {n} follows the {second} and the {third}, with reactions from {n} readers.",
            )
        )
    return rows


def _import(tmp_path: Path, source: Path, **options) -> tuple[object, object]:
    to = tmp_path / "task"
    report = import_task(ImportRequest(sources=(source,), to=to, **options))
    return report, load_task(to)


def test_dolly_records_read_context_and_response(tmp_path) -> None:
    rows = [
        {
            "instruction": f"What does clause {n} allow?",
            "context": f"Clause {n} allows {n} days of leave." if n % 2 else "",
            "response": f"It allows {n} days of leave.",
            "category": "closed_qa",
        }
        for n in range(40)
    ]
    source = tmp_path / "dolly.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report, task = _import(tmp_path, source)
    assert "Dolly" in " ".join(report.lines)
    pairs = {e.question: e.answer for e in task.train}
    pairs.update({item.question: item.reference for item in task.test})
    assert pairs["What does clause 3 allow?\n\nClause 3 allows 3 days of leave."] == (
        "It allows 3 days of leave."
    )
    assert pairs["What does clause 4 allow?"] == "It allows 4 days of leave."


def _squad_article(article: int, paragraphs: int) -> dict:
    return {
        "title": f"Article {article}",
        "paragraphs": [
            {
                "context": f"The river R{article}{p} flows past T{article}x{p}, founded in "
                f"{1500 + 10 * article + p}.",
                "qas": [
                    {
                        "id": f"{article}-{p}-town",
                        "question": f"Which town does river R{article}{p} flow past?",
                        "answers": [{"text": f"T{article}x{p}", "answer_start": 24}],
                    },
                    {
                        "id": f"{article}-{p}-year",
                        "question": f"When was the town on river R{article}{p} founded?",
                        # SQuAD 2.0: an unanswerable question has no answers
                        "answers": []
                        if p == 0
                        else [{"text": str(1500 + 10 * article + p), "answer_start": 40}],
                        "is_impossible": p == 0,
                    },
                ],
            }
            for p in range(paragraphs)
        ],
    }


def test_squad_json_gives_questions_and_its_contexts_as_the_corpus(tmp_path) -> None:
    source = tmp_path / "squad.json"
    source.write_text(
        json.dumps({"version": "v2.0", "data": [_squad_article(a, 6) for a in range(5)]})
    )
    report, task = _import(tmp_path, source)
    said = " ".join(report.lines)
    assert "SQuAD" in said and "5 questions without an answer left out" in said
    assert task.spec.type == "generation"
    assert len(task.train) + len(task.test) == 5 * 6 * 2 - 5
    assert report.documents == 30  # one per paragraph
    references = {item.reference for item in task.test}
    assert references and all(r.startswith("T") or r.isdigit() for r in references)


def test_the_hubs_flattened_squad_rows_read_the_first_answer(tmp_path) -> None:
    pd = pytest.importorskip("pandas")
    rows = []
    for article in range(4):
        for paragraph in _squad_article(article, 5)["paragraphs"]:
            for qa in paragraph["qas"]:
                texts = [a["text"] for a in qa["answers"]]
                rows.append(
                    {
                        "id": qa["id"],
                        "context": paragraph["context"],
                        "question": qa["question"],
                        "answers": {"text": texts, "answer_start": [0] * len(texts)},
                    }
                )
    source = tmp_path / "squad.parquet"
    pd.DataFrame(rows).to_parquet(source)  # the answers come back as numpy arrays
    report, task = _import(tmp_path, source)
    assert report.documents == 20
    assert len(task.train) + len(task.test) == 40 - 4
    assert "'context' passages become the corpus" in " ".join(report.lines)


def _class_label_dataset(count: int, offset: int, labeled: bool = True):
    datasets = pytest.importorskip("datasets")
    features = datasets.Features(
        {
            "sentence": datasets.Value("string"),
            "label": datasets.ClassLabel(names=["negative", "positive"]),
        }
    )
    words = {0: "dull", 1: "lovely"}
    sentences = [f"a {words[n % 2]} film, number {n}" for n in range(offset, offset + count)]
    labels = [n % 2 if labeled else -1 for n in range(offset, offset + count)]
    return datasets.Dataset.from_dict({"sentence": sentences, "label": labels}, features=features)


def test_a_saved_dataset_names_its_class_ids_and_skips_a_withheld_test_split(tmp_path) -> None:
    datasets = pytest.importorskip("datasets")
    folder = tmp_path / "glue"
    datasets.DatasetDict(
        {
            "train": _class_label_dataset(60, 0),
            "validation": _class_label_dataset(20, 1000),
            "test": _class_label_dataset(20, 2000, labeled=False),  # GLUE's: all -1
        }
    ).save_to_disk(str(folder))
    report, task = _import(tmp_path, folder)
    said = " ".join(report.lines)
    assert "'test' split has no labels" in said and "'validation' split is the test set" in said
    assert list(task.labels) == ["negative", "positive"]
    assert {item.reference for item in task.test} == {"negative", "positive"}


def test_a_hub_parquet_file_names_its_class_ids(tmp_path) -> None:
    source = tmp_path / "train-00000-of-00001.parquet"
    _class_label_dataset(40, 0).to_parquet(str(source))
    report, task = _import(tmp_path, source)
    assert list(task.labels) == ["negative", "positive"]
    assert "ClassLabel" in " ".join(report.lines)


def test_a_csv_without_a_header_is_read_by_its_contents(tmp_path) -> None:
    source = tmp_path / "ag_news.csv"
    ids = {topic: str(n) for n, topic in enumerate(TOPICS, start=1)}
    source.write_text(
        "".join(f'"{ids[t]}","{title}","{text}"\n' for t, title, text in _headlines(80))
    )
    report, task = _import(tmp_path, source)
    said = " ".join(" ".join(report.lines).split())
    assert "the first line is data" in said and "chosen by their contents" in said
    assert list(task.labels) == ["1", "2", "3", "4"]
    assert len(task.train) + len(task.test) == 80  # the first line is an example too
    assert all(item.question.startswith("Story ") for item in task.test)  # the longest column


def test_unknown_column_names_are_read_by_their_contents(tmp_path) -> None:
    source = tmp_path / "reviews.csv"
    source.write_text(
        "Id,Opinion,Score\n"
        + "".join(f'{n},"{text}",{n % 3 + 1}\n' for n, (_, _, text) in enumerate(_headlines(60)))
    )
    _, task = _import(tmp_path, source)
    assert list(task.labels) == ["1", "2", "3"]  # not Id: every value its own
    assert all(item.question.startswith("Story ") for item in task.test)


def test_a_label_column_known_by_name_beats_a_fewer_valued_one(tmp_path) -> None:
    # a shop's export: the product (3 values) would win on contents; "Rating" is the label
    source = tmp_path / "reviews.csv"
    source.write_text(
        "Review ID,Product,Review Text,Rating\n"
        + "".join(
            f'R{n},{("Cafe", "Diner", "Grill")[n % 3]},"{text}",{n % 5 + 1}\n'
            for n, (_, _, text) in enumerate(_headlines(60))
        )
    )
    report, task = _import(tmp_path, source)
    assert list(task.labels) == ["1", "2", "3", "4", "5"]
    assert "columns: 'Review Text' → 'Rating'" in report.lines[1]  # by their names


def test_columns_given_by_flag_are_not_second_guessed(tmp_path) -> None:
    from advisor.importing.formats import Options

    source = tmp_path / "reviews.csv"
    source.write_text(
        "Id,Opinion,Score\n"
        + "".join(f'{n},"{text}",{n % 3 + 1}\n' for n, (_, _, text) in enumerate(_headlines(60)))
    )
    with pytest.raises(ImportDataError, match="cannot tell which columns"):
        _import(tmp_path, source, options=Options(text_col="Opinion"))


def test_many_small_labels_still_give_a_test_set_of_the_asked_size() -> None:
    examples = [
        Example(
            ({"role": "user", "content": f"message {n} about {label}"},)
            + ({"role": "assistant", "content": f"label-{label}"},),
            Where("x.jsonl", n),
            group=str(n),
        )
        for label in range(30)
        for n in (2 * label, 2 * label + 1)
    ]
    split = split_examples(examples, test_size=0.2, seed=0, stratify=True)
    assert len(split.test) == 12  # 20% of 60; rounding each label's 0.4 alone gives none
    assert all(
        any(e.answer == t.answer for e in split.train) for t in split.test
    )  # no label loses its last training example


def test_a_split_with_nothing_left_to_test_says_so(tmp_path) -> None:
    source = tmp_path / "pairs.jsonl"
    # every label's two examples are near-duplicates, kept whole on the training side
    source.write_text(
        "".join(
            json.dumps({"text": f"how do I reset card {n}{suffix}", "label": f"reset-{n}"}) + "\n"
            for n in range(20)
            for suffix in ("", "?")
        )
    )
    with pytest.raises(ImportDataError, match="no test examples") as raised:
        _import(tmp_path, source)
    assert "--test-size" in raised.value.hint
    assert not (tmp_path / "task").exists()


def test_a_sentence_pair_task_reads_both_sentences(tmp_path) -> None:
    labels = ("entailment", "neutral", "contradiction")
    source = tmp_path / "mnli.jsonl"
    source.write_text(
        "".join(
            json.dumps(
                {
                    "premise": f"Person {n} walks a dog in park {n}.",
                    "hypothesis": f"Someone {n} is {('outdoors', 'happy', 'asleep')[n % 3]}.",
                    "label": labels[n % 3],
                }
            )
            + "\n"
            for n in range(60)
        )
    )
    report, task = _import(tmp_path, source)
    assert "sentence pair" in " ".join(report.lines)
    assert sorted(task.labels) == sorted(labels)
    question = task.test[0].question
    assert question.startswith("premise: Person ") and "\nhypothesis: Someone " in question


def test_boolq_answers_are_labels_read_with_their_passage(tmp_path) -> None:
    pd = pytest.importorskip("pandas")
    source = tmp_path / "boolq.parquet"
    pd.DataFrame(
        [
            {
                "question": f"is river {n} longer than river {n + 1}",
                "answer": bool(n % 2),  # a numpy bool once read back
                "passage": f"River {n} is {'longer' if n % 2 else 'shorter'} than river {n + 1}.",
            }
            for n in range(40)
        ]
    ).to_parquet(source)
    report, task = _import(tmp_path, source)
    assert task.spec.type == "classification" and list(task.labels) == ["false", "true"]
    # the passage decides the answer and no classifier reads a corpus: it is in the input
    question = task.test[0].question
    assert question.startswith("passage: River ") and "\nquestion: is river " in question
    assert report.documents == 0


def _pairs(labels: list, column: str = "label") -> list[dict]:
    return [
        {"premise": f"Person {n} walks dog {n}.", "hypothesis": f"Someone {n} is out.", column: x}
        for n, x in enumerate(labels)
    ]


@pytest.mark.parametrize(
    ("column", "labels", "marker"),
    [
        ("label", [0, 1, 2] * 30 + [-1] * 6, "-1"),  # MNLI / SNLI from the Hub, as JSONL
        ("gold_label", ["entailment", "neutral", "contradiction"] * 30 + ["-"] * 6, "-"),  # SNLI
    ],
)
def test_rows_without_a_gold_label_are_left_out(tmp_path, column, labels, marker) -> None:
    source = tmp_path / "nli.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in _pairs(labels, column)))
    report, task = _import(tmp_path, source)
    assert marker not in task.labels and len(task.labels) == 3
    assert len(task.train) + len(task.test) == 90
    assert any(f"6 rows labelled '{marker}'" in line for line in report.lines)


def test_a_common_minus_one_is_a_class(tmp_path) -> None:
    source = tmp_path / "sentiment.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in _pairs([-1, 0, 1] * 30)))
    _, task = _import(tmp_path, source)
    assert sorted(task.labels) == ["-1", "0", "1"]


def test_squad_answers_that_repeat_are_still_free_text(tmp_path) -> None:
    # years and counts repeat across questions; they are spans of a passage, not labels
    source = tmp_path / "squad.json"
    articles = [
        {
            "title": f"Article {a}",
            "paragraphs": [
                {
                    "context": f"Town {a}-{p} was founded in {1800 + p % 3} by {p % 2 + 2} families.",
                    "qas": [
                        {
                            "id": f"{a}-{p}-{q}",
                            "question": f"{('When', 'How many families')[q]} founded town {a}-{p}?",
                            "answers": [{"text": (str(1800 + p % 3), str(p % 2 + 2))[q]}],
                        }
                        for q in range(2)
                    ],
                }
                for p in range(8)
            ],
        }
        for a in range(3)
    ]
    source.write_text(json.dumps({"version": "1.1", "data": articles}))
    report, task = _import(tmp_path, source)
    assert task.spec.type == "generation", report.lines
    assert report.documents == 24


def test_a_semicolon_separated_csv_is_read_with_its_own_delimiter(tmp_path) -> None:
    source = tmp_path / "excel.csv"
    rows = [
        (f"Story {n}, told by reader {n}; {text}", topic)
        for n, (topic, _, text) in enumerate(_headlines(40))
    ]
    source.write_text("text;topic\n" + "".join(f'"{t}";{label}\n' for t, label in rows))
    report, task = _import(tmp_path, source)
    assert "';'-separated" in " ".join(" ".join(report.lines).split())
    assert sorted(task.labels) == sorted(TOPICS)
    assert all(", told by reader " in item.question for item in task.test)


def test_json_records_under_another_key_are_found(tmp_path) -> None:
    source = tmp_path / "task.json"
    source.write_text(
        json.dumps(
            {
                "version": 1,
                "Instances": [
                    {"input": f"What is {n} plus one?", "output": [str(n + 1)]} for n in range(30)
                ],
            }
        )
    )
    _, task = _import(tmp_path, source)
    assert {item.reference for item in task.test} <= {str(n + 1) for n in range(30)}
    assert len(task.train) + len(task.test) == 30


def test_a_compressed_file_is_read_and_named_as_given(tmp_path) -> None:
    import gzip

    source = tmp_path / "train.jsonl.gz"
    rows = [{"text": text, "label": topic} for topic, _, text in _headlines(40)]
    with gzip.open(source, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in rows)
    report, task = _import(tmp_path, source)
    assert sorted(task.labels) == sorted(TOPICS)
    written = (tmp_path / "task" / "test.jsonl").read_text().splitlines()
    assert all(json.loads(line)["source"].startswith(f"{source}:") for line in written)

    broken = tmp_path / "broken.jsonl.gz"
    with gzip.open(broken, "wt", encoding="utf-8") as handle:
        handle.write('{"text": "a", "label": "x"}\n{"text": "b", "label"\n')
    with pytest.raises(ImportDataError) as raised:
        import_task(ImportRequest(sources=(broken,), to=tmp_path / "other"))
    assert raised.value.file == str(broken) and raised.value.line == 2
    assert not (tmp_path / "other").exists()


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


MC_QUESTIONS = [f"Which tool {n} fits job {n}?" for n in range(40)]


@pytest.mark.parametrize(
    ("shape", "row"),
    [
        (  # ARC / OpenBookQA on the Hub: choices as {"text": [...], "label": [...]}
            "arc",
            lambda n, q: {
                "id": f"Mercury_{n}",
                "question": q,
                "choices": {"text": ["saw", "drill", "hammer", "glue"], "label": list("ABCD")},
                "answerKey": "ABCD"[n % 4],
            },
        ),
        (  # CommonsenseQA: the stem and its choices nested in "question"
            "csqa",
            lambda n, q: {
                "id": f"q{n}",
                "question": {
                    "stem": q,
                    "choices": [
                        {"label": x, "text": t} for x, t in zip("ABCD", "wxyz", strict=True)
                    ],
                },
                "answerKey": "ABCD"[n % 4],
            },
        ),
        (  # HellaSwag / MMLU: a list of endings and the index of the right one
            "hellaswag",
            lambda n, q: {"ctx": q, "endings": ["saw", "drill", "hammer", "glue"], "label": n % 4},
        ),
        (  # PIQA: two solutions
            "piqa",
            lambda n, q: {"goal": q, "sol1": "use a saw", "sol2": "use glue", "label": n % 2},
        ),
    ],
)
def test_multiple_choice_sets_put_the_options_in_the_input(tmp_path, shape, row) -> None:
    source = _jsonl(tmp_path / f"{shape}.jsonl", [row(n, q) for n, q in enumerate(MC_QUESTIONS)])
    report, task = _import(tmp_path, source)
    assert task.spec.type == "classification" and "multiple choice" in " ".join(report.lines)
    item = task.test[0]
    assert item.question.startswith("Which tool ") and "\nA) " in item.question
    assert "\nB) " in item.question and item.reference in "ABCD"


def test_a_json_object_of_splits_gives_its_test_split(tmp_path) -> None:
    rows = [{"text": f"story {n} about the {w}", "label": w} for n, w in enumerate(["a", "b"] * 30)]
    source = tmp_path / "splits.json"
    source.write_text(json.dumps({"train": rows[:40], "test": rows[40:]}))
    report, task = _import(tmp_path, source)
    assert (len(task.train), len(task.test)) == (40, 20)
    assert "split: as given" in " ".join(report.lines)


def test_rows_with_an_empty_cell_are_left_out_with_a_note(tmp_path) -> None:
    source = tmp_path / "reviews.csv"
    lines = [f"review {n} of the {('pen', 'cup', 'bag')[n % 3]},{n % 3}.0" for n in range(60)]
    lines[4] = "review 4 of the bag,"  # no label
    lines[9] = ",1.0"  # no text
    source.write_text("review,rating\n" + "\n".join(lines) + "\n")
    report, task = _import(tmp_path, source)
    text = " ".join(report.lines)
    assert "1 row with no 'rating' left out (the first: " in text and "reviews.csv:6" in text
    assert "1 row with no 'review' left out" in text
    assert sorted(task.labels) == ["0", "1", "2"]  # Excel's 1.0 is the class 1
    assert len(task.train) + len(task.test) == 58


def test_class_ids_take_the_names_of_a_names_column(tmp_path) -> None:
    names = ["sci.space", "rec.autos", "talk.politics"]
    rows = [
        {"text": f"post {n} on {names[n % 3]}", "target": n % 3, "target_names": names[n % 3]}
        for n in range(45)
    ]
    _, task = _import(tmp_path, _jsonl(tmp_path / "news.jsonl", rows))
    assert sorted(task.labels) == sorted(names)


def test_triviaqa_answers_read_their_value(tmp_path) -> None:
    rows = [
        {
            "question": f"Which city hosted games {n}?",
            "answer": {"value": f"City {n}", "aliases": []},
        }
        for n in range(30)
    ]
    _, task = _import(tmp_path, _jsonl(tmp_path / "trivia.jsonl", rows))
    assert task.spec.type == "generation" and task.test[0].reference.startswith("City ")


@pytest.mark.parametrize(
    ("size", "message"), [(500.0, "asks for 500 test items"), (1.5, "neither")]
)
def test_a_test_size_that_cannot_be_met_is_refused(tmp_path, size, message) -> None:
    rows = [{"text": f"story {n}", "label": "ab"[n % 2]} for n in range(40)]
    with pytest.raises(ImportDataError, match=message):
        _import(tmp_path, _jsonl(tmp_path / "x.jsonl", rows), test_size=size)


def test_a_tab_separated_file_without_a_suffix_is_read_by_its_contents(tmp_path) -> None:
    # the SMS Spam Collection: `ham<TAB>text`, in a file called SMSSpamCollection
    source = tmp_path / "SMSSpamCollection"
    source.write_text(
        "".join(
            f"{('ham', 'spam')[n % 2]}\tmessage number {n} about the offer\n" for n in range(40)
        )
    )
    report, task = _import(tmp_path, source)
    assert sorted(task.labels) == ["ham", "spam"] and "by its contents" in " ".join(report.lines)


def test_one_label_in_a_list_is_unwrapped_and_several_are_refused(tmp_path) -> None:
    rows = [{"text": f"post {n} is fine", "labels": [n % 3]} for n in range(45)]
    _, task = _import(tmp_path, _jsonl(tmp_path / "single.jsonl", rows))
    assert sorted(task.labels) == ["0", "1", "2"]
    rows[7]["labels"] = [1, 2]
    with pytest.raises(ImportDataError, match="multi-label classification is not supported"):
        _import(tmp_path / "again", _jsonl(tmp_path / "multi.jsonl", rows))


def test_token_classification_is_refused_with_what_it_is(tmp_path) -> None:
    rows = [{"tokens": ["EU", "rejects", "it"], "ner_tags": [3, 0, 0]} for _ in range(20)]
    with pytest.raises(ImportDataError, match="token classification"):
        _import(tmp_path, _jsonl(tmp_path / "conll.jsonl", rows))


def test_import_notes_labels_only_trained_or_only_tested(tmp_path) -> None:
    train = _jsonl(
        tmp_path / "train.jsonl", [{"text": f"t {n}", "label": "ab"[n % 2]} for n in range(20)]
    )
    test = _jsonl(
        tmp_path / "test.jsonl", [{"text": f"q {n}", "label": "ac"[n % 2]} for n in range(6)]
    )
    report = import_task(ImportRequest(sources=(train,), test_file=test, to=tmp_path / "task"))
    text = " ".join(report.lines)
    assert "1 label(s) only in the test set: c" in text and "1 label(s) never tested: b" in text


def test_gsm8k_final_answers_become_the_facts(tmp_path) -> None:
    rows = [
        {
            "question": f"Ann has {n} apples and buys {n + 2} more. How many now?",
            "answer": f"Ann has {n} + {n + 2} = <<{n}+{n + 2}={2 * n + 2}>>{2 * n + 2}.\n#### {2 * n + 2}",
        }
        for n in range(30)
    ]
    report, task = _import(tmp_path, _jsonl(tmp_path / "gsm8k.jsonl", rows))
    item = task.test[0]
    assert item.facts == (item.reference.rsplit("#### ", 1)[1],)
    assert task.spec.score != "token_f1" and "final answer" in " ".join(report.lines)


def test_text_col_repeated_reads_the_columns_joined(tmp_path) -> None:
    # DBpedia / Yahoo Answers: a class id, a title and its body, no header
    from typer.testing import CliRunner

    from advisor.cli import app

    source = tmp_path / "dbpedia.csv"
    source.write_text(
        "".join(
            f'{n % 3 + 1},"Title {n}","Body {n} of the {topic} article."\n'
            for n, (topic, _, _) in enumerate(_headlines(45))
        )
    )
    to = tmp_path / "task"
    args = ["tasks", "import", str(source), "--to", str(to), "--label-col", "column 1"]
    result = CliRunner().invoke(app, [*args, "--text-col", "column 2", "--text-col", "column 3"])
    assert result.exit_code == 0, result.output
    question = load_task(to).test[0].question
    assert question.startswith("column 2: Title ") and "\ncolumn 3: Body " in question


def test_a_test_split_of_empty_labels_is_skipped_for_validation(tmp_path) -> None:
    # HellaSwag on the Hub: the test split's `label` is "" in every row
    datasets = pytest.importorskip("datasets")

    def split(count: int, offset: int, labeled: bool = True):
        rows = [
            {
                "ctx": f"A man {n} lifts a box",
                "endings": ["up", "down"],
                "label": str(n % 2) if labeled else "",
            }
            for n in range(offset, offset + count)
        ]
        return datasets.Dataset.from_list(rows)

    folder = tmp_path / "hellaswag"
    datasets.DatasetDict(
        {"train": split(40, 0), "validation": split(10, 100), "test": split(10, 200, labeled=False)}
    ).save_to_disk(str(folder))
    report, task = _import(tmp_path, folder)
    said = " ".join(report.lines)
    assert "'test' split has no labels" in said and "'validation' split is the test set" in said
    assert len(task.test) == 10 and set(task.labels) == {"A", "B"}


def test_a_few_test_repeats_of_training_questions_are_left_out_with_a_note(tmp_path) -> None:
    train = _jsonl(
        tmp_path / "train.jsonl",
        [{"text": f"film {n} was fine", "label": "ab"[n % 2]} for n in range(60)],
    )
    test_rows = [{"text": f"movie {n} was great", "label": "ab"[n % 2]} for n in range(39)]
    test = _jsonl(tmp_path / "test.jsonl", [*test_rows, {"text": "film 3 was fine", "label": "b"}])
    report = import_task(ImportRequest(sources=(train,), test_file=test, to=tmp_path / "task"))
    assert report.test == 39
    assert "1 test item(s) that repeat a training question left out" in " ".join(report.lines)


def test_arc_numbered_answer_keys_become_letters(tmp_path) -> None:
    def row(n: int) -> dict:
        keys = list("1234") if n % 5 == 0 else list("ABCD")  # ARC: a few items keyed 1-4
        return {
            "question": f"Which tool {n} fits job {n}?",
            "choices": {"text": ["saw", "drill", "hammer", "glue"], "label": keys},
            "answerKey": keys[n % 4],
        }

    _, task = _import(tmp_path, _jsonl(tmp_path / "arc.jsonl", [row(n) for n in range(40)]))
    assert set(task.labels) == set("ABCD")  # not '2', '3' beside 'B', 'C'
    # item n is keyed at position n % 4 either way: "3" is C, as "C" is
    numbers = [int(item.question.split()[2]) for item in task.test]
    assert [item.reference for item in task.test] == ["ABCD"[n % 4] for n in numbers]


def test_a_saved_squad_gives_every_splits_passages_to_the_corpus(tmp_path) -> None:
    datasets = pytest.importorskip("datasets")

    def split(offset: int) -> object:
        rows = [
            {
                "context": f"Town {n} was founded by {n} families.",
                "question": f"Who founded town {n}?",
                "answers": {"text": [f"{n} families"], "answer_start": [0]},
            }
            for n in range(offset, offset + 20)
        ]
        return datasets.Dataset.from_list(rows)

    folder = tmp_path / "squad"
    datasets.DatasetDict({"train": split(0), "validation": split(100)}).save_to_disk(str(folder))
    report, task = _import(tmp_path, folder)
    assert report.documents == 40 and len(task.test) == 20


def test_a_saved_dataset_without_a_train_split_never_trains_on_its_test_split(tmp_path) -> None:
    # MMLU saved with `save_to_disk`: test, validation and dev, no train
    datasets = pytest.importorskip("datasets")
    splits = {"test": (40, 0), "validation": (20, 1000), "dev": (5, 2000)}
    folder = tmp_path / "mmlu"
    datasets.DatasetDict(
        {name: _class_label_dataset(*shape) for name, shape in splits.items()}
    ).save_to_disk(str(folder))
    report, task = _import(tmp_path, folder)
    said = " ".join(report.lines)
    assert "'test' split is the test set" in said
    assert "no 'train' split: trained on 'validation' and 'dev'" in said
    assert len(task.test) == 40 and len(task.train) == 25


def test_train_and_test_splits_are_known_by_their_names_and_the_rest_named(tmp_path) -> None:
    # UltraChat: train_sft, test_sft, train_gen, test_gen
    datasets = pytest.importorskip("datasets")

    def chats(count: int, offset: int):
        rows = [
            {
                "messages": [
                    {"role": "user", "content": f"Tell me about topic {n}, please."},
                    {"role": "assistant", "content": f"Topic {n} is about thing {n * 7}."},
                ]
            }
            for n in range(offset, offset + count)
        ]
        return datasets.Dataset.from_list(rows)

    folder = tmp_path / "ultrachat"
    shapes = {
        "train_sft": (40, 0),
        "test_sft": (10, 100),
        "train_gen": (8, 200),
        "test_gen": (4, 300),
    }
    datasets.DatasetDict({n: chats(*shape) for n, shape in shapes.items()}).save_to_disk(
        str(folder)
    )
    report, task = _import(tmp_path, folder)
    said = " ".join(report.lines)
    assert "'test_sft' split is the test set" in said
    assert "trained on 'train_sft'" in said
    assert "not used: the 'train_gen' and 'test_gen' splits" in said
    assert len(task.train) == 40 and len(task.test) == 10


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("glue_test.csv", "text,label\n" + "".join(f"message {n} here,-1\n" for n in range(6))),
        (
            "trivia_test.jsonl",
            "".join(
                json.dumps({"question": f"Who wrote book {n}?", "answer": {"value": "<unk>"}})
                + "\n"
                for n in range(6)
            ),
        ),
        ("csqa_test.csv", "text,label\n" + "".join(f"question {n} asked,\n" for n in range(6))),
    ],
)
def test_a_given_test_file_without_answers_is_refused(tmp_path, name, rows) -> None:
    train = tmp_path / "train.csv"
    train.write_text(
        "text,label\n"
        + "".join(f"review {n} was {('bad', 'good')[n % 2]},{n % 2}\n" for n in range(30))
    )
    given = tmp_path / name
    given.write_text(rows)
    with pytest.raises(ImportDataError, match="no answers to score against") as caught:
        import_task(ImportRequest(sources=(train,), to=tmp_path / "task", test_file=given))
    assert str(caught.value.file) == str(given) and not (tmp_path / "task").exists()


def test_a_hub_parquet_file_reads_lists_and_names_a_sequence_of_class_ids(tmp_path) -> None:
    datasets = pytest.importorskip("datasets")
    chats = datasets.Dataset.from_list(
        [
            {
                "prompt": f"Tell me about topic {n}",
                "messages": [
                    {"role": "user", "content": f"Tell me about topic {n}"},
                    {"role": "assistant", "content": f"Topic {n} is about thing {n * 7}."},
                ],
            }
            for n in range(30)
        ]
    )
    source = tmp_path / "ultrachat.parquet"
    chats.to_parquet(str(source))  # pandas would read `messages` as numpy arrays
    report, task = _import(tmp_path, source)
    assert len(task.train) + len(task.test) == 30
    assert task.test[0].reference.startswith("Topic ")

    names = ["admiration", "anger", "joy"]
    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "labels": datasets.Sequence(datasets.ClassLabel(names=names)),
        }
    )
    emotions = datasets.Dataset.from_dict(
        {
            "text": [f"message {n} feels like {names[n % 3]}" for n in range(45)],
            "labels": [[n % 3] for n in range(45)],
        },
        features=features,
    )
    source = tmp_path / "go_emotions.parquet"
    emotions.to_parquet(str(source))
    report, task = _import(tmp_path, source, force=True)
    assert sorted(task.labels) == names


def _python_text_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_csv_cells_that_print_lists_and_records_are_read_as_them(tmp_path) -> None:
    # `Dataset.to_csv` / pandas' `to_csv` write nested fields as their Python repr
    squad = _python_text_csv(
        tmp_path / "squad.csv",
        "id,question,context,answers",
        [
            f"q{n},Who won game {n}?,Game {n} was won by team {n % 7}.,"
            f"\"{{'text': array(['team {n % 7}'], dtype=object), 'answer_start': array([17])}}\""
            for n in range(30)
        ],
    )
    report, task = _import(tmp_path, squad)
    assert "'answers': lists and records written as Python text" in " ".join(report.lines)
    assert task.spec.type == "generation" and report.documents == 30
    assert {item.reference for item in task.test} <= {f"team {n}" for n in range(7)}

    arc = _python_text_csv(
        tmp_path / "arc.csv",
        "id,question,choices,answerKey",
        [
            f"x{n},Which material {n} conducts heat?,"
            f"\"{{'text': array(['metal {n}', 'wood {n}', 'glass'], dtype=object), "
            f"'label': array(['A', 'B', 'C'], dtype=object)}}\",{'ABC'[n % 3]}"
            for n in range(30)
        ],
    )
    _, task = _import(tmp_path, arc, force=True)
    assert set(task.labels) == {"A", "B", "C"} and "metal" in task.test[0].question

    emotions = _python_text_csv(
        tmp_path / "go_emotions.csv",
        "text,labels",
        [f"message {n} feels like {n % 3},[{n % 3}]" for n in range(30)],
    )
    _, task = _import(tmp_path, emotions, force=True)
    assert set(task.labels) == {"0", "1", "2"}

    chats = tmp_path / "chats.csv"  # JSON in the cells, with its true and null
    pd = pytest.importorskip("pandas")
    pd.DataFrame(
        {
            "messages": [
                json.dumps(
                    [
                        {"role": "user", "content": f"hello number {n}", "flagged": False},
                        {"role": "assistant", "content": f"hi {n}", "name": None},
                    ]
                )
                for n in range(30)
            ]
        }
    ).to_csv(chats, index=False)
    _, task = _import(tmp_path, chats, force=True)
    assert task.test[0].reference.startswith("hi ")


def test_bracketed_text_stays_text(tmp_path) -> None:
    notes = _python_text_csv(
        tmp_path / "notes.csv",
        "text,label",
        [f"[draft {n}] the {('bad', 'good')[n % 2]} review,{n % 2}" for n in range(30)],
    )
    report, task = _import(tmp_path, notes)
    assert "Python text" not in " ".join(report.lines)
    assert task.test[0].question.startswith("[draft ")


def test_a_title_beside_the_text_joins_the_input_of_a_classification(tmp_path) -> None:
    # Amazon Polarity and DBpedia: label, title, content
    rows = [
        {
            "label": n % 2,
            "title": f"{('Awful', 'Great')[n % 2]} record {n}",
            "content": f"Bought this album number {n} last week.",
        }
        for n in range(40)
    ]
    source = _jsonl(tmp_path / "amazon_polarity.jsonl", rows)
    report, task = _import(tmp_path, source)
    assert "'title' and 'content' are the input" in " ".join(report.lines)
    question = task.test[0].question
    assert question.startswith("title: ") and "\ncontent: Bought this album" in question

    _, task = _import(tmp_path, source, force=True, options=Options(text_col="content"))
    assert task.test[0].question.startswith("Bought this album")

    emails = [  # Enron spam: Subject, Message, Spam/Ham
        {
            "Subject": f"offer {n}",
            "Message": f"mail {n} body text",
            "Spam/Ham": ("ham", "spam")[n % 2],
        }
        for n in range(40)
    ]
    _, task = _import(tmp_path, _jsonl(tmp_path / "enron.jsonl", emails), force=True)
    assert task.test[0].question.startswith("Subject: offer ")


def test_other_flag_columns_of_a_multi_label_set_are_named(tmp_path) -> None:
    # Jigsaw's toxic comments: a 0/1 column per kind of toxicity
    rows = [
        {
            "id": f"c{n:04d}",
            "comment_text": f"comment number {n} says {('thanks', 'you fool')[n % 2]}",
            "toxic": n % 2,
            "obscene": int(n % 4 == 1),
            "insult": int(n % 6 == 1),
        }
        for n in range(40)
    ]
    report, task = _import(tmp_path, _jsonl(tmp_path / "jigsaw.jsonl", rows))
    said = " ".join(report.lines)
    assert "'obscene', 'insult' also hold 0/1 flags" in said and "only 'toxic' is read" in said
    assert set(task.labels) == {"0", "1"}


@pytest.mark.parametrize(
    ("shape", "row", "first"),
    [
        (  # MMLU's CSV files: question, A, B, C, D, answer
            "mmlu",
            lambda n, q: {
                "question": q,
                "A": f"saw {n}",
                "B": "drill",
                "C": "nail",
                "D": "glue",
                "answer": "ABCD"[n % 4],
            },
            "A) saw",
        ),
        (  # MedMCQA: opa..opd and the index of the right one, from 0
            "medmcqa",
            lambda n, q: {
                "question": q,
                "opa": f"saw {n}",
                "opb": "drill",
                "opc": 12,
                "opd": "glue",
                "cop": n % 4,
            },
            "A) saw",
        ),
        (  # WinoGrande: option1, option2 and an answer counted from 1
            "winogrande",
            lambda n, q: {
                "sentence": q,
                "option1": f"saw {n}",
                "option2": "glue",
                "answer": str(n % 2 + 1),
            },
            "A) saw",
        ),
    ],
)
def test_options_in_columns_are_lettered_in_order(tmp_path, shape, row, first) -> None:
    rows = [row(n, q) for n, q in enumerate(MC_QUESTIONS)]
    _, task = _import(tmp_path, _jsonl(tmp_path / f"{shape}.jsonl", rows))
    for item in task.test:
        n = MC_QUESTIONS.index(item.question.splitlines()[0])
        assert f"\n{first} {n}\n" in item.question
        expected = row(n, MC_QUESTIONS[n])
        key = {"mmlu": "answer", "medmcqa": "cop", "winogrande": "answer"}[shape]
        value = expected[key]
        letter = value if shape == "mmlu" else "ABCD"[int(value) - (shape == "winogrande")]
        assert item.reference == letter


def test_mmlus_own_header_less_csv_is_read_as_multiple_choice(tmp_path) -> None:
    source = tmp_path / "anatomy_test.csv"  # MMLU's data/test/*.csv: no header row
    source.write_text(
        "".join(
            f'"{q}",saw {n},drill,nail,glue,{"ABCD"[n % 4]}\n' for n, q in enumerate(MC_QUESTIONS)
        )
    )
    report, task = _import(tmp_path, source)
    assert "multiple choice" in " ".join(report.lines) and set(task.labels) == set("ABCD")
    item = task.test[0]
    n = MC_QUESTIONS.index(item.question.splitlines()[0])
    assert f"\nA) saw {n}\nB) drill\n" in item.question and item.reference == "ABCD"[n % 4]
