"""The data formats `advisor tasks import` reads, one reader per format behind one registry.

Files become records first (`advisor.importing.sources`: JSON Lines, JSON,
CSV/TSV and Parquet through pandas, a saved Hugging Face dataset through
`datasets`); a format then turns records into chat examples, or into corpus
documents. Each format knows how to recognise one record of its own and checks
every record it converts, naming the file, the line (or row) and the field.

| name                  | a record                                              | also known as |
|-----------------------|-------------------------------------------------------|---------------|
| chat                  | {"messages": [{"role", "content", "weight"?}, ...]}   | OpenAI chat fine-tuning, TRL conversational |
| prompt-completion     | {"prompt": "...", "completion": "..."}                | Bedrock, TRL prompt-completion |
| chat-prompt-completion| {"prompt": [messages], "completion": [messages]}      | TRL conversational prompt-completion |
| text                  | {"text": "..."} (becomes the corpus)                  | TRL language modeling |
| alpaca                | {"instruction", "input"?, "output"}                   | Dolly (context, response) |
| sharegpt              | {"conversations": [{"from", "value"}, ...]}           | |
| squad                 | {"paragraphs": [{"context", "qas": [{"question", "answers"}]}]} | SQuAD 1.1 / 2.0 JSON |
| table                 | named columns (--text-col/--label-col or --question-col/--answer-col) | CSV, TSV, Parquet, JSONL |
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from advisor.errors import AdvisorError


class ImportDataError(AdvisorError):
    """Input `advisor tasks import` cannot read (named so it never shadows Python's)."""


@dataclass(frozen=True)
class Where:
    """Where a record came from: the file and its line (JSONL), row (tables) or item."""

    file: str
    line: int | None = None
    unit: str = "line"

    def error(self, message: str, field: str | None = None, hint: str | None = None):
        if self.unit == "line" or self.line is None:
            return ImportDataError(message, file=self.file, line=self.line, field=field, hint=hint)
        return ImportDataError(message, file=self.place, field=field, hint=hint)

    @property
    def place(self) -> str:
        """Where, in words: "data.jsonl:3", "data.json item 3", "x.parquet row 12"."""
        if self.unit == "line" or self.line is None:
            return str(self)
        return f"{self.file} {self.unit} {self.line}"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True)
class Example:
    """One imported example: the turns before the answer, the answer last.

    `system` is the record's own system message (the importer makes the most
    common one the task's system prompt); `group` ties together the examples
    cut from one conversation, so a split keeps them on one side.
    """

    turns: tuple[dict[str, str], ...]  # user / assistant turns, ending with the assistant's
    where: Where
    group: str
    system: str | None = None

    @property
    def question(self) -> str:
        return next(t["content"] for t in reversed(self.turns) if t["role"] == "user")

    @property
    def answer(self) -> str:
        return self.turns[-1]["content"]


@dataclass
class Converted:
    examples: list[Example] = field(default_factory=list)
    documents: list[tuple[str, str]] = field(default_factory=list)  # (name, text)
    notes: list[str] = field(default_factory=list)
    task_type: str | None = None  # what the data's shape implies (extractive answers: generation)


@dataclass(frozen=True)
class Options:
    text_col: str | None = None
    label_col: str | None = None
    question_col: str | None = None
    answer_col: str | None = None
    text_cols: tuple[str, ...] = ()  # several text columns, read joined (--text-col repeated)


Records = Sequence[tuple[Where, dict[str, Any]]]


@dataclass(frozen=True)
class Format:
    name: str
    title: str
    recognises: Callable[[dict[str, Any]], bool]
    convert: Callable[[Records, Options], Converted]
    aliases: tuple[str, ...] = ()


# ---------------------------------------------------------------- shared checks


def _text(value: Any, where: Where, field_name: str) -> str:
    """A non-empty string; OpenAI-style content parts are joined (text parts only)."""
    if isinstance(value, list) and all(isinstance(p, dict) for p in value):
        parts = []
        for part in value:
            if part.get("type", "text") != "text" or not isinstance(part.get("text"), str):
                raise where.error(
                    f"only text content is supported, found a '{part.get('type')}' part",
                    field_name,
                )
            parts.append(part["text"])
        value = "".join(parts)
    if value is None or (isinstance(value, float) and value != value):  # pandas NaN
        raise where.error("missing value", field_name)
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise where.error(f"expected text, got {type(value).__name__}", field_name)
    text = str(value).strip()
    if not text:
        raise where.error("empty", field_name)
    return text


ROLE_NAMES = {
    "system": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "bot": "assistant",
    "model": "assistant",
    "chatgpt": "assistant",
}


def _conversation_examples(
    messages: list[dict[str, str | int]], where: Where, field_name: str
) -> list[Example]:
    """One example per trained assistant turn (weight 1, the default; OpenAI's
    `weight: 0` turns stay as context only), each with the turns before it."""
    system = None
    turns: list[dict[str, str]] = []
    examples = []
    for i, message in enumerate(messages):
        role = message["role"]
        if role == "system":
            if turns:
                raise where.error(
                    "a system message after the conversation began", f"{field_name}[{i}]"
                )
            system = message["content"]
            continue
        turns.append({"role": role, "content": message["content"]})
        if role == "assistant" and message.get("weight", 1) != 0:
            if not any(t["role"] == "user" for t in turns):
                raise where.error("an assistant turn before any user turn", f"{field_name}[{i}]")
            examples.append(Example(tuple(turns), where, group=str(where), system=system))
    if not examples:
        raise where.error(
            "no assistant answer to learn (every assistant turn has weight 0, or there is none)",
            field_name,
        )
    return examples


def _messages(value: Any, where: Where, field_name: str, *, role_key="role", content_key="content"):
    if not isinstance(value, list) or not value:
        raise where.error("expected a non-empty list of messages", field_name)
    parsed = []
    for i, message in enumerate(value):
        here = f"{field_name}[{i}]"
        if not isinstance(message, dict):
            raise where.error(f"expected an object with {role_key} and {content_key}", here)
        role = ROLE_NAMES.get(str(message.get(role_key, "")).lower())
        if role is None:
            known = ", ".join(sorted(ROLE_NAMES))
            raise where.error(
                f"unknown role {message.get(role_key)!r} (one of {known})", f"{here}.{role_key}"
            )
        weight = message.get("weight", 1)
        if weight not in (0, 1):
            raise where.error("weight is 0 or 1", f"{here}.weight")
        parsed.append(
            {
                "role": role,
                "content": _text(message.get(content_key), where, f"{here}.{content_key}"),
                "weight": weight,
            }
        )
    return parsed


# ---------------------------------------------------------------- the formats


def _chat(records: Records, options: Options) -> Converted:
    out = Converted()
    for where, record in records:
        out.examples += _conversation_examples(
            _messages(record.get("messages"), where, "messages"), where, "messages"
        )
    return out


def _prompt_completion(records: Records, options: Options) -> Converted:
    out = Converted()
    for where, record in records:
        prompt = _text(record.get("prompt"), where, "prompt")
        completion = _text(record.get("completion"), where, "completion")
        turns = ({"role": "user", "content": prompt}, {"role": "assistant", "content": completion})
        out.examples.append(Example(turns, where, group=str(where)))
    return out


def _chat_prompt_completion(records: Records, options: Options) -> Converted:
    out = Converted()
    for where, record in records:
        prompt = _messages(record.get("prompt"), where, "prompt")
        completion = _messages(record.get("completion"), where, "completion")
        if any(m["role"] != "assistant" for m in completion):
            raise where.error("the completion holds assistant messages only", "completion")
        context = [{**m, "weight": 0} for m in prompt]  # the loss is on the completion only
        out.examples += _conversation_examples([*context, *completion], where, "completion")
    return out


def _text_documents(records: Records, options: Options) -> Converted:
    out = Converted()
    for n, (where, record) in enumerate(records, start=1):
        out.documents.append((f"text-{n:05d}", _text(record.get("text"), where, "text")))
    out.notes.append(
        f"{len(out.documents)} plain texts (language-modelling data) become the corpus: "
        "what rag retrieves and cpt trains on"
    )
    return out


def _alpaca(records: Records, options: Options) -> Converted:
    """Alpaca's instruction / input / output, and Dolly's instruction / context / response."""
    out = Converted()
    for where, record in records:
        instruction = _text(record.get("instruction"), where, "instruction")
        extra = record.get("input", record.get("context"))
        question = instruction
        if isinstance(extra, str) and extra.strip():
            question = f"{instruction}\n\n{extra.strip()}"
        answer_field = "output" if "output" in record or "response" not in record else "response"
        turns = (
            {"role": "user", "content": question},
            {"role": "assistant", "content": _text(record.get(answer_field), where, answer_field)},
        )
        system = record.get("system") if isinstance(record.get("system"), str) else None
        out.examples.append(Example(turns, where, group=str(where), system=system or None))
    return out


def _sharegpt(records: Records, options: Options) -> Converted:
    out = Converted()
    for where, record in records:
        messages = _messages(
            record.get("conversations"),
            where,
            "conversations",
            role_key="from",
            content_key="value",
        )
        if isinstance(record.get("system"), str) and record["system"].strip():
            messages.insert(0, {"role": "system", "content": record["system"].strip(), "weight": 1})
        out.examples += _conversation_examples(messages, where, "conversations")
    return out


TEXT_COLUMNS = (
    "text",
    "sentence",
    "utterance",
    "query",
    "message",
    "question",
    "input",
    "prompt",
    "review",
    "content",
    "body",
    "document",
    "article",
    "tweet",
    "comment",
    "review_text",  # Amazon's reviewText, a shop's "Review Text"
    "review_body",
    "comment_text",
    "description",
    "dialogue",  # SAMSum, DialogSum
)
# names before class ids: SetFit-style tables carry both `label` (0, 1...) and `label_text`
LABEL_COLUMNS = (
    "label_text",
    "label_name",
    "label",
    "labels",
    "intent",
    "category",
    "class",
    "sentiment",
    "emotion",
    "topic",
    "target",
    "tag",
    "gold_label",
    "rating",
    "stars",
    "star_rating",
)
ANSWER_COLUMNS = (
    "answer",
    "answers",
    "response",
    "output",
    "completion",
    "reference",
    "reply",
    "summary",
    "highlights",
)
CONTEXT_COLUMNS = ("context", "passage")
# a title beside a text column joins it in a classification's input (Amazon Polarity's
# `title` and `content`, DBpedia's); never beside a question (SQuAD's article title)
TITLE_COLUMNS = ("title", "subject", "headline", "review_title", "review_headline")
BODY_COLUMNS = (
    "text",
    "content",
    "body",
    "message",  # an email's subject and message (Enron spam)
    "description",
    "review",
    "review_text",
    "review_body",
    "document",
    "article",
)
# Sentence-pair tasks (GLUE's MNLI, RTE, MRPC, QQP; SNLI): the input is both texts.
PAIR_COLUMNS = (("premise", "hypothesis"), ("sentence1", "sentence2"), ("question1", "question2"))


def _pair_columns(columns: list[str], options: Options) -> tuple[str, str] | None:
    if options.text_col or options.question_col:
        return None
    lowered = {column_key(c): c for c in columns}
    return next(
        ((lowered[a], lowered[b]) for a, b in PAIR_COLUMNS if a in lowered and b in lowered),
        None,
    )


def _column(
    columns: list[str], wanted: str | None, guesses: Sequence[str], flag: str, where: Where
):
    if wanted is not None:
        if wanted not in columns:
            close = difflib.get_close_matches(wanted, columns, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"columns: {', '.join(columns)}"
            raise where.error(f"no column '{wanted}'", flag, hint=hint)
        return wanted
    lowered = {column_key(c): c for c in columns}
    return next((lowered[g] for g in guesses if g in lowered), None)


def column_key(name: str) -> str:
    """A column name as the known names are written: "Review Text", "reviewText" and
    "review-text" are all `review_text`."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[\s\-]+", "_", snake).lower()


def table_columns(
    columns: list[str], options: Options, where: Where, records: Records = ()
) -> tuple[str, str, str]:
    """(input column, output column, task type) for a table: from the flags, the names, or
    (no name known, no flag) the contents: a column of a few short repeated values is
    the label, the longest text the input."""
    text = _column(columns, options.text_col, TEXT_COLUMNS, "--text-col", where)
    label = _column(columns, options.label_col, LABEL_COLUMNS, "--label-col", where)
    question = _column(columns, options.question_col, TEXT_COLUMNS, "--question-col", where)
    answer = _column(columns, options.answer_col, ANSWER_COLUMNS, "--answer-col", where)
    if options.label_col or (label and not options.answer_col and text):
        if not text:
            raise where.error(
                "which column holds the text?", "--text-col", hint=f"columns: {', '.join(columns)}"
            )
        return text, label, "classification"
    if question and answer:
        return question, answer, "generation"
    flagged = any((options.text_col, options.question_col, options.answer_col))
    guessed = None if flagged else columns_by_content(columns, records, prefer=label)
    if guessed is not None:
        return (*guessed, "classification")
    raise where.error(
        f"cannot tell which columns to read (columns: {', '.join(columns)})",
        hint="pass --text-col and --label-col (classification) or --question-col and "
        "--answer-col (question answering)",
    )


CONTENT_SAMPLE = 2_000  # rows looked at to guess the columns


def columns_by_content(
    columns: list[str], records: Records, prefer: str | None = None
) -> tuple[str, str] | None:
    """(text, label) read off the values when no column has a known name: the label
    column has at least two distinct short values, each seen twice on average, and
    the fewest distinct values of those that qualify (`prefer`, a label column known
    by its name, when it qualifies); the text column is the longest of the rest. None
    when nothing qualifies."""
    sample = [record for _, record in records[:CONTENT_SAMPLE]]
    if len(sample) < 4:
        return None
    stats = {}
    for column in columns:
        values = [record.get(column) for record in sample]
        if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
            continue
        texts = [str(v).strip() for v in values]
        if not all(texts):
            continue
        stats[column] = (len(set(texts)), sum(map(len, texts)) / len(texts), texts)
    stats = {c: v for c, v in stats.items() if not _id_like(c)}
    labels = [c for c, (_, _, texts) in stats.items() if looks_like_labels(texts)]
    if not labels:
        return None
    label = prefer if prefer in labels else min(labels, key=lambda c: stats[c][0])
    inputs = [c for c in stats if c != label and stats[c][0] > stats[label][0]]
    if not inputs:
        return None
    return max(inputs, key=lambda c: stats[c][1]), label


def _id_like(column: str) -> bool:
    key = column_key(column)
    return key in ("id", "idx", "index", "uid", "guid", "unnamed:_0") or key.endswith("_id")


LABEL_MAX_CHARS = 64  # a label is short: at most this many characters and words
LABEL_MAX_WORDS = 6


def looks_like_labels(values: Sequence[str]) -> bool:
    """Whether answers (or a column's values) are labels: at least two distinct values,
    each short and on one line, and on average at least two of each."""
    distinct = set(values)
    short = all(
        len(v) <= LABEL_MAX_CHARS and len(v.split()) <= LABEL_MAX_WORDS and "\n" not in v
        for v in distinct
    )
    return len(distinct) >= 2 and short and len(values) >= 2 * len(distinct)


def _answer_text(value: Any) -> Any:
    """The first answer of a list of them: SQuAD's `answers` ({"text": [...], ...}) or a
    plain list of strings; anything else as it is."""
    if isinstance(value, dict) and "text" in value:
        value = value["text"]
    elif isinstance(value, dict) and isinstance(value.get("value"), str):
        value = value["value"]  # TriviaQA's {"value": ..., "aliases": [...]}
    if hasattr(value, "tolist"):  # a numpy array out of Parquet
        value = value.tolist()
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return next((v for v in value if v.strip()), None)
    return value


def _table(records: Records, options: Options) -> Converted:
    out = Converted()
    if not records:
        return out
    first_where = records[0][0]
    if (
        not (options.text_col or options.question_col)
        and (choices := _multiple_choice(records)) is not None
    ):
        records, shape = choices
        out.notes.append(
            f"multiple choice ({shape}): the question and its lettered options are the input, "
            "the answer is the option's letter"
        )
    if options.text_cols:
        joined = options.text_cols
        for wanted in joined:
            _column(list(records[0][1]), wanted, (), "--text-col", first_where)
        records = _joined_pairs(records, joined)
        options = replace(options, text_col=" + ".join(joined), text_cols=())
        out.notes.append(f"the input is {' and '.join(map(repr, joined))}, each line named")
    columns = list(records[0][1])
    lists = {
        column_key(c)
        for c, v in records[0][1].items()
        if isinstance(v, list | tuple) or hasattr(v, "tolist")
    }
    if lists & {"tokens", "words"} and any(k == "tags" or k.endswith("_tags") for k in lists):
        raise first_where.error(
            "token classification (a tag for every word, as CoNLL's NER) is not supported",
            hint="advisor compares ways to answer a text with a label or an answer; join the "
            "tokens into a text with one label per row to import it",
        )
    pair = _pair_columns(columns, options)
    if pair is not None:
        records = _joined_pairs(records, pair)
        columns = list(records[0][1])
        options = Options(
            text_col=" + ".join(pair), label_col=options.label_col, answer_col=options.answer_col
        )
        out.notes.append(f"'{pair[0]}' and '{pair[1]}' are a sentence pair: the input is both")
    source, target, task_type = table_columns(columns, options, first_where, records)
    records = _single_labels(records, target)
    names = None if options.label_col else _label_names_column(columns, target, records)
    if names is not None:
        out.notes.append(f"'{names}' names the classes of '{target}': its names are the labels")
        target = names
    named = source in (options.text_col, options.question_col) or column_key(source) in TEXT_COLUMNS
    title = None if options.text_col else _column(columns, None, TITLE_COLUMNS, "", first_where)
    if (
        task_type == "classification"
        and title not in (None, source, target)
        and column_key(source) in BODY_COLUMNS
    ):  # Amazon Polarity, DBpedia: a title and its text, both read by the label
        records = _joined_pairs(records, (title, source))
        out.notes.append(
            f"'{title}' and '{source}' are the input, a title and its text "
            f"(--text-col {source} reads the text alone)"
        )
        source = f"{title} + {source}"
    context = _column(columns, None, CONTEXT_COLUMNS, "", first_where)
    if context in (source, target):
        context = None
    if _extractive(records, target):  # SQuAD's answers: spans of the passage, never labels
        out.task_type = "generation"
    elif context is not None and (task_type == "classification" or _label_answers(records, target)):
        # BoolQ: the passage decides the yes/no answer, and no classifier reads a corpus
        records = _joined_pairs(records, (context, source))
        source, context = f"{context} + {source}", None
        out.notes.append(f"'{source}': the passage and its question are the input")
    contexts: dict[str, str] = {}
    unanswered = 0
    no_gold = _no_gold_label(records, target) if task_type == "classification" else None
    dropped = 0
    blank: Counter = Counter()
    whole = _whole_numbers(records, target)
    for where, record in records:
        if no_gold is not None and str(record.get(target)).strip() == no_gold:
            dropped += 1
            continue
        empty = [c for c in (source, target) if _blank(record.get(c))]
        if empty:  # a public set's row with no text or no label: nothing to learn or score
            blank[empty[0]] += 1
            blank.setdefault(f"first {empty[0]}", str(where))
            continue
        answer = _answer_text(record.get(target))
        if whole:
            answer = str(int(float(answer)))  # Excel's 1.0, 2.0: the classes 1, 2
        if type(answer).__name__ in ("bool", "bool_"):  # BoolQ's answer, a yes/no label
            answer = "true" if answer else "false"
        raw = record.get(target)
        if answer is None and (isinstance(raw, dict | list) or hasattr(raw, "tolist")):
            unanswered += 1  # SQuAD 2.0's unanswerable questions: nothing to learn or score
            continue
        turns = (
            {"role": "user", "content": _text(record.get(source), where, source)},
            {"role": "assistant", "content": _text(answer, where, target)},
        )
        out.examples.append(Example(turns, where, group=str(where)))
        if context is not None and isinstance(record.get(context), str):
            text = record[context].strip()
            if text and text not in contexts:
                contexts[text] = f"{context}-{len(contexts) + 1:05d}"
    out.documents = [(name, text) for text, name in contexts.items()]
    how = "" if named or task_type == "generation" else " (chosen by their contents)"
    out.notes.append(f"columns: '{source}' → '{target}'{how}")
    if how:
        out.notes.append("pass --text-col and --label-col to choose other columns")
    flags = [] if options.label_col else _other_flags(records, columns, source, target)
    if flags:
        shown = ", ".join(f"'{c}'" for c in flags[:5]) + (", ..." if len(flags) > 5 else "")
        out.notes.append(
            f"{shown} also hold 0/1 flags (a multi-label set, as Jigsaw's): only '{target}' "
            "is read; --label-col picks another"
        )
    if unanswered:
        out.notes.append(f"{unanswered:,} questions without an answer left out")
    for column in (source, target):
        if blank[column]:
            out.notes.append(
                f"{blank[column]:,} row{'s' if blank[column] > 1 else ''} with no '{column}' "
                "left out (the first: "
                f"{blank[f'first {column}']})"
            )
    if dropped:
        out.notes.append(
            f"{dropped:,} rows labelled '{no_gold}' (no gold label: annotators disagreed or "
            "the label is withheld) left out"
        )
    if contexts:
        out.notes.append(
            f"{len(contexts):,} distinct '{context}' passages become the corpus: what rag "
            "retrieves and cpt trains on"
        )
    return out


def _other_flags(records: Records, columns: list[str], source: str, target: str) -> list[str]:
    """The columns besides the label that hold 0/1 flags as the label does: one label
    of several (Jigsaw's toxic, obscene, insult...), the rest unread."""
    sample = [record for _, record in records[:CONTENT_SAMPLE]]

    def flags(column: str) -> bool:
        values = {str(r.get(column)).strip() for r in sample}
        return bool(values) and values <= {"0", "1", "0.0", "1.0"}

    if target not in columns or not flags(target):
        return []
    return [c for c in columns if c not in (source, target) and not _id_like(c) and flags(c)]


def _single_labels(records: Records, column: str) -> Records:
    """Rows whose label is a list (GoEmotions' `labels: [3]`, or its class names) with the
    one label unwrapped; a row with several is refused (multi-label is not a task here).
    Lists of texts in another column are answers (SQuAD's spans) and stay."""
    by_name = column_key(column) in LABEL_COLUMNS

    def labels_of(value: Any) -> list | None:
        value = value.tolist() if hasattr(value, "tolist") else value
        if not isinstance(value, list | tuple):
            return None
        ints = all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        names = by_name and all(isinstance(v, str) for v in value)
        return list(value) if ints or names else None

    sample = [labels_of(r.get(column)) for _, r in records[:CONTENT_SAMPLE]]
    if not sample or any(v is None for v in sample):
        return records
    unwrapped = []
    for where, record in records:
        labels = labels_of(record.get(column)) or []
        if len(labels) > 1:
            raise where.error(
                f"a row with {len(labels)} labels ({labels}): multi-label classification "
                "is not supported",
                column,
                hint="keep one label per row (one task per label, or the rows with one)",
            )
        unwrapped.append((where, {**record, column: labels[0] if labels else None}))
    return unwrapped


def _blank(value: Any) -> bool:
    """A table cell with nothing in it: missing, NaN or only spaces."""
    return (
        value is None
        or (isinstance(value, float) and value != value)
        or (isinstance(value, str) and not value.strip())
    )


def _whole_numbers(records: Records, column: str) -> bool:
    """Whether a label column holds whole numbers written as floats (1.0, 2.0: Excel, or
    pandas with a missing cell), which are the classes 1, 2."""
    values = {str(r.get(column)).strip() for _, r in records if not _blank(r.get(column))}
    return bool(values) and all(re.fullmatch(r"-?\d+\.0+", v) for v in values)


def _label_names_column(columns: list[str], target: str, records: Records) -> str | None:
    """A column naming the classes of the label column `target` (20 Newsgroups' `target`
    and `target_names`, `intent` and `intent_name`), when `target` holds class ids."""
    if not all(str(r.get(target)).strip().lstrip("-").isdigit() for _, r in records[:50]):
        return None
    key = column_key(target)
    companions = (f"{key}_name", f"{key}_names", f"{key}_text", f"{key}_label")
    found = _column(columns, None, companions, "", records[0][0])
    if found is None or not all(isinstance(r.get(found), str) for _, r in records[:50]):
        return None
    return found


CHOICE_COLUMNS = ("choices", "options", "endings")
STEM_COLUMNS = ("question", "question_stem", "stem", "ctx", "goal", "sentence", "prompt")
KEY_COLUMNS = ("answerkey", "answer_key", "answer", "label", "gold", "correct", "cop")
PASSAGE_COLUMNS = ("article", "context", "passage")
LETTERS = "ABCDEFGHIJ"


def _multiple_choice(records: Records) -> tuple[list[tuple[Where, dict]], str] | None:
    """Multiple-choice rows (ARC, OpenBookQA, CommonsenseQA, MMLU, HellaSwag, PIQA, RACE)
    as a question with lettered options and the letter of the right one; None when the
    rows are not multiple choice."""
    first = records[0][1]
    keys = {column_key(c): c for c in first}
    question = first.get(keys.get("question"))
    nested = isinstance(question, dict) and "stem" in question and "choices" in question
    choice_key = next((keys[c] for c in CHOICE_COLUMNS if c in keys), None)
    paired = _option_columns(keys)
    answer_key = next((keys[c] for c in KEY_COLUMNS if c in keys), None)
    stem_key = next((keys[c] for c in STEM_COLUMNS if c in keys), None)
    if not nested and choice_key is None and not paired and _unnamed_options(records):
        stem_key, *paired, answer_key = list(first)
    if not nested and choice_key is None and len(paired) < 2:
        return None
    if answer_key is None or (stem_key is None and not nested):
        return None
    passage_key = next((keys[c] for c in PASSAGE_COLUMNS if c in keys), None)
    rows = []
    for where, record in records:
        if nested:
            stem, raw = record[keys["question"]].get("stem"), record[keys["question"]]["choices"]
        else:
            stem = record.get(stem_key)
            raw = record.get(choice_key) if choice_key else [_cell(record.get(k)) for k in paired]
        texts, labels = _choices(raw)
        if not texts:
            raise where.error("expected a list of answer choices", choice_key or "choices")
        answer = record.get(answer_key)
        if labels and all(x.isdigit() for x in labels):  # ARC's few 1-4 keys: A-D
            if str(answer).strip() in labels:
                answer = LETTERS[labels.index(str(answer).strip())]
            labels = None
        labels = labels or list(LETTERS[: len(texts)])
        index = _option_index(answer, labels)
        rows.append((where, record, stem, texts, labels, answer, index))
    # WinoGrande's `answer` counts its options from 1 (option1, option2); PIQA's from 0
    indices = [(index, len(texts)) for *_, texts, _, _, index in rows if index is not None]
    base = (
        1 if indices and all(i != 0 for i, _ in indices) and any(i == n for i, n in indices) else 0
    )
    converted = []
    for where, record, stem, texts, labels, answer, index in rows:
        if index is not None:
            index -= base
            answer = labels[index] if 0 <= index < len(labels) else None  # -1: no gold label
        lines = [f"{label}) {text}" for label, text in zip(labels, texts, strict=True)]
        passage = record.get(passage_key) if passage_key else None
        body = "\n".join([str(stem or "").strip(), *lines])
        if isinstance(passage, str) and passage.strip():
            body = f"{passage.strip()}\n\n{body}"
        converted.append((where, {"question": body, "answer": answer}))
    return (
        converted,
        "nested question and choices" if nested else f"'{choice_key or ' / '.join(paired)}'",
    )


OPTION_COLUMN_SETS = (
    ("sol1", "sol2"),  # PIQA
    ("option1", "option2"),  # WinoGrande
    tuple("abcdefghij"),  # MMLU's CSV: question, A, B, C, D, answer
    tuple(f"option_{x}" for x in "abcdefghij"),  # optionA, option_a, "Option A"
    tuple(f"op{x}" for x in "abcdefghij"),  # MedMCQA: opa, opb, opc, opd
)


def _option_columns(keys: dict[str, str]) -> list[str]:
    """A row's options spread over columns, in order: the longest run of a known set
    present from its first name on (A, B, C, D; opa, opb...), at least two; else []."""
    for names in OPTION_COLUMN_SETS:
        run = []
        for name in names:
            if name not in keys:
                break
            run.append(keys[name])
        if len(run) >= 2:
            return run
    return []


def _unnamed_options(records: Records) -> bool:
    """Whether a header-less table is laid out as MMLU's own CSV files are: the
    question, two or more options, and a last column of the options' letters."""
    columns = list(records[0][1])
    if len(columns) < 4 or not all(re.fullmatch(r"column \d+", c) for c in columns):
        return False
    letters = set(LETTERS[: len(columns) - 2])
    answers = {str(r.get(columns[-1])).strip() for _, r in records[:CONTENT_SAMPLE]}
    return answers <= letters and len(answers) >= 2


def _option_index(answer: Any, labels: list[str]) -> int | None:
    """The number an answer gives for its option (HellaSwag's 3, WinoGrande's "2"), or
    None when it is a label (a letter) or no number."""
    if isinstance(answer, int | float) and not isinstance(answer, bool):
        return int(answer)
    if isinstance(answer, str) and answer.strip().isdigit() and answer.strip() not in labels:
        return int(answer.strip())
    return None


def _cell(value: Any) -> Any:
    """An option cell as text (a number option, 12, is the text '12')."""
    return value if value is None or isinstance(value, str) else str(value)


def _choices(raw: Any) -> tuple[list[str], list[str] | None]:
    """The texts and (where given) labels of a choices value: a list of texts, ARC's
    {"text": [...], "label": [...]}, or CommonsenseQA's [{"label", "text"}, ...]."""
    if hasattr(raw, "tolist"):
        raw = raw.tolist()
    if isinstance(raw, dict) and "text" in raw:
        texts = raw["text"].tolist() if hasattr(raw["text"], "tolist") else raw["text"]
        labels = raw.get("label")
        labels = labels.tolist() if hasattr(labels, "tolist") else labels
        return [str(t) for t in texts], [str(x) for x in labels] if labels else None
    if isinstance(raw, list) and raw and all(isinstance(c, dict) for c in raw):
        return [str(c.get("text", "")) for c in raw], [str(c.get("label", "")) for c in raw]
    if isinstance(raw, list) and all(isinstance(c, str) for c in raw):
        return raw, None
    return [], None


def _extractive(records: Records, column: str) -> bool:
    """Whether a column holds SQuAD-style answers: lists of spans, or {"text": [...]}."""
    return any(
        isinstance(record.get(column), dict | list | tuple) or hasattr(record.get(column), "tolist")
        for _, record in records[:CONTENT_SAMPLE]
    )


def _label_answers(records: Records, column: str) -> bool:
    """Whether a column's values read as labels (BoolQ's true / false among them)."""
    values = [_answer_text(record.get(column)) for _, record in records[:CONTENT_SAMPLE]]
    if not all(isinstance(v, str | int | float) or type(v).__name__ == "bool_" for v in values):
        return False
    return looks_like_labels([str(v).strip().lower() for v in values])


NO_GOLD_SHARE = 0.1  # a "-1" label this rare beside class ids or names marks "no label"


def _no_gold_label(records: Records, column: str) -> str | None:
    """The value that marks a row without a gold label, if the column has one: SNLI's
    "-", or `datasets`' -1 (MNLI, SNLI on the Hub) when it is rare and every other label
    is a class id from 0 or a name. A -1 as common as the others is a class (sentiment
    scored -1 / 0 / 1) and stays."""
    values = Counter(str(record.get(column)).strip() for _, record in records)
    if len(values) < 3:
        return None
    if "-" in values:
        return "-"
    others = [v for v in values if v != "-1"]
    rare = values["-1"] <= NO_GOLD_SHARE * sum(values.values())
    ids_or_names = all(v.isdigit() or not _number(v) for v in others)
    return "-1" if "-1" in values and rare and ids_or_names else None


def _number(text: str) -> bool:
    return text.lstrip("-").replace(".", "", 1).isdigit()


def _joined_pairs(records: Records, columns: Sequence[str]) -> Records:
    """Each record with one more column, `first + second [+ ...]`: the texts, each line
    named by its column; an empty cell is left out (a title without a body)."""
    name = " + ".join(columns)
    joined = []
    for where, record in records:
        parts = [
            f"{c}: {_text(record.get(c), where, c)}" for c in columns if not _blank(record.get(c))
        ]
        joined.append((where, {**record, name: "\n".join(parts) if parts else None}))
    return joined


def _squad(records: Records, options: Options) -> Converted:
    """SQuAD's nested JSON: articles of paragraphs, each a context with its questions
    and answers. Questions become examples, contexts the corpus."""
    rows = []
    for where, article in records:
        paragraphs = article.get("paragraphs")
        if not isinstance(paragraphs, list):
            raise where.error("expected a list of paragraphs", "paragraphs")
        for paragraph in paragraphs:
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("qas"), list):
                raise where.error("a paragraph without its list of questions", "qas")
            for qa in paragraph["qas"]:
                if not isinstance(qa, dict):
                    raise where.error("expected a question object", "qas")
                answers = qa.get("answers") or []
                texts = [a.get("text") for a in answers if isinstance(a, dict)]
                rows.append(
                    (
                        Where(where.file, len(rows) + 1, "question"),
                        {
                            "question": qa.get("question"),
                            "answers": texts,
                            "context": paragraph.get("context"),
                        },
                    )
                )
    return _table(rows, Options(question_col="question", answer_col="answers"))


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "chat",
            "chat messages JSONL (OpenAI chat fine-tuning; TRL conversational)",
            lambda r: "messages" in r,
            _chat,
            aliases=("openai", "messages", "trl-conversational"),
        ),
        Format(
            "chat-prompt-completion",
            "TRL conversational prompt-completion",
            lambda r: isinstance(r.get("prompt"), list),
            _chat_prompt_completion,
            aliases=("trl-conversational-prompt-completion",),
        ),
        Format(
            "prompt-completion",
            "prompt/completion pairs (Bedrock; TRL prompt-completion)",
            lambda r: "prompt" in r or "completion" in r,
            _prompt_completion,
            aliases=("bedrock", "trl-prompt-completion"),
        ),
        Format(
            "alpaca",
            "Alpaca instructions (instruction / input / output; Dolly's context / response)",
            lambda r: "instruction" in r,
            _alpaca,
        ),
        Format(
            "squad",
            "SQuAD articles (paragraphs of context / questions / answers)",
            lambda r: "paragraphs" in r,
            _squad,
        ),
        Format(
            "sharegpt",
            "ShareGPT conversations (from / value)",
            lambda r: "conversations" in r,
            _sharegpt,
        ),
        Format(
            "text",
            "plain texts (TRL language modeling), imported as the corpus",
            lambda r: isinstance(r.get("text"), str) and len(r) == 1,
            _text_documents,
            aliases=("trl-text",),
        ),
        Format("table", "a table with named columns", lambda r: True, _table, aliases=("csv",)),
    )
}


def resolve_format(name: str) -> Format:
    """A format by name or alias, with a suggestion for a typo."""
    for fmt in FORMATS.values():
        if name == fmt.name or name in fmt.aliases:
            return fmt
    names = [n for f in FORMATS.values() for n in (f.name, *f.aliases)]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"one of {', '.join(FORMATS)}"
    raise ImportDataError(f"unknown format '{name}'", field="--format", hint=hint)


def detect_format(record: dict[str, Any]) -> Format:
    """The first format (in registry order) that recognises this record."""
    return next(f for f in FORMATS.values() if f.recognises(record))
