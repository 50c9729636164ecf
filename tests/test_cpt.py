"""`cpt`: LoRA on the raw (v1) corpus with a plain LM loss, answering without retrieval."""

from __future__ import annotations

import pytest
import torch

from advisor.config import RunConfig
from advisor.tasks import load_task
from strategies import cpt as cpt_module
from strategies.cpt import CptStrategy
from strategies.protocol import StrategyContext
from strategies.training import causal_lm_loss, collate, corpus_examples
from tiny import cpu_device, tiny_provider, tiny_tokenizer, write_tiny_task


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread (see tests/test_training.py)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def task(tmp_path):
    return load_task(write_tiny_task(tmp_path / "task"))


def test_corpus_windows_cover_each_document_in_order_with_loss_everywhere(task):
    tokenizer = tiny_tokenizer()
    windows = corpus_examples(tokenizer, task.corpus, max_length=16)
    assert all(2 <= len(w) <= 16 and w.labels == w.input_ids for w in windows)
    joined = [i for w in windows for i in w.input_ids]
    expected = [
        i for d in task.corpus for i in tokenizer(d.text, add_special_tokens=False)["input_ids"]
    ]
    assert joined == expected  # no token lost, none crosses into another document's window
    assert len(corpus_examples(tokenizer, task.corpus, max_length=10_000)) == len(task.corpus)


def test_cpt_trains_on_the_v1_corpus_and_lowers_its_loss(task, tmp_path, monkeypatch):
    seen_documents = []

    def spy(tokenizer, documents, max_length):
        seen_documents.append(documents)
        return corpus_examples(tokenizer, documents, max_length)

    monkeypatch.setattr(cpt_module, "corpus_examples", spy)
    config = RunConfig()
    config.cpt.epochs = 10
    config.cpt.lr = 2e-2
    config.cpt.max_length = 32
    config.cpt.batch_size = 4
    config.generation.max_new_tokens = 6
    provider = tiny_provider()
    with torch.no_grad():
        provider.generator()[0].get_input_embeddings().weight.mul_(10)  # see test_training._llama
    ctx = StrategyContext(
        task=task,
        config=config,
        models=provider,
        device=cpu_device(),
        seed=0,
        workdir=tmp_path / "run" / "cpt",
    )
    tokenizer = provider.tokenizer()
    batch = collate(corpus_examples(tokenizer, task.corpus, 32), tokenizer.pad_token_id)
    with torch.no_grad():
        before = causal_lm_loss(provider.generator()[0], batch).item()

    strategy = CptStrategy()
    report = strategy.prepare(ctx)

    assert seen_documents == [task.corpus] and task.corpus != task.corpus_v2
    assert report.details["documents"] == len(task.corpus)
    assert report.details["loss_last"] < report.details["loss_first"]
    with torch.no_grad():
        after = causal_lm_loss(strategy.model, batch).item()
    assert after < before - 0.5
    assert (ctx.workdir / "adapter" / "adapter_config.json").is_file()

    answers = strategy.answer(["How much does a SINPE transfer cost?", "Write me a poem."])
    assert len(answers) == 2 and all(a.passages == () for a in answers)
