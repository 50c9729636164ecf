"""`sft` and `sft+rag` on the tiny task with a tiny Llama built in the test."""

from __future__ import annotations

import json

import pytest
import torch

from advisor.config import RunConfig
from advisor.tasks import load_task
from strategies.sft import SftRagStrategy, SftStrategy, _training_contexts
from tiny import strategy_context, tiny_provider, write_tiny_task


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


def _config(steps: int = 4) -> RunConfig:
    config = RunConfig()
    config.sft.max_steps = steps
    config.sft.batch_size = 4
    config.generation.max_new_tokens = 6
    return config


def _context(task, tmp_path, name, *, config=None, **options):
    return strategy_context(task, tmp_path / "run" / name, config or _config(), **options)


def test_sft_trains_saves_its_adapter_and_log_and_answers_every_question(task, tmp_path):
    phases = []
    ctx = _context(task, tmp_path, "sft", phases=phases)
    strategy = SftStrategy()
    report = strategy.prepare(ctx)

    assert phases == [("sft: training", 4)]
    assert report.train_time_s > 0 and report.train_tokens > 0 and report.peak_memory_mb > 0
    assert report.details["steps"] == 4 and report.details["train_examples"] == len(task.train)
    assert (ctx.workdir / "adapter" / "adapter_model.safetensors").is_file()
    record = json.loads((ctx.workdir / "train_log.json").read_text())
    assert [s["step"] for s in record["log"]["steps"]] == [1, 2, 3, 4]
    assert all(s["loss"] > 0 for s in record["log"]["steps"])

    questions = [item.question for item in task.test]
    answers = strategy.answer(questions)
    assert len(answers) == len(questions)
    assert all(a.passages == () and a.prompt_tokens > 0 for a in answers)
    assert [a.text for a in strategy.answer(questions)] == [a.text for a in answers]


def test_sft_base_model_of_the_run_is_left_untouched(task, tmp_path):
    provider = tiny_provider()
    base, _ = provider.generator()
    before = {k: v.clone() for k, v in base.state_dict().items()}
    SftStrategy().prepare(_context(task, tmp_path, "sft", provider=provider))
    for name, value in base.state_dict().items():
        torch.testing.assert_close(value, before[name], rtol=0, atol=0)


def test_a_train_limit_trains_on_a_seeded_subset(task, tmp_path):
    report = SftStrategy(train_limit=5).prepare(_context(task, tmp_path, "sft-5"))
    assert report.details["train_examples"] == 5 and report.details["train_limit"] == 5
    full = SftStrategy().prepare(_context(task, tmp_path, "sft"))
    assert full.details["fingerprint"] != report.details["fingerprint"]


def test_sft_rag_reuses_the_sft_adapter_of_the_run_and_cites_passages(task, tmp_path):
    shared, phases = {}, []
    provider = tiny_provider()
    sft = SftStrategy()
    sft.prepare(_context(task, tmp_path, "sft", shared=shared, provider=provider, phases=phases))
    both = SftRagStrategy()
    report = both.prepare(
        _context(task, tmp_path, "sft+rag", shared=shared, provider=provider, phases=phases)
    )

    assert [p[0] for p in phases] == ["sft: training"]  # trained once
    # the run keeps the adapter's weights, not the merged model: sft+rag attaches them
    # to a fresh base copy and answers with the very weights sft answered with
    assert both.model is not sft.model
    theirs = sft.model.state_dict()
    for name, value in both.model.state_dict().items():
        torch.testing.assert_close(value, theirs[name], rtol=0, atol=0)
    assert report.details["adapter"] == "shared"
    answers = both.answer(["How much does a SINPE transfer cost?", "When are branches open?"])
    assert all(len(a.passages) == both._ctx.config.rag.top_k for a in answers)
    assert "SINPE" in answers[0].passages[0].text
    assert "Q7.50" in answers[0].passages[0].text  # retrieval reads the current corpus (v2)


def test_sft_rag_finds_the_adapter_saved_by_sft_in_the_run_folder(task, tmp_path):
    """A resumed run: sft finished in an earlier process, sft+rag starts fresh."""
    provider = tiny_provider()
    SftStrategy().prepare(_context(task, tmp_path, "sft", provider=provider))
    phases = []
    report = SftRagStrategy().prepare(
        _context(task, tmp_path, "sft+rag", provider=provider, phases=phases)
    )
    assert phases == [] and report.details["resumed"]
    assert report.details["adapter"] == str(tmp_path / "run" / "sft" / "adapter")


def test_sft_rag_trains_its_own_adapter_when_none_exists(task, tmp_path):
    phases = []
    report = SftRagStrategy().prepare(_context(task, tmp_path, "sft+rag", phases=phases))
    assert [p[0] for p in phases] == ["sft: training"] and not report.details["resumed"]
    assert (tmp_path / "run" / "sft+rag" / "adapter" / "adapter_config.json").is_file()


def test_context_training_reads_the_corpus_as_it_was_at_training_time(task, tmp_path):
    config = _config()
    config.rag.train_with_context = True  # the RAFT-style option
    config.sft.max_length = 1024  # the tiny BPE spends many tokens on the passages
    shared = {}
    ctx = _context(task, tmp_path, "sft+rag", config=config, shared=shared)
    config.rag.top_k = 3
    contexts = _training_contexts(ctx, task.train, 1.0)
    assert all(found for found in contexts)
    texts = " ".join(p.text for found in contexts for p in found)
    assert "Q5.00" in texts and "Q7.50" not in texts  # v1 fees, never the drifted v2 ones

    strategy = SftRagStrategy()
    report = strategy.prepare(ctx)
    assert report.details["with_context"] is True
    answers = strategy.answer(["How much does a SINPE transfer cost?"])
    assert "Q7.50" in answers[0].passages[0].text  # answering reads v2


def test_context_share_mixes_bare_and_grounded_questions_in_one_shared_adapter(task, tmp_path):
    config = _config()
    config.sft.context_share = 0.5
    config.sft.max_length = 1024
    shared, phases = {}, []
    provider = tiny_provider()
    ctx = _context(
        task, tmp_path, "sft", config=config, shared=shared, provider=provider, phases=phases
    )
    contexts = _training_contexts(ctx, task.train, 0.5)
    with_passages = sum(found is not None for found in contexts)
    assert 0 < with_passages < len(task.train)
    assert contexts == _training_contexts(ctx, task.train, 0.5)  # the same seeded choice
    assert _training_contexts(ctx, task.train, 0.0) is None

    report = SftStrategy().prepare(ctx)
    assert report.details["with_passages"] == with_passages
    both = SftRagStrategy()
    both_ctx = _context(
        task, tmp_path, "sft+rag", config=config, shared=shared, provider=provider, phases=phases
    )
    assert both.prepare(both_ctx).details["adapter"] == "shared"
    assert [p[0] for p in phases] == ["sft: training"]  # one training run serves both


def test_a_max_length_no_prompt_fits_is_a_config_error(task, tmp_path):
    from advisor.errors import ConfigError

    config = _config()
    config.sft.max_length = 10
    with pytest.raises(ConfigError) as caught:
        SftStrategy().prepare(_context(task, tmp_path, "sft", config=config))
    assert caught.value.field == "sft.max_length"
