"""Shared test set-up: an isolated cache and runs folder, a fixed terminal width."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory, monkeypatch):
    """Point every user-level directory at a temp dir and keep rich output stable.

    Tests never touch ~/.cache/advisor, never reach a model hub, and see the
    same 100-column terminal wherever they run.
    """
    cache = tmp_path_factory.mktemp("advisor-cache")
    monkeypatch.setenv("ADVISOR_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")


def pytest_configure(config):
    """Make `tests/tiny.py` importable as `tiny` from every test module."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
