"""The built-in `banking` task (Banco Ceiba Azul), generated from `banking_facts.yaml`,
and its variant `banking-large`, which adds `banking_facts_large.yaml`'s train set.

    python -m benchmarks.generators.banking [--check] [--variant large] [--out DIR]

The generator itself is `benchmarks.generators.facts_table`, shared with the
other facts-table tasks; this module binds it to the banking table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from benchmarks.generators.facts_table import *  # noqa: F403  (the generator's API, for tests)
from benchmarks.generators.facts_table import (
    Table,
    default_out,
    facts_file,
    run_as_script,
    variant_file,
)
from benchmarks.generators.facts_table import generate_into as _generate_into
from benchmarks.generators.facts_table import load_table as _load_table
from benchmarks.generators.facts_table import load_variant as _load_variant
from benchmarks.generators.facts_table import main as _main

NAME = "banking"
FACTS_FILE = facts_file(NAME)
DEFAULT_OUT = default_out(NAME)
LARGE_FILE = variant_file(NAME, "large")
LARGE_OUT = default_out(f"{NAME}-large")


def load_table(path: Path = FACTS_FILE) -> Table:
    return _load_table(path)


def load_large_table(path: Path = LARGE_FILE, facts: Path = FACTS_FILE) -> Table:
    """The banking table with the large train set's wordings merged in."""
    return _load_variant(_load_table(facts), path)


def main(argv: Sequence[str] | None = None) -> int:
    return _main(argv, name=NAME)


def generate_into(
    out: Path, facts: Path = FACTS_FILE, variant: Path | None = None
) -> dict[str, str]:
    return _generate_into(out, facts, variant)


if __name__ == "__main__":
    run_as_script(NAME)
