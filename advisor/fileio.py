"""Reading the project's data files with errors that point at the problem.

Tasks, quiz banks, configs and fact tables are all JSON Lines or YAML written
by people; a mistake in one should come back as the file, the line and what is
wrong, in the error type of whoever reads it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

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
    lines = read_text(path, error, what=what, hint=hint).splitlines()
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
            f"malformed JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})",
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


def yaml_key_lines(text: str) -> dict[str, int]:
    """Every key of a YAML mapping, nested ones dotted (`sft.lora.r`), → its
    1-based line: where an error about a field's value points. Empty when the
    text is not a YAML mapping."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    lines: dict[str, int] = {}

    def walk(node: yaml.Node, prefix: str) -> None:
        if not isinstance(node, yaml.MappingNode):
            return
        for key, value in node.value:
            name = f"{prefix}{key.value}"
            lines.setdefault(name, key.start_mark.line + 1)
            walk(value, f"{name}.")

    walk(node, "")
    return lines


def locate(error: AdvisorError, path: Path, lines: dict[str, int]) -> AdvisorError:
    """`error` pointed at `path` and at the line of its field (or of the
    nearest enclosing key that has one), where it has no place yet."""
    if error.file is None:
        error.file = str(path)
    if error.line is None and error.field:
        parts = error.field.split("[")[0].split(".")
        for end in range(len(parts), 0, -1):
            line = lines.get(".".join(parts[:end]))
            if line is not None:
                error.line = line
                break
    return error


def read_text(
    path: Path,
    error: type[AdvisorError] = AdvisorError,
    *,
    what: str = "file",
    hint: str | None = None,
) -> str:
    """The text of a file a user gave us; a missing file, a folder, a file that
    cannot be read or is not UTF-8 raises `error` naming it, never a traceback.

    A UTF-8 byte-order mark (what some Windows editors write) is dropped."""
    path = Path(path)
    if not path.is_file():
        if path.is_dir():
            raise error(f"expected a {what}, found a folder", file=path, hint=hint)
        raise error(f"{what} not found", file=path, hint=hint)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise error(
            f"not UTF-8 text ({exc.reason}, byte 0x{exc.object[exc.start]:02x})",
            file=path,
            line=line,
            hint="save the file as UTF-8",
        ) from None
    except OSError as exc:
        raise error(f"cannot read the {what} ({exc.strerror or exc})", file=path) from None


WRITE_HINTS = {
    errno.ENOSPC: "the disk is full: free some space and run the command again",
    errno.EDQUOT: "the disk quota is used up: free some space and run the command again",
    errno.EACCES: "the folder is not writable: fix its permissions or write somewhere else",
    errno.EPERM: "the folder is not writable: fix its permissions or write somewhere else",
    errno.EROFS: "the file system is read-only: write somewhere else",
}


def write_error(
    exc: OSError, path: Path, *, what: str = "file", error: type[AdvisorError] = AdvisorError
) -> AdvisorError:
    """An `OSError` from writing `path` (a full disk, a read-only folder) as
    `error` naming the file we meant to write, not a temporary one beside it."""
    if Path(path).is_dir():
        return error(f"cannot write the {what}: it is a folder", file=path, hint="name a file")
    return error(
        f"cannot write the {what} ({exc.strerror or exc})",
        file=path,
        hint=WRITE_HINTS.get(exc.errno or 0),
    )


@contextlib.contextmanager
def atomic_writer(
    path: Path, *, newline: str | None = None, binary: bool = False, what: str = "file"
) -> Iterator[IO[Any]]:
    """A text handle whose content replaces `path` only when the block ends
    without an error: a run killed mid-write leaves the old file (or none),
    never half a file. The temporary file sits beside the target, so the final
    `os.replace` stays on one file system and is atomic.

    An `OSError` while writing (a full disk, a read-only folder, a folder where
    the file should be) becomes an `AdvisorError` naming `path` as the `what`;
    the old file is still left as it was."""
    path = Path(path)
    temporary = path.with_name(_temporary_name(path.name))
    try:
        # os.open with 0o666 honours the umask, so the file gets the usual mode
        # (tempfile's would be 0600)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise write_error(exc, path, what=what) from None
    try:
        text_options = {} if binary else {"encoding": "utf-8", "newline": newline}
        try:
            with open(descriptor, "wb" if binary else "w", **text_options) as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except OSError as exc:
            raise write_error(exc, path, what=what) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def make_parent(path: Path, *, what: str = "file") -> None:
    """Create the folder `path` goes in; what stops it (a file in the way, a
    read-only folder) is an `AdvisorError` naming `path`."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(exc, path, what=what) from None


def write_text_atomic(path: Path, text: str, *, what: str = "file") -> None:
    """Write `text` to `path` all at once or not at all (see `atomic_writer`)."""
    with atomic_writer(path, what=what) as handle:
        handle.write(text)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` all at once or not at all (see `atomic_writer`)."""
    with atomic_writer(path, binary=True) as handle:
        handle.write(data)


def write_json_atomic(path: Path, data: Any) -> None:
    """`data` as indented JSON, written atomically."""
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


# What `atomic_writer` and `atomic_dir` write before the rename:
# `.<name>.<pid>.<8 hex>.tmp`, a file or a folder beside its target.
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")


def _temporary_name(name: str) -> str:
    return f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


@contextlib.contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """A temporary sibling folder to fill; it becomes `path` only when the block
    ends without an error. Libraries that save a folder file by file (peft's
    `save_pretrained`) can then be killed at any moment without leaving a folder
    under the real name that looks complete and is not. An existing `path` is
    replaced: moved aside, the new folder renamed in, the old one removed, so
    at every instant `path` is the old folder, the new one, or absent."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(_temporary_name(path.name))
    staging.mkdir()
    try:
        yield staging
        _fsync_tree(staging)
        if path.exists():
            displaced = path.with_name(_temporary_name(path.name))
            os.replace(path, displaced)
            os.replace(staging, path)
            shutil.rmtree(displaced, ignore_errors=True)
        else:
            os.replace(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _fsync_tree(folder: Path) -> None:
    """Flush every file under `folder` to disk, so the rename publishes whole files."""
    for root, _, files in os.walk(folder):
        for name in files:
            descriptor = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)


def remove_leftovers(folder: Path) -> list[Path]:
    """Delete the temporary files and folders (`atomic_writer`, `atomic_dir`)
    that writers killed mid-write left anywhere under `folder`; return them.

    Only a temporary whose writer — the pid in its name — is gone is removed,
    so a live writer's work in progress is never touched."""
    removed = []
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            match = _TEMPORARY.match(name)
            if match is None or pid_alive(int(match["pid"])):
                continue
            path = Path(root) / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
        dirs[:] = [d for d in dirs if (Path(root) / d).is_dir()]  # not into what went
    return removed


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True
