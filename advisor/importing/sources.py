"""Files to records, and a folder of documents to a corpus.

Records keep where they came from (file and line, row or item) so that every
problem names it. CSV and TSV are read with pandas, Parquet with pyarrow, a
saved Hugging Face dataset with `datasets`, JSON Lines with our located reader;
documents: Markdown and text as they are, HTML with its tags dropped, PDF text
with pypdf (pages without text are reported, not silently skipped).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from advisor.display import joined
from advisor.fileio import read_jsonl, read_text
from advisor.importing.formats import ImportDataError, Where

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
HF_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")


@dataclass
class Source:
    """One input file read into records; `test` holds a Hugging Face dataset's test split."""

    path: Path
    kind: str  # "JSON Lines", "JSON", "CSV", "TSV", "Parquet", "Hugging Face dataset"
    records: list[tuple[Where, dict[str, Any]]]
    test: list[tuple[Where, dict[str, Any]]] | None = None
    notes: list[str] = field(default_factory=list)


def read_source(path: Path) -> Source:
    """Records of a JSONL / JSON / CSV / TSV / Parquet file or a saved HF dataset folder."""
    if not path.exists():
        raise ImportDataError("not found", file=path)
    if path.is_dir():
        if any((path / marker).is_file() for marker in HF_MARKERS):
            return _hf_dataset(path)
        raise ImportDataError(
            "a folder, but not a saved Hugging Face dataset (no dataset_info.json or state.json)",
            file=path,
            hint="pass a data file, a folder written by `Dataset.save_to_disk`, or documents "
            "with --corpus (a folder of text files per label, as IMDB's pos/ and neg/, is not "
            "read: write them to a CSV of text,label)",
        )
    suffix = path.suffix.lower()
    if suffix in COMPRESSED:
        return _compressed(path)
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl(path)
    if suffix == ".json":
        return _json(path)
    if suffix in TABLE_SUFFIXES:
        return _delimited(path, TABLE_SUFFIXES[suffix])
    if suffix in (".parquet", ".pq"):
        return _parquet(path)
    if suffix in ("", ".txt", ".data", ".tab"):
        sniffed = _sniff_plain(path)
        if sniffed is not None:
            source = sniffed()
            source.notes.append(f"read by its contents as {source.kind}")
            return source
    raise ImportDataError(
        f"unsupported file type '{suffix or path.name}'",
        file=path,
        hint="JSON Lines, JSON, CSV, TSV or Parquet (or any of them .gz, .bz2 or .xz); a saved "
        "Hugging Face dataset folder",
    )


def _sniff_plain(path: Path):
    """The reader for a file without a data suffix whose first lines say what it is (the
    SMS Spam Collection: `ham<TAB>text`, no suffix): JSON Lines, JSON, or tab-separated
    with the same number of tabs on every line."""
    try:
        with path.open(encoding="utf-8-sig") as handle:
            head = [line.rstrip("\r\n") for _, line in zip(range(50), handle, strict=False)]
    except (OSError, UnicodeDecodeError):
        return None
    lines = [line for line in head if line.strip()]
    if not lines:
        return None
    if lines[0].lstrip().startswith("{"):
        return lambda: _jsonl(path)
    if lines[0].lstrip().startswith("["):
        return lambda: _json(path)
    tabs = {line.count("\t") for line in lines}
    if len(tabs) == 1 and tabs != {0}:
        return lambda: _delimited(path, "\t")
    return None


COMPRESSED = {".gz": "gzip", ".bz2": "bz2", ".xz": "lzma"}  # suffix: the module that opens it


def _compressed(path: Path) -> Source:
    """`train.jsonl.gz`, `reviews.csv.bz2`...: the file inside, read as its own suffix says,
    every record and error still naming the compressed file."""
    import importlib
    import lzma
    import shutil
    import tempfile

    opener = importlib.import_module(COMPRESSED[path.suffix.lower()]).open
    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / path.with_suffix("").name
        try:
            with opener(path, "rb") as packed, plain.open("wb") as out:
                shutil.copyfileobj(packed, out)
        except (OSError, EOFError, lzma.LZMAError) as exc:  # a damaged or mislabeled archive
            raise ImportDataError(
                f"not a readable {path.suffix} file ({_first_line(exc)})", file=path
            ) from None
        try:
            source = read_source(plain)
        except ImportDataError as exc:
            if exc.file is not None:
                exc.file = exc.file.replace(str(plain), str(path))
            raise

    def moved(records: list[tuple[Where, dict[str, Any]]] | None):
        if records is None:
            return None
        return [
            (dataclasses.replace(w, file=w.file.replace(str(plain), str(path))), r)
            for w, r in records
        ]

    return Source(
        path,
        f"{source.kind}, {path.suffix[1:]}",
        moved(source.records),
        moved(source.test),
        source.notes,
    )


def _jsonl(path: Path) -> Source:
    records = [(Where(str(path), n), r) for n, r in read_jsonl(path, ImportDataError)]
    return Source(path, "JSON Lines", records)


def _json(path: Path) -> Source:
    try:
        data = json.loads(read_text(path, ImportDataError))
    except json.JSONDecodeError as exc:
        # one object per line is JSON Lines whatever the file is called
        if "Extra data" in exc.msg:
            return _jsonl(path)
        raise ImportDataError(f"malformed JSON ({exc.msg})", file=path, line=exc.lineno) from None
    splits = _json_splits(data) if isinstance(data, dict) else None
    if splits is not None:
        (train_name, train), (test_name, test) = splits
        source = Source(
            path,
            f"JSON (splits: {', '.join(map(str, data))})",
            _json_records(path, train, str(train_name)),
            _json_records(path, test, str(test_name)),
        )
        source.notes.append(f"its '{train_name}' list is the training data")
        return source
    if isinstance(data, dict):
        data = _record_list(data)
    if not isinstance(data, list) or not data:
        raise ImportDataError(
            "expected a non-empty list of records",
            file=path,
            hint="a list of objects, or an object holding one under 'data' (or 'train' and 'test')",
        )
    return Source(path, "JSON", _json_records(path, data))


def _json_splits(data: dict[str, Any]) -> tuple[tuple[str, list], tuple[str, list]] | None:
    """(train, test) of a JSON object keyed by split (`{"train": [...], "test": [...]}`,
    or `data` beside `test`); None when it holds no test split beside its records."""
    lowered = {str(k).lower(): (k, v) for k, v in data.items() if isinstance(v, list) and v}
    train = next((lowered[k] for k in ("train", "data") if k in lowered), None)
    test = next((lowered[k] for k in ("test", "validation", "valid", "dev") if k in lowered), None)
    return (train, test) if train and test else None


def _json_records(path: Path, data: list, split: str | None = None) -> list[tuple[Where, dict]]:
    name = f"{path}[{split}]" if split else str(path)
    records = []
    for n, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            raise Where(name, n, "item").error("expected a JSON object")
        records.append((Where(name, n, "item"), record))
    return records


CONTAINER_KEYS = ("data", "examples", "rows", "records", "items", "instances", "questions")


def _record_list(data: dict[str, Any]) -> Any:
    """The list of records a JSON object holds: under a usual key (`data`, SQuAD's and many
    exports'; `examples`, `rows`, `instances`...), or its only list of objects."""
    lowered = {str(k).lower(): v for k, v in data.items()}
    for key in CONTAINER_KEYS:
        if isinstance(lowered.get(key), list):
            return lowered[key]
    lists = [v for v in data.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
    return lists[0] if len(lists) == 1 else data


def _table_records(
    path: Path, rows: list[dict[str, Any]], unit: str = "row", offset: int = 0
) -> list[tuple[Where, dict]]:
    """A table's rows, each with its place (row n, or line n + `offset`)."""
    if not rows:
        raise ImportDataError("the table has no rows", file=path)
    return [(Where(str(path), n + offset, unit), row) for n, row in enumerate(rows, start=1)]


HEADER_MAX_WORDS = 4  # a column name longer than this is a sentence: the line is data


def looks_like_data(names: list[str]) -> bool:
    """Whether a table's first line is a row of data rather than column names
    (AG News' CSV starts with `"3","Wall St. Bears Claw Back..."`): a number, an
    empty cell or a sentence where a name should be."""
    return any(
        not name.strip()
        or re.fullmatch(r"[-+]?\d+(?:\.\d+)?", name.strip()) is not None
        or len(name.split()) > HEADER_MAX_WORDS
        for name in names
    )


DELIMITERS = ",;\t|"


def _sniffed(path: Path, separator: str) -> str:
    """The delimiter a CSV really uses: Excel in many locales writes `;`."""
    import csv

    try:
        with path.open(encoding="utf-8", newline="") as handle:
            sample = handle.read(64 * 1024)
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except (csv.Error, UnicodeDecodeError, OSError):
        return separator


def _delimited(path: Path, separator: str) -> Source:
    import pandas as pd

    def read(**header: Any) -> Any:
        return pd.read_csv(
            path, sep=separator, dtype=str, keep_default_na=False, encoding="utf-8", **header
        )

    try:
        try:
            frame = read()
        except pd.errors.ParserError:
            if separator != ",":
                raise
            frame = None  # "Expected 1 fields in line 3, saw 2": commas inside a ';' file
        if frame is None or (separator == "," and frame.shape[1] == 1):
            other = _sniffed(path, separator)
            if other == separator and frame is None:
                frame = read()  # not another delimiter: pandas' own error, reported below
            elif other != separator:
                separator = other  # the file is ';'- or '|'-separated
                frame = read()
        headed = not looks_like_data([str(c) for c in frame.columns])
        if not headed:
            frame = read(header=None)
            frame.columns = [f"column {n}" for n in range(1, frame.shape[1] + 1)]
    except UnicodeDecodeError as exc:
        read_text(path, ImportDataError)  # names the line and the byte
        raise ImportDataError(f"not UTF-8 text ({exc.reason})", file=path) from None
    except pd.errors.EmptyDataError:
        raise ImportDataError("the file is empty", file=path) from None
    except pd.errors.ParserError as exc:
        raise ImportDataError(f"not a readable table ({_first_line(exc)})", file=path) from None
    kind = {",": "CSV", "\t": "TSV"}.get(separator, f"CSV ('{separator}'-separated)")
    # a CSV row n is on line n + 1 (the header is line 1)
    rows = frame.to_dict(orient="records")
    source = Source(path, kind, _table_records(path, rows, unit="line", offset=int(headed)))
    parsed = _parse_structured_cells(source.records)
    if parsed:
        source.notes.append(
            f"{_quoted(parsed)}: lists and records written as Python text (pandas' "
            "`to_csv`, `datasets`' `to_csv`), read as the values they print"
        )
    if not headed:
        source.notes.append(
            f"the first line is data, not column names: columns are 'column 1' to "
            f"'column {frame.shape[1]}' (--text-col 'column 2' picks one; repeat it to read several)"
        )
    return source


# numpy's repr of a 1-D array inside a printed record: array(['a', 'b'], dtype=object)
NUMPY_ARRAY = re.compile(r"\barray\((\[[^\[\]]*\])(?:,\s*dtype=[\w.]+)?\)")
NUMPY_NUMBERS = re.compile(r"\[\s*-?\d+(?:\.\d*)?(?:\s+-?\d+(?:\.\d*)?)*\s*\]")  # "[0 27]"
NUMPY_STRINGS = re.compile(r"(['\"])\s+(['\"])")  # "['a' 'b']": numpy prints no commas


def _python_value(cell: str) -> Any:
    """The list or dict a cell prints (`[0 27]`, `{'text': array(['Denver'], ...)}`,
    `[{'role': 'user', ...}]`) or holds as JSON, or None when it is text."""
    import ast

    text = cell.strip()
    if not text or text[0] + text[-1] not in ("[]", "{}"):
        return None
    if NUMPY_NUMBERS.fullmatch(text):
        return [ast.literal_eval(number) for number in text[1:-1].split()]
    try:
        value = json.loads(text)  # JSON in a cell: {"a": true, "b": null}
    except ValueError:
        text = NUMPY_STRINGS.sub(r"\1, \2", NUMPY_ARRAY.sub(r"\1", text))
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    return value if isinstance(value, list | dict) else None


def _parse_structured_cells(records: list[tuple[Where, dict[str, Any]]]) -> list[str]:
    """Replace, in place, the cells of every column whose filled cells all print a list
    or a dict by those values (a table written from a data set with nested fields:
    SQuAD's `answers`, ARC's `choices`, chat `messages`); the columns' names."""
    columns = list(records[0][1]) if records else []
    parsed = []
    for column in columns:
        cells = [r.get(column) for _, r in records]
        filled = [c for c in cells if isinstance(c, str) and c.strip()]
        if not filled or any(c.strip()[:1] not in "[{" for c in filled):
            continue
        values = [_python_value(c) for c in filled]
        if any(v is None for v in values):
            continue
        found = iter(values)
        for _, record in records:
            cell = record.get(column)
            if isinstance(cell, str) and cell.strip():
                record[column] = next(found)
        parsed.append(column)
    return parsed


def _parquet(path: Path) -> Source:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises its own types for a damaged file
        raise ImportDataError(
            f"not a readable Parquet file ({_first_line(exc)})", file=path
        ) from None
    metadata = table.schema.metadata or {}
    # rows as Python values: lists and records stay lists and dicts (pandas would hand
    # UltraChat's `messages` over as numpy arrays), read as a JSON Lines file's would be
    source = Source(path, "Parquet", _table_records(path, table.to_pylist()))
    # a Parquet file written by `datasets` (the Hugging Face Hub's files) keeps its features
    try:
        features = json.loads(metadata.get(b"huggingface", b"{}")).get("info", {})["features"]
    except (ValueError, KeyError, AttributeError, TypeError):
        features = {}
    names = {}
    for column, feature in features.items() if isinstance(features, dict) else ():
        inner = feature.get("feature") if isinstance(feature, dict) else None
        for candidate in (feature, inner):  # a ClassLabel, or a Sequence / List of one
            if (
                isinstance(candidate, dict)
                and candidate.get("_type") == "ClassLabel"
                and isinstance(candidate.get("names"), list)
            ):
                names[column] = candidate["names"]
    source.notes += name_class_labels(source.records, names)
    return source


WITHHELD_LABEL_COLUMNS = ("label", "labels", "answer", "answerkey")
UNLABELED_CLASS = -1  # what `datasets` stores for an example without a label (GLUE's test sets)


WITHHELD_PLACEHOLDERS = ("", "<unk>")  # a withheld answer's text in public test splits


def _withheld(value: Any) -> bool:
    """A test split's placeholder for an answer it does not give: none, an empty string
    (HellaSwag's `label: ""`, CommonsenseQA's `answerKey`), TriviaQA's `"<unk>"` (bare
    or as the `value` of its answer record)."""
    if isinstance(value, dict):
        value = value.get("value", value.get("text"))
    return value is None or (isinstance(value, str) and value.strip() in WITHHELD_PLACEHOLDERS)


def name_class_labels(
    records: list[tuple[Where, dict[str, Any]]], names: dict[str, list[str]]
) -> list[str]:
    """Replace class ids with their names (a `ClassLabel` feature's), in place; the notes.

    A model is asked for "World" or "Sports", not for "0": the names are what the
    language-model strategies read and write. An id the names do not cover is
    left as it is (the unlabeled -1 included), for the checks downstream to name.
    """
    notes = []
    for column, labels in names.items():
        renamed = 0

        def named(value: Any, labels: list[str] = labels) -> Any:
            if isinstance(value, list):  # a Sequence(ClassLabel): GoEmotions' labels
                return [named(v) for v in value]
            if isinstance(value, bool) or not isinstance(value, int | float):
                return value
            if value == int(value) and 0 <= int(value) < len(labels):
                return str(labels[int(value)])
            return value

        for _, record in records:
            value = record.get(column)
            record[column] = named(value)
            renamed += record[column] != value
        if renamed:
            shown = ", ".join(map(str, labels[:6])) + (", ..." if len(labels) > 6 else "")
            notes.append(
                f"'{column}': class ids named from the data's ClassLabel feature ({shown})"
            )
    return notes


def _hf_dataset(path: Path) -> Source:
    from datasets import ClassLabel, Dataset, DatasetDict, load_from_disk

    try:
        data = load_from_disk(str(path))
    except Exception as exc:  # datasets raises many types for a damaged folder
        raise ImportDataError(
            f"not a readable saved dataset ({_first_line(exc)})", file=path
        ) from None

    def records(split: Dataset, name: str) -> list[tuple[Where, dict]]:
        return [(Where(f"{path}[{name}]", n, "row"), dict(r)) for n, r in enumerate(split, 1)]

    def class_names(split: Dataset) -> dict[str, list[str]]:
        found = {}
        for column, feature in split.features.items():
            inner = getattr(feature, "feature", None)  # Sequence(ClassLabel), List(ClassLabel)
            for candidate in (feature, inner):
                if isinstance(candidate, ClassLabel):
                    found[column] = list(candidate.names)
        return found

    def unlabeled(split: Dataset) -> bool:
        """Test splits whose labels are withheld: every class id is -1 (GLUE), or every
        answer a placeholder (`_withheld`)."""
        columns = list(class_names(split))
        if columns:
            return all(all(v == UNLABELED_CLASS for v in split[c]) for c in columns)
        named = [c for c in split.column_names if c.lower() in WITHHELD_LABEL_COLUMNS]
        return bool(named) and all(all(_withheld(v) for v in split[c]) for c in named)

    if isinstance(data, DatasetDict):
        names = list(data)
        candidates = test_split_candidates(names)
        withheld = [n for n in candidates if unlabeled(data[n])]
        test_name = next((n for n in candidates if n not in withheld), None)
        train_names = train_splits(names, test_name, withheld)
        if not train_names:  # one labeled split: it is the data, split here
            train_names, test_name = [test_name or names[0]], None
        train = [r for name in train_names for r in records(data[name], name)]
        source = Source(
            path,
            f"Hugging Face dataset (splits: {', '.join(names)})",
            train,
            records(data[test_name], test_name) if test_name else None,
        )
        for name in withheld:
            source.notes.append(f"its '{name}' split has no labels (withheld): not used")
        if "train" not in names:
            source.notes.append(f"no 'train' split: trained on {_quoted(train_names)}")
        unused = [n for n in names if n not in (*train_names, test_name, *withheld)]
        if unused:
            source.notes.append(f"not used: the {_quoted(unused)} split" + "s" * (len(unused) > 1))
        source.notes += name_class_labels(source.records, class_names(data[train_names[0]]))
        if test_name:
            name_class_labels(source.test, class_names(data[test_name]))
        return source
    source = Source(path, "Hugging Face dataset", records(data, "train"))
    source.notes += name_class_labels(source.records, class_names(data))
    return source


VALIDATION_SPLITS = ("validation", "valid", "val", "dev")


def _split_role(name: str) -> str:
    """'train', 'test' or 'validation' by a split's name: `test_sft` is a test split,
    `train_gen` and MMLU's `auxiliary_train` training ones; anything else ''."""
    words = re.split(r"[^a-z0-9]+", name.lower())
    if "test" in words:
        return "test"
    if "train" in words:
        return "train"
    return "validation" if any(w in VALIDATION_SPLITS for w in words) else ""


def test_split_candidates(names: list[str]) -> list[str]:
    """The splits that may be the test set, in the order they are tried: `test`, other
    test splits (UltraChat's `test_sft`), then `validation` and its kin."""
    ordered = [
        n
        for role in ("test", "validation")
        for n in [role, *names]
        if n in names and _split_role(n) == role
    ]
    return list(dict.fromkeys(ordered))


def train_splits(names: list[str], test: str | None, withheld: list[str]) -> list[str]:
    """The splits to train on: `train`; else the training splits (the one that pairs
    with the test split first: `train_sft` for `test_sft`); else every labeled split
    but the test one (MMLU saved with `test`, `validation` and `dev`); none when the
    test split is the only labeled one."""
    if "train" in names:
        return ["train"]
    named = [n for n in names if _split_role(n) == "train"]
    if named:
        suffix = test.lower().replace("test", "", 1) if test and _split_role(test) == "test" else ""
        paired = [n for n in named if suffix and n.lower().replace("train", "", 1) == suffix]
        return paired or named[:1]
    return [n for n in names if n != test and n not in withheld]


def _quoted(names: list[str]) -> str:
    return joined([f"'{n}'" for n in names])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# ---------------------------------------------------------------- documents


DOCUMENT_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")


@dataclass
class Corpus:
    documents: list[tuple[str, str]] = field(default_factory=list)  # (name, Markdown text)
    notes: list[str] = field(default_factory=list)


def read_corpus(folder: Path) -> Corpus:
    """Every document under `folder` as Markdown text, with notes on what was left out."""
    if not folder.is_dir():
        raise ImportDataError("expected a folder of documents", file=folder, field="--corpus")
    corpus = Corpus()
    skipped: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        suffix = path.suffix.lower()
        if suffix not in DOCUMENT_SUFFIXES:
            skipped.append(relative)
            continue
        if suffix == ".pdf":
            title, text = path.stem, _pdf_text(path, relative, corpus.notes)
        elif suffix in (".html", ".htm"):
            title, text = _html_text(_read_text(path))
        else:
            title, text = path.stem, _read_text(path)
        text = text.strip()
        if not text:
            corpus.notes.append(f"{relative}: no text, left out")
            continue
        if not text.startswith("#"):
            text = f"# {title or path.stem}\n\n{text}"
        corpus.documents.append((relative, text))
    if skipped:
        corpus.notes.append(
            f"{len(skipped)} file(s) of other types left out: {', '.join(skipped[:5])}"
            + (" …" if len(skipped) > 5 else "")
        )
    if not corpus.documents:
        raise ImportDataError(
            f"no documents ({', '.join(DOCUMENT_SUFFIXES)}) with text",
            file=folder,
            field="--corpus",
        )
    return corpus


def _read_text(path: Path) -> str:
    return read_text(path, ImportDataError)


def _pdf_text(path: Path, relative: str, notes: list[str]) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, OSError, ValueError) as exc:
        raise ImportDataError(f"not a readable PDF ({_first_line(exc)})", file=path) from None
    empty = [str(n) for n, text in enumerate(pages, start=1) if not text.strip()]
    if empty:
        notes.append(
            f"{relative}: page(s) {', '.join(empty)} of {len(pages)} have no text "
            "(scanned images need OCR first)"
        )
    return "\n\n".join(text.strip() for text in pages if text.strip())


class _HTMLText(HTMLParser):
    """Visible text of an HTML page, one block per paragraph-level element."""

    BLOCKS = {
        "p",
        "div",
        "li",
        "br",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
    }
    HIDDEN = {"script", "style", "head", "nav", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self.HIDDEN:
            self._hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self.HIDDEN and self._hidden:
            self._hidden -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._hidden:
            self.parts.append(data)


def _html_text(html: str) -> tuple[str, str]:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    blocks = [" ".join(b.split()) for b in "".join(parser.parts).split("\n\n")]
    return " ".join("".join(parser.title).split()), "\n\n".join(b for b in blocks if b)
