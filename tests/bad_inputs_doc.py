"""Print the bad-input table of docs/runs.md from the real output of each case.

    PYTHONPATH=. python tests/bad_inputs_doc.py > BAD_INPUTS.md

Runs every case of `tests/test_bad_input_table.py` as the test does (the same
set-up, the same app) and writes what the user sees: the error line, with the
case's temporary folder shown as the current one.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.update(
    {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "HF_HUB_OFFLINE": "1"}
    | {"TRANSFORMERS_OFFLINE": "1"}
)

import pytest  # noqa: E402
from test_bad_input_table import BAD_INPUTS, run_case  # noqa: E402

from tiny import save_tiny_model  # noqa: E402


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="advisor-bad-inputs-"))
    os.environ["ADVISOR_CACHE"] = str(root / "cache")
    model = save_tiny_model(root / "tiny-model")
    print("| bad input | command | what the user sees (exact line) | exit |")
    print("|---|---|---|---|")
    for case in BAD_INPUTS:
        tmp = root / case.id
        tmp.mkdir()
        with pytest.MonkeyPatch.context() as mp:
            result, line, _, _ = run_case(case, tmp, mp, model if case.model else None)
        shown = f"error: {line}" if line is not None else "(no single error line)"
        shown = shown.replace(f"{tmp}/", "").replace(str(tmp), ".")
        command = " ".join(["advisor", *case.args]).replace("{tmp}/", "")
        command = command.replace("{model}", "tiny-model")
        print(f"| {cell(case.what)} | `{cell(command)}` | `{cell(shown)}` | {result.exit_code} |")


if __name__ == "__main__":
    main()
