"""Bad input, everywhere: one table of cases through the real app.

Every case sets up files in a temporary folder, runs one command with
`CliRunner` and checks what a user would see: the exit code (1 for a bad file or
value, 2 for a command line click cannot parse), no traceback, exactly one error
line naming the file, line and field where there is one (a `hint:` may follow),
and, where a runs folder exists beforehand, every file in it byte for byte the
same afterwards: a bad input never overwrites or deletes an earlier run.

Most cases fail before any model loads; the few that must get past parsing (a
read-only runs folder, a full disk, a question longer than the model's context)
use a tiny model saved once for the module. `BAD_INPUTS` is also what
`tests/bad_inputs_doc.py` runs to write the table in docs/runs.md.
"""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from tiny import save_tiny_model, write_tiny_task

runner = CliRunner()
LATIN1 = "note: café\n".encode("latin-1")


@dataclass(frozen=True)
class Case:
    """One bad input. `args` and `expect` may name `{tmp}` (the case's folder) and
    `{model}` (a tiny model folder); `expect` is a regex the error line must match."""

    id: str
    what: str
    setup: Callable[[Path, pytest.MonkeyPatch], None]
    args: list[str]
    exit: int
    expect: str
    runs: str | None = None  # a runs folder (under {tmp}) that must come out unchanged
    model: bool = False  # needs the tiny model
    stdin: str | None = None
    env: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- set-up helpers


def nothing(tmp: Path, mp: pytest.MonkeyPatch) -> None:
    pass


def write(relative: str, content: str | bytes) -> Callable[[Path, pytest.MonkeyPatch], None]:
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> None:
        path = tmp / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")

    return setup


def folder(relative: str) -> Callable[[Path, pytest.MonkeyPatch], None]:
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> None:
        (tmp / relative).mkdir(parents=True, exist_ok=True)

    return setup


def both(*steps: Callable[[Path, pytest.MonkeyPatch], None]):
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> None:
        for step in steps:
            step(tmp, mp)

    return setup


def task(edit: Callable[[Path], None] | None = None):
    """The tiny task under {tmp}/task, then `edit` applied to it."""

    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> None:
        write_tiny_task(tmp / "task")
        if edit is not None:
            edit(tmp / "task")

    return setup


def replace_in(name: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        text = (root / name).read_text(encoding="utf-8")
        assert old in text, (name, old)
        (root / name).write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def set_line(name: str, number: int, content: str | bytes) -> Callable[[Path], None]:
    """Replace line `number` (1-based) of a task file."""

    def edit(root: Path) -> None:
        lines = (root / name).read_bytes().splitlines(keepends=True)
        lines[number - 1] = (content.encode() if isinstance(content, str) else content) + b"\n"
        (root / name).write_bytes(b"".join(lines))

    return edit


def item_edit(number: int, **changes) -> Callable[[Path], None]:
    """Change fields of test.jsonl line `number` (None removes the field)."""

    def edit(root: Path) -> None:
        lines = (root / "test.jsonl").read_text().splitlines()
        record = json.loads(lines[number - 1])
        for key, value in changes.items():
            if value is None:
                record.pop(key, None)
            else:
                record[key] = value
        lines[number - 1] = json.dumps(record)
        (root / "test.jsonl").write_text("\n".join(lines) + "\n")

    return edit


def remove(name: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        (root / name).unlink()

    return edit


def make_folder(name: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / name
        if path.is_file():
            path.unlink()
        path.mkdir()

    return edit


def earlier_run(tmp: Path, mp: pytest.MonkeyPatch, name: str = "20240101-000000-tiny-abcdef12"):
    """A finished run folder under {tmp}/runs, as a user would have from last week."""
    run = tmp / "runs" / name
    (run / "strategies" / "prompt-s0").mkdir(parents=True)
    (run / "manifest.json").write_text(
        json.dumps(
            {
                "run_id": name,
                "status": "complete",
                "created": "2024-01-01T00:00:00+00:00",
                "task": {"name": "tiny", "content_hash": "0" * 64},
                "strategies": ["prompt"],
                "seeds": [0],
                "device": {"device": "cpu", "dtype": "float32"},
                "config_hash": "abcdef12",
            }
        )
    )
    (run / "config.yaml").write_text("task: tiny\nstrategies: [prompt]\n")
    (run / "answers.jsonl").write_text('{"unit": "prompt-s0", "id": "seen-1"}\n')
    (run / "strategies" / "prompt-s0" / "prepare.json").write_text("{}\n")


def run_with(relative: str, content: str | bytes, name: str = "20240202-000000-tiny-bad00000"):
    """An earlier run, plus a second run folder whose `relative` file is `content`."""

    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> None:
        earlier_run(tmp, mp)
        earlier_run(tmp, mp, name)
        path = tmp / "runs" / name / relative
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return setup


def read_only_runs(tmp: Path, mp: pytest.MonkeyPatch) -> None:
    """The runs folder cannot be written. chmod alone does not stop root (these
    tests may run as root in a container), so creating anything inside it fails
    as the kernel would fail it: EACCES from mkdir and open."""
    earlier_run(tmp, mp)
    task()(tmp, mp)
    runs = (tmp / "runs").resolve()
    os.chmod(runs, 0o555)
    real_mkdir, real_open = os.mkdir, os.open

    def inside(path) -> bool:
        return (
            Path(os.path.abspath(path)).parent == runs
            or runs in Path(os.path.abspath(path)).parents
        )

    def mkdir(path, mode=0o777, *args, **kwargs):
        if inside(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_mkdir(path, mode, *args, **kwargs)

    def open_(path, flags, mode=0o777, *args, **kwargs):
        if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, mode, *args, **kwargs)

    mp.setattr(os, "mkdir", mkdir)
    mp.setattr(os, "open", open_)


class _FullDiskFile:
    """A file opened for writing on a full disk: it exists, but no byte of data
    gets in (the kernel's ENOSPC, raised where Python's buffered write raises it)."""

    def __init__(self, handle) -> None:
        self._handle = handle

    def write(self, data) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    writelines = write

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._handle.close()

    def __getattr__(self, name):
        return getattr(self._handle, name)


def disk_full(tmp: Path, mp: pytest.MonkeyPatch) -> None:
    """A full disk: files can be created, but every write of data into one fails
    with ENOSPC (through `open`, `os.write` and `os.fsync` alike)."""
    import builtins
    import io

    real_open, real_write = builtins.open, os.write

    def open_(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        writing = any(c in mode for c in "wax+")
        if writing and not (isinstance(file, int) and file <= 2):
            return _FullDiskFile(handle)
        return handle

    def write_(fd: int, data) -> int:
        if fd > 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    mp.setattr(builtins, "open", open_)
    mp.setattr(io, "open", open_)
    mp.setattr(os, "write", write_)
    mp.setattr(os, "fsync", fsync)


def full_disk_after_setup(*steps):
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> None:
        for step in steps:
            step(tmp, mp)
        disk_full(tmp, mp)

    return setup


# ---------------------------------------------------------------- the table

TASK = ["compare", "--task", "{tmp}/task", "-s", "prompt", "--runs-dir", "{tmp}/runs"]
TINY = ["model.generator={model}", "generation.max_new_tokens=2"]
RUNS = ["--runs-dir", "{tmp}/runs"]
T = r"\{tmp\}"  # the case folder, as it appears in a regex
BAD_INPUTS: list[Case] = [
    # ---- task folders
    Case(
        "task-train-malformed-json",
        "train.jsonl with a broken line",
        both(earlier_run, task(set_line("train.jsonl", 3, '{"messages": [oops'))),
        TASK,
        1,
        rf"{T}/task/train\.jsonl:3: malformed JSON",
        runs="runs",
    ),
    Case(
        "task-test-not-utf8",
        "test.jsonl saved as Latin-1",
        task(set_line("test.jsonl", 2, b'{"id": "caf\xe9"}')),
        TASK,
        1,
        rf"{T}/task/test\.jsonl:2: not UTF-8 text",
    ),
    Case(
        "task-yaml-not-utf8",
        "task.yaml saved as Latin-1",
        task(lambda root: (root / "task.yaml").write_bytes(b"name: tiny\n" + LATIN1)),
        TASK,
        1,
        rf"{T}/task/task\.yaml:2: not UTF-8 text",
    ),
    Case(
        "task-test-empty",
        "an empty test.jsonl",
        task(lambda root: (root / "test.jsonl").write_text("")),
        TASK,
        1,
        rf"{T}/task/test\.jsonl: file is empty",
    ),
    Case(
        "task-train-is-a-folder",
        "train.jsonl is a folder",
        task(make_folder("train.jsonl")),
        TASK,
        1,
        rf"{T}/task/train\.jsonl: expected a file, found a folder",
    ),
    Case(
        "task-yaml-is-a-folder",
        "task.yaml is a folder",
        task(make_folder("task.yaml")),
        TASK,
        1,
        rf"{T}/task/task\.yaml: expected a file, found a folder",
    ),
    Case(
        "task-corpus-is-a-file",
        "the corpus folder is a file",
        task(
            lambda root: (
                __import__("shutil").rmtree(root / "corpus"),
                (root / "corpus").write_text("not a folder"),
            )
        ),
        TASK,
        1,
        rf"{T}/task/corpus: field 'corpus': expected a folder of documents",
    ),
    Case(
        "task-version-wrong-type",
        "task.yaml version is text",
        task(replace_in("task.yaml", "version: 1", "version: one")),
        TASK,
        1,
        rf"{T}/task/task\.yaml:2: field 'version': expected int, got str",
    ),
    Case(
        "task-money-pattern-not-text",
        "task.yaml style.money_pattern is a number",
        task(
            replace_in(
                "task.yaml", "money_pattern: 'Q\\d{1,3}(,\\d{3})*\\.\\d{2}'", "money_pattern: 5"
            )
        ),
        TASK,
        1,
        rf"{T}/task/task\.yaml:\d+: field 'style\.money_pattern': expected a regular expression \(text\)",
    ),
    Case(
        "task-drift-corpus-not-text",
        "task.yaml drift.corpus is a number",
        task(replace_in("task.yaml", "corpus: corpus_v2", "corpus: 2")),
        TASK,
        1,
        rf"{T}/task/task\.yaml:\d+: field 'drift\.corpus': expected a folder name",
    ),
    Case(
        "task-unknown-kind",
        "a test item of an unknown kind",
        task(item_edit(2, kind="trivia")),
        TASK,
        1,
        rf"{T}/task/test\.jsonl:2: field 'kind': unknown kind 'trivia'",
    ),
    Case(
        "task-missing-field",
        "a test item without its reference",
        task(item_edit(3, reference=None)),
        TASK,
        1,
        rf"{T}/task/test\.jsonl:3: field 'reference': missing required field",
    ),
    Case(
        "task-unknown-role",
        "a train message with an unknown role",
        task(
            set_line("train.jsonl", 1, json.dumps({"messages": [{"role": "bot", "content": "hi"}]}))
        ),
        TASK,
        1,
        rf"{T}/task/train\.jsonl:1: field 'messages\[0\]\.role': unknown role 'bot'",
    ),
    Case(
        "task-duplicate-id",
        "two test items with one id",
        task(item_edit(4, id="seen-1")),
        TASK,
        1,
        rf"{T}/task/test\.jsonl:4: field 'id': duplicate id 'seen-1' \(first on line 1\)",
    ),
    Case(
        "task-leakage",
        "a test question copied from train",
        task(item_edit(1, question="How much does a SINPE transfer cost?")),
        TASK,
        1,
        rf"{T}/task/test\.jsonl:1: field 'question': test item 'seen-1' asks the same question",
    ),
    Case(
        "task-huge-question",
        "a 100,000-character test question",
        both(earlier_run, task(item_edit(2, question="How much? " * 10_000))),
        [*TASK, *TINY],
        1,
        rf"{T}/task/test\.jsonl:2: field 'question': \d[\d,]* tokens, longer than the model's context",
        runs="runs",
        model=True,
    ),
    Case(
        "task-not-a-task",
        "--task names a folder without task.yaml",
        folder("task"),
        TASK,
        1,
        rf"{T}/task: this folder is not a task: it has no task\.yaml",
    ),
    Case(
        "task-unknown-name",
        "--task names no task",
        nothing,
        ["compare", "--task", "bankin", *RUNS],
        1,
        r"no task named 'bankin'",
    ),
    # ---- configs and overrides
    Case(
        "config-malformed-yaml",
        "a config file that is not YAML",
        write("config.yaml", "sft:\n  epochs: [3\n"),
        ["compare", "--config", "{tmp}/config.yaml", *RUNS],
        1,
        rf"{T}/config\.yaml:3: not valid YAML",
    ),
    Case(
        "config-unknown-key",
        "a config file with a misspelt setting",
        write("config.yaml", "sft:\n  epoch: 3\n"),
        ["compare", "--config", "{tmp}/config.yaml", *RUNS],
        1,
        rf"{T}/config\.yaml:2: field 'sft\.epoch': unknown setting",
    ),
    Case(
        "config-wrong-type",
        "a config file with text where a number goes",
        write("config.yaml", "task: banking\nrag:\n  top_k: many\n"),
        ["compare", "--config", "{tmp}/config.yaml", *RUNS],
        1,
        rf"{T}/config\.yaml:3: field 'rag\.top_k': expected a whole number, got 'many'",
    ),
    Case(
        "config-is-a-list",
        "a config file holding a list",
        write("config.yaml", "- sft\n- rag\n"),
        ["compare", "--config", "{tmp}/config.yaml", *RUNS],
        1,
        rf"{T}/config\.yaml: expected a mapping of settings",
    ),
    Case(
        "config-is-a-folder",
        "--config names a folder",
        folder("config.yaml"),
        ["compare", "--config", "{tmp}/config.yaml", *RUNS],
        1,
        rf"{T}/config\.yaml: expected a config file, found a folder",
    ),
    Case(
        "override-not-key-value",
        "an override without '='",
        nothing,
        ["compare", "rag.top_k", *RUNS],
        1,
        r"override 'rag\.top_k' is not key=value",
    ),
    Case(
        "override-unknown-key",
        "an override of a setting that does not exist",
        nothing,
        ["compare", "rag.topk=3", *RUNS],
        1,
        r"field 'rag\.topk': unknown setting",
    ),
    Case(
        "override-bad-yaml",
        "an override whose value is broken YAML",
        nothing,
        ["compare", "sft.lora.target_modules=[q_proj", *RUNS],
        1,
        r"field 'sft\.lora\.target_modules': not a valid value",
    ),
    Case(
        "override-unknown-value",
        "an override with a value outside its choices",
        nothing,
        ["compare", "model.dtype=float16", *RUNS],
        1,
        r"field 'model\.dtype': one of auto, float32, bfloat16",
    ),
    Case(
        "override-nan",
        "an override of a number with nan",
        nothing,
        ["compare", "sft.lr=nan", *RUNS],
        1,
        r"field 'sft\.lr': expected a finite number, got 'nan'",
    ),
    # ---- prices
    Case(
        "prices-negative",
        "a price table with a negative price",
        write("prices.yaml", "cpu_hour_usd: -1\ngpu_hour_usd: 2\n"),
        ["compare", "-s", "prompt", "--prices", "{tmp}/prices.yaml", *RUNS],
        1,
        rf"{T}/prices\.yaml:1: field 'cpu_hour_usd': expected a non-negative number",
    ),
    Case(
        "prices-malformed-yaml",
        "a price table that is not YAML",
        write("prices.yaml", "cpu_hour_usd: 1\ngpu_hour_usd: [\n"),
        ["compare", "-s", "prompt", "--prices", "{tmp}/prices.yaml", *RUNS],
        1,
        rf"{T}/prices\.yaml:3: not valid YAML",
    ),
    Case(
        "prices-is-a-folder",
        "--prices names a folder",
        folder("prices.yaml"),
        ["compare", "-s", "prompt", "--prices", "{tmp}/prices.yaml", *RUNS],
        1,
        rf"{T}/prices\.yaml: expected a price table, found a folder",
    ),
    # ---- scenario files and recommend
    Case(
        "scenario-malformed-yaml",
        "a scenario file that is not YAML",
        write("scenario.yaml", "compute: cpu\ngaps: [tone\n"),
        ["recommend", "{tmp}/scenario.yaml"],
        1,
        rf"{T}/scenario\.yaml:3: not valid YAML",
    ),
    Case(
        "scenario-unknown-field",
        "a scenario file with a misspelt field",
        write("scenario.yaml", "compute: cpu\nlabelled_examples: 100\n"),
        ["recommend", "{tmp}/scenario.yaml"],
        1,
        rf"{T}/scenario\.yaml:2: field 'labelled_examples': unknown field",
    ),
    Case(
        "scenario-wrong-type",
        "a scenario field with the wrong type",
        write("scenario.yaml", "compute: cpu\nlabeled_examples: lots\n"),
        ["recommend", "{tmp}/scenario.yaml"],
        1,
        rf"{T}/scenario\.yaml:2: field 'labeled_examples': expected a whole number, got 'lots'",
    ),
    Case(
        "scenario-nan",
        "a scenario latency of .nan",
        write("scenario.yaml", "compute: cpu\nmax_latency_s: .nan\n"),
        ["recommend", "{tmp}/scenario.yaml"],
        1,
        rf"{T}/scenario\.yaml:2: field 'max_latency_s': expected a positive number, got nan",
    ),
    Case(
        "scenario-json-malformed",
        "a scenario .json with a trailing comma",
        write("scenario.json", '{"compute": "cpu",\n}\n'),
        ["recommend", "{tmp}/scenario.json"],
        1,
        rf"{T}/scenario\.json:2: malformed JSON",
    ),
    Case(
        "scenario-empty",
        "an empty scenario file",
        write("scenario.yaml", ""),
        ["recommend", "{tmp}/scenario.yaml"],
        1,
        rf"{T}/scenario\.yaml: the file is empty",
    ),
    Case(
        "scenario-huge",
        "a 2 MB scenario file of one word",
        write("scenario.yaml", "x" * 2_000_000),
        ["recommend", "{tmp}/scenario.yaml"],
        1,
        rf"{T}/scenario\.yaml:1: expected a mapping of scenario fields",
    ),
    Case(
        "scenario-is-a-folder",
        "the scenario file is a folder",
        folder("scenario.yaml"),
        ["recommend", "{tmp}/scenario.yaml"],
        1,
        rf"{T}/scenario\.yaml: expected a scenario file, found a folder",
    ),
    Case(
        "recommend-unknown-value",
        "a field=value outside its choices",
        nothing,
        ["recommend", "compute=quantum"],
        1,
        r"field 'compute': expected one of",
    ),
    Case(
        "recommend-two-files",
        "two scenario files",
        nothing,
        ["recommend", "a.yaml", "b.yaml"],
        1,
        r"more than one scenario file: a\.yaml, b\.yaml",
    ),
    Case(
        "recommend-unknown-format",
        "--format pdf",
        nothing,
        ["recommend", "compute=cpu", "--format", "pdf"],
        1,
        r"field '--format': unknown format 'pdf'",
    ),
    Case(
        "recommend-output-is-a-folder",
        "-o names a folder",
        folder("report.md"),
        ["recommend", "compute=cpu", "-o", "{tmp}/report.md"],
        1,
        rf"{T}/report\.md: cannot write the report: it is a folder",
    ),
    Case(
        "recommend-disk-full",
        "the disk fills while the report is written",
        disk_full,
        ["recommend", "compute=cpu", "-o", "{tmp}/report.md"],
        1,
        rf"{T}/report\.md: cannot write the report \(No space left on device\)",
    ),
    # ---- quiz banks and quiz values
    Case(
        "bank-missing-answer",
        "a quiz question without its answer",
        write(
            "bank.jsonl",
            json.dumps({"id": "q1", "scenario": "s", "options": ["a", "b"], "answer": "A"})
            + "\n"
            + json.dumps({"id": "q2", "scenario": "s", "options": ["a", "b"]})
            + "\n",
        ),
        ["quiz", "--bank", "{tmp}/bank.jsonl", "--answers", "A"],
        1,
        rf"{T}/bank\.jsonl:2: field 'answer': None is not one of the options",
    ),
    Case(
        "bank-options-wrong-type",
        "quiz options given as a number",
        write("bank.jsonl", json.dumps({"id": 1, "scenario": "s", "options": 4, "answer": "A"})),
        ["quiz", "--bank", "{tmp}/bank.jsonl", "--answers", "A"],
        1,
        rf"{T}/bank\.jsonl:1: field 'options': expected an object of lettered options",
    ),
    Case(
        "bank-huge-line",
        "a 5 MB line of garbage in a quiz bank",
        write("bank.jsonl", "{" + "x" * 5_000_000 + "\n"),
        ["quiz", "--bank", "{tmp}/bank.jsonl", "--answers", "A"],
        1,
        rf"{T}/bank\.jsonl:1: malformed JSON",
    ),
    Case(
        "bank-is-a-folder",
        "--bank names a folder",
        folder("bank"),
        ["quiz", "--bank", "{tmp}/bank", "--answers", "A"],
        1,
        rf"{T}/bank: expected a bank file, found a folder",
    ),
    Case(
        "quiz-json-is-a-folder",
        "--json names a folder",
        folder("results"),
        ["quiz", "-n", "1", "--seed", "1", "--answers", "A", "--json", "{tmp}/results"],
        1,
        rf"{T}/results: cannot write the results: it is a folder",
    ),
    Case(
        "quiz-bad-letters",
        "--answers with letters that are no options",
        nothing,
        ["quiz", "-n", "2", "--seed", "1", "--answers", "Z?"],
        1,
        r"field 'answers': answer 1 is 'Z' but question [\w-]+ has options A, B, C, D",
    ),
    Case(
        "quiz-negative-n",
        "--n -3",
        nothing,
        ["quiz", "-n", "-3", "--answers", "A"],
        1,
        r"field '--n': must be zero or more",
    ),
    # ---- run folders
    Case(
        "runs-show-unknown",
        "runs show with an id that matches no run",
        earlier_run,
        ["runs", "show", "2099", *RUNS],
        1,
        rf"{T}/runs: no run matches '2099'",
        runs="runs",
    ),
    Case(
        "runs-show-manifest-garbage",
        "runs show on a run whose manifest.json is garbage",
        run_with("manifest.json", b"\x00\x01garbage"),
        ["runs", "show", "20240202", *RUNS],
        1,
        rf"{T}/runs/20240202-000000-tiny-bad00000/manifest\.json: manifest\.json is missing or damaged",
        runs="runs",
    ),
    Case(
        "runs-show-manifest-wrong-types",
        "runs show on a run whose manifest fields have the wrong types",
        run_with("manifest.json", json.dumps({"task": "tiny", "device": 3, "seeds": 7})),
        ["runs", "show", "20240202", *RUNS],
        1,
        rf"{T}/runs/20240202-000000-tiny-bad00000/manifest\.json: field 'task': expected an object",
        runs="runs",
    ),
    Case(
        "runs-show-scores-wrong-shape",
        "runs show on a run whose scores.json has the wrong shape",
        run_with("scores.json", json.dumps({"schema": 1, "strategies": {"prompt": []}})),
        ["runs", "show", "20240202", *RUNS],
        1,
        rf"{T}/runs/20240202-000000-tiny-bad00000/scores\.json: field 'strategies\.prompt': expected an object",
        runs="runs",
    ),
    Case(
        "recommend-from-run-scores-wrong-shape",
        "recommend --from-run on scores.json with the wrong shape",
        run_with("scores.json", json.dumps({"schema": 1, "strategies": ["prompt"]})),
        ["recommend", "--from-run", "{tmp}/runs/20240202-000000-tiny-bad00000"],
        1,
        rf"{T}/runs/20240202-000000-tiny-bad00000/scores\.json: field 'strategies': expected an object",
        runs="runs",
    ),
    Case(
        "recommend-from-run-missing",
        "recommend --from-run on a folder that is no run",
        folder("runs/nothing-here"),
        ["recommend", "--from-run", "{tmp}/runs/nothing-here"],
        1,
        rf"{T}/runs/nothing-here: no scores\.json here",
        runs="runs",
    ),
    Case(
        "resume-not-a-run",
        "compare --resume on a folder that is no run",
        both(earlier_run, task(), folder("runs/elsewhere")),
        [*TASK, "--resume", "{tmp}/runs/elsewhere", *TINY],
        1,
        rf"{T}/runs/elsewhere: not a run folder \(no readable manifest\.json\)",
        runs="runs",
        model=True,
    ),
    Case(
        "resume-a-file",
        "compare --resume on a file",
        both(earlier_run, task(), write("runs/notes.txt", "my notes\n")),
        [*TASK, "--resume", "{tmp}/runs/notes.txt", *TINY],
        1,
        rf"{T}/runs/notes\.txt: not a run folder",
        runs="runs",
        model=True,
    ),
    Case(
        "runs-rm-unknown",
        "runs rm with an id that matches no run",
        earlier_run,
        ["runs", "rm", "nope", "--yes", *RUNS],
        1,
        rf"{T}/runs: no run matches 'nope'",
        runs="runs",
    ),
    Case(
        "runs-list-bad-sort",
        "runs list --sort size",
        earlier_run,
        ["runs", "list", "--sort", "size", *RUNS],
        1,
        r"field '--sort': unknown sort key 'size'",
        runs="runs",
    ),
    Case(
        "runs-dir-is-a-file",
        "--runs-dir names a file",
        write("runs", "not a folder\n"),
        ["runs", "list", "--runs-dir", "{tmp}/runs"],
        1,
        rf"{T}/runs: expected a runs folder, found a file",
    ),
    Case(
        "compare-read-only-runs",
        "a runs folder that cannot be written",
        read_only_runs,
        [*TASK, *TINY],
        1,
        rf"{T}/runs: cannot create the run folder \(Permission denied\)",
        runs="runs",
        model=True,
    ),
    Case(
        "compare-disk-full",
        "the disk is full when the run starts writing",
        full_disk_after_setup(earlier_run, task()),
        [*TASK, *TINY],
        1,
        rf"{T}/runs/[^ ]+: cannot write the (lock )?file \(No space left on device\)",
        runs="runs",
        model=True,
    ),
    # ---- other commands and plain CLI values
    Case(
        "tasks-init-disk-full",
        "the disk is full during tasks init",
        disk_full,
        ["tasks", "init", "{tmp}/new-task"],
        1,
        rf"{T}/new-task/task\.yaml: cannot write the file \(No space left on device\)",
    ),
    Case(
        "tasks-import-disk-full",
        "the disk is full during tasks import",
        full_disk_after_setup(
            write(
                "data.csv",
                "text,label\n" + "".join(f"message number {i},{'ab'[i % 2]}\n" for i in range(20)),
            )
        ),
        ["tasks", "import", "{tmp}/data.csv", "--to", "{tmp}/out", "--text-col", "text"]
        + ["--label-col", "label"],
        1,
        rf"{T}/out: cannot write the task folder \(No space left on device\)",
    ),
    Case(
        "tasks-import-missing",
        "tasks import of a file that does not exist",
        nothing,
        ["tasks", "import", "{tmp}/nope.csv", "--to", "{tmp}/out"],
        1,
        rf"{T}/nope\.csv",
    ),
    Case(
        "tasks-import-not-utf8",
        "tasks import of a Latin-1 CSV",
        write("data.csv", b"text,label\n" + "café,food\n".encode("latin-1")),
        ["tasks", "import", "{tmp}/data.csv", "--to", "{tmp}/out"],
        1,
        rf"{T}/data\.csv(:2)?: .*UTF-8",
    ),
    Case(
        "explain-unknown",
        "explain a term the glossary lacks",
        nothing,
        ["explain", "quantum annealing"],
        1,
        r"no glossary entry for 'quantum annealing'",
    ),
    Case(
        "profile-unknown",
        "--profile fast",
        nothing,
        ["compare", "--profile", "fast", *RUNS],
        1,
        r"field 'profile': unknown profile 'fast'",
    ),
    Case(
        "limit-negative",
        "--limit -3",
        nothing,
        ["compare", "--limit", "-3", *RUNS],
        1,
        r"field 'limit': must be 0 \(all\) or a positive number",
    ),
    Case(
        "seeds-not-numbers",
        "--seeds a,b",
        nothing,
        ["compare", "--seeds", "a,b", *RUNS],
        1,
        r"field 'seeds\[0\]': expected a whole number, got 'a'",
    ),
    Case(
        "limit-not-a-number",
        "--limit ten (a usage error)",
        nothing,
        ["compare", "--limit", "ten", *RUNS],
        2,
        r"Invalid value for '--limit'",
    ),
    Case(
        "unknown-option",
        "an option that does not exist (a usage error)",
        nothing,
        ["compare", "--limt", "3"],
        2,
        r"No such option: --limt",
    ),
]


# ---------------------------------------------------------------- running a case


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under `root` and the bytes of each file (None for a folder)."""
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): (None if p.is_dir() else p.read_bytes())
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("bad-input-model") / "tiny")


def run_case(case: Case, tmp: Path, mp: pytest.MonkeyPatch, model: Path | None):
    """(result, the error line, the runs folder before, after) for one case."""
    case.setup(tmp, mp)
    names = {"tmp": str(tmp), "model": str(model)}
    args = [a.format(**names) for a in case.args]
    if args[0] == "compare" and not case.model:
        # a case that wrongly got past its check must not load the real model
        args.append(f"model.generator={tmp}/no-model-here")
    runs = tmp / case.runs if case.runs else None
    before = snapshot(runs) if runs else None
    try:
        result = runner.invoke(app, args, input=case.stdin, env=case.env or None)
    finally:
        mp.undo()  # the simulated read-only folder or full disk ends with the command
    after = snapshot(runs) if runs else None
    return result, error_line(result, case.exit), before, after


def error_line(result, exit_code: int) -> str | None:
    """The one line that says what is wrong (`error: ...`), without its prefix."""
    lines = result.stderr.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    if len(errors) != 1:
        return None
    i = errors[0]
    rest = lines[i + 1 :]
    # anything after the error line is its hint (which may run over indented lines)
    assert not rest or rest[0].startswith("  hint: "), f"the error wrapped: {lines[i:]}"
    return lines[i].removeprefix("error: ")


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c.id for c in BAD_INPUTS])
def test_bad_input(case: Case, tmp_path: Path, request) -> None:
    model = request.getfixturevalue("tiny_model") if case.model else None
    with pytest.MonkeyPatch.context() as mp:
        result, line, before, after = run_case(case, tmp_path, mp, model)
    output = result.output
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert result.exit_code == case.exit, output
    assert line is not None, f"no single error line in:\n{result.stderr}"
    expected = case.expect.replace(T, re.escape(str(tmp_path)))
    assert re.search(expected, line), f"{line!r} does not match {expected!r}"
    if case.runs:
        assert before, "the case should start with a runs folder"
        assert after == before, "the runs folder changed"


def test_the_table_is_big_enough() -> None:
    assert len(BAD_INPUTS) >= 30
    assert len({c.id for c in BAD_INPUTS}) == len(BAD_INPUTS)
