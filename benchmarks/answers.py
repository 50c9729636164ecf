"""`answers.jsonl`: the one run file that is appended to rather than replaced.

Each chunk of answers is appended as soon as it is done, so a run killed at any
moment keeps what it finished. A kill mid-write tears the last line; a disk
fault or a careless edit can garble any line. Each record carries a short
checksum of its own content, so a line that is torn, not JSON, not UTF-8,
missing a field, or silently altered is found wherever it is, and its item is
answered again on resume.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.fileio import atomic_writer

ANSWERS = "answers.jsonl"
CHECK = "check"
# what a record must hold to be used again (the rest is informative)
REQUIRED: dict[str, type | tuple[type, ...]] = {
    "unit": str,
    "id": str,
    "answer": str,
    "prompt_tokens": (int, float),
    "output_tokens": (int, float),
    "answer_time_share_s": (int, float),
    "citations": list,
}


@dataclass
class AnswersFile:
    """The sound records of a run's answers file, and the lines that were not."""

    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    bad_lines: list[int] = field(default_factory=list)  # 1-based line numbers


def checksum(record: dict[str, Any]) -> str:
    """A short hash of a record's content (without its own checksum)."""
    content = {k: v for k, v in record.items() if k != CHECK}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def sound_record(raw: bytes) -> dict[str, Any] | None:
    """The record on one line, or None where the line is torn or garbled."""
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(record, dict):
        return None
    if any(not isinstance(record.get(k), kind) for k, kind in REQUIRED.items()):
        return None
    if isinstance(record["prompt_tokens"], bool):
        return None
    # records written before checksums existed carry none: accepted as they are
    if CHECK in record and record[CHECK] != checksum(record):
        return None
    return record


def read_answers_file(run_dir: Path) -> AnswersFile:
    """Every sound record keyed by (unit key, item id), the last one winning."""
    path = run_dir / ANSWERS
    found = AnswersFile()
    if not path.is_file():
        return found
    for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
        if not raw.strip():
            continue
        record = sound_record(raw)
        if record is None:
            found.bad_lines.append(number)
        else:
            found.records[(record["unit"], record["id"])] = record
    return found


def rewrite_answers(run_dir: Path, records: Sequence[dict[str, Any]]) -> None:
    """Replace the answers file with these records only (atomically): the
    garbled lines go, so every later reader sees a clean file."""
    with atomic_writer(run_dir / ANSWERS) as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def append_answers(run_dir: Path, records: Sequence[dict[str, Any]]) -> None:
    """Append one chunk of records, each with its checksum, and flush it to disk."""
    import os

    path = run_dir / ANSWERS
    with path.open("ab") as handle:
        # after a torn last line the next record must start on a line of its own
        if handle.tell() > 0 and not _ends_with_newline(path):
            handle.write(b"\n")
        for record in records:
            line = json.dumps({**record, CHECK: checksum(record)}, ensure_ascii=False)
            handle.write(line.encode("utf-8") + b"\n")
        handle.flush()
        os.fsync(handle.fileno())


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"
