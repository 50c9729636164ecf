"""The built-in `banking` task (Banco Ceiba Azul), generated from `banking_facts.yaml`.

    python -m benchmarks.generators.banking [--check] [--out DIR]

The generator itself is `benchmarks.generators.facts_table`, shared with the
other facts-table tasks; this module binds it to the banking table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from benchmarks.generators.facts_table import *  # noqa: F403  (the generator's API, for tests)
from benchmarks.generators.facts_table import Table, default_out, facts_file, run_as_script
from benchmarks.generators.facts_table import generate_into as _generate_into
from benchmarks.generators.facts_table import load_table as _load_table
from benchmarks.generators.facts_table import main as _main

NAME = "banking"
FACTS_FILE = facts_file(NAME)
DEFAULT_OUT = default_out(NAME)


def load_table(path: Path = FACTS_FILE) -> Table:
    return _load_table(path)


def main(argv: Sequence[str] | None = None) -> int:
    return _main(argv, name=NAME)


def generate_into(out: Path, facts: Path = FACTS_FILE) -> dict[str, str]:
    return _generate_into(out, facts)


if __name__ == "__main__":
    run_as_script(NAME)
