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


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny models gain nothing from threads, and two test processes (or a test
    next to other work) oversubscribing 2 cores slowed tiny training steps ~40x."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def pytest_configure(config):
    """Make `tests/tiny.py` importable as `tiny` from every test module."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
