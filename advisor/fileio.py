"""Reading the project's data files with errors that point at the problem.

Tasks, quiz banks, configs and fact tables are all JSON Lines or YAML written
by people; a mistake in one should come back as the file, the line and what is
wrong, in the error type of whoever reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from advisor.errors import AdvisorError


def read_jsonl(
    path: Path,
    error: type[AdvisorError] = AdvisorError,
    *,
    what: str = "file",
    hint: str | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line; a missing, empty or
    undecodable file, malformed JSON or a non-object line raises `error`."""
    for number, raw in read_jsonl_lines(path, error, what=what, hint=hint):
        yield number, parse_jsonl_line(raw, path, number, error)


def read_jsonl_lines(
    path: Path,
    error: type[AdvisorError] = AdvisorError,
    *,
    what: str = "file",
    hint: str | None = None,
) -> list[tuple[int, str]]:
    """(line number, text) of every non-blank line; a missing, empty or
    undecodable file raises `error`."""
    if not path.is_file():
        if path.is_dir():
            raise error(f"expected a {what}, found a folder", file=path, hint=hint)
        raise error(f"{what} not found", file=path, hint=hint)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text ({exc.reason})", file=path) from None
    numbered = [(number, raw) for number, raw in enumerate(lines, start=1) if raw.strip()]
    if not numbered:
        raise error(f"{what} is empty", file=path, hint="one JSON object per line")
    return numbered


def parse_jsonl_line(
    raw: str, path: Path, number: int, error: type[AdvisorError] = AdvisorError
) -> dict[str, Any]:
    """One JSON Lines record, or `error` located at its line."""
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise error(
            f"malformed JSON ({exc.msg} at column {exc.colno})",
            file=path,
            line=number,
            hint="each line must be one complete JSON object",
        ) from None
    if not isinstance(record, dict):
        raise error("expected a JSON object", file=path, line=number)
    return record


def yaml_error(
    exc: yaml.YAMLError, path: Path, error: type[AdvisorError] = AdvisorError
) -> AdvisorError:
    """A YAML parse error as `error`, with the line the parser stopped at."""
    mark = getattr(exc, "problem_mark", None)
    return error(
        f"not valid YAML ({getattr(exc, 'problem', None) or exc})",
        file=path,
        line=mark.line + 1 if mark is not None else None,
    )
