"""`full_ft` and `full_ft+rag` on the tiny task with a tiny Llama built in the test."""

from __future__ import annotations

import json

import pytest
import torch

from advisor.config import RunConfig
from advisor.tasks import load_task
from strategies.full_ft import FullFtRagStrategy, FullFtStrategy
from strategies.sft import SftStrategy, training_examples
from strategies.training import IGNORE_INDEX
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
    for section in (config.sft, config.full_ft):
        section.max_steps = steps
        section.batch_size = 4
    config.generation.max_new_tokens = 6
    return config


def _context(task, tmp_path, name, *, config=None, **options):
    return strategy_context(task, tmp_path / "run" / name, config or _config(), **options)


def _losses(folder) -> list[float]:
    record = json.loads((folder / "train_log.json").read_text())
    return [step["loss"] for step in record["log"]["steps"]]


def test_full_ft_changes_every_weight_and_leaves_the_run_base_model_alone(task, tmp_path):
    provider = tiny_provider()
    base, _ = provider.generator()
    before = {k: v.clone() for k, v in base.state_dict().items()}
    strategy = FullFtStrategy()
    report = strategy.prepare(_context(task, tmp_path, "full_ft", provider=provider))

    trained = dict(strategy.model.named_parameters())
    assert report.details["trainable_params"] == sum(p.numel() for p in trained.values())
    for name, parameter in trained.items():
        assert not torch.equal(parameter, before[name]), f"{name} did not change"
    for name, value in base.state_dict().items():  # trained a copy, not the shared base
        torch.testing.assert_close(value, before[name], rtol=0, atol=0)


def test_lora_changes_only_its_adapter(task, tmp_path):
    """The other side of the comparison: under LoRA the base weights stay as they were."""
    provider = tiny_provider()
    base, _ = provider.generator()
    before = {k: v.clone() for k, v in base.state_dict().items()}
    strategy = SftStrategy()
    report = strategy.prepare(_context(task, tmp_path, "sft", provider=provider))
    strategy.model.unmerge_adapter()  # merged for answering; the base weights underneath

    adapter = {n: p for n, p in strategy.model.named_parameters() if "lora_" in n}
    assert adapter and report.details["trainable_params"] == sum(
        p.numel() for p in adapter.values()
    )
    assert report.details["trainable_params"] < sum(v.numel() for v in before.values()) / 4
    for name, value in strategy.model.get_base_model().state_dict().items():
        if "lora_" not in name:
            plain = name.replace(".base_layer", "")
            # merge + unmerge rounds at 1e-9; one AdamW step at 2e-5 moves a weight ~2e-5
            torch.testing.assert_close(value, before[plain], rtol=0, atol=1e-7)
    assert any(p.abs().sum() > 0 for n, p in adapter.items() if "lora_B" in n)


def test_full_ft_trains_on_exactly_what_sft_trains_on(task, tmp_path):
    """Same questions, prompts and loss mask: the comparison is of the method alone."""
    config = _config()
    ctx = _context(task, tmp_path, "full_ft", config=config)
    full, full_details = training_examples(ctx, "full_ft", train_limit=None, with_context=False)
    lora, lora_details = training_examples(ctx, "sft", train_limit=None, with_context=False)
    assert full == lora and full_details == lora_details
    for example in full:  # prompt masked, answer and end-of-turn learned
        first = next(i for i, label in enumerate(example.labels) if label != IGNORE_INDEX)
        assert set(example.labels[:first]) == {IGNORE_INDEX}
        assert list(example.labels[first:]) == list(example.input_ids[first:])


def test_full_ft_loss_goes_down_on_a_tiny_overfit_set(task, tmp_path):
    config = _config(steps=30)
    config.full_ft.lr = 3e-3  # a random tiny model, not a pre-trained one
    config.full_ft.warmup_ratio = 0.0
    config.full_ft.epochs = 30  # one batch of four examples, thirty times
    report = FullFtStrategy(train_limit=4).prepare(
        _context(task, tmp_path, "full_ft", config=config)
    )
    assert report.details["steps"] == 30
    assert report.details["loss_last"] < 0.7 * report.details["loss_first"]


def test_full_ft_saves_its_weights_and_a_resumed_run_reuses_them(task, tmp_path):
    phases = []
    first = FullFtStrategy()
    report = first.prepare(_context(task, tmp_path, "full_ft", phases=phases))
    folder = tmp_path / "run" / "full_ft"
    assert phases == [("full_ft: training", 4)] and not report.details["resumed"]
    assert (folder / "weights" / "model.safetensors").is_file()
    assert report.details["saved_mb"] > 0 and report.details["train_peak_mb"] > 0
    assert _losses(folder) and all(loss > 0 for loss in _losses(folder))
    questions = [item.question for item in task.test]
    answers = [a.text for a in first.answer(questions)]

    phases.clear()  # a new process: nothing shared, the run folder as it was left
    again = FullFtStrategy()
    resumed = again.prepare(_context(task, tmp_path, "full_ft", phases=phases))
    assert phases == [] and resumed.details["resumed"]
    assert resumed.details["fingerprint"] == report.details["fingerprint"]
    for name, value in first.model.state_dict().items():
        torch.testing.assert_close(again.model.state_dict()[name], value, rtol=0, atol=0)
    assert [a.text for a in again.answer(questions)] == answers

    changed = _config()
    changed.full_ft.lr = 1e-4  # another setting: another fingerprint, trained again
    other = FullFtStrategy().prepare(
        _context(task, tmp_path, "full_ft", config=changed, phases=phases)
    )
    assert phases == [("full_ft: training", 4)] and not other.details["resumed"]


def test_full_ft_rag_reuses_the_weights_full_ft_trained_and_cites_passages(task, tmp_path):
    shared, phases = {}, []
    provider = tiny_provider()
    full = FullFtStrategy()
    full.prepare(
        _context(task, tmp_path, "full_ft", shared=shared, provider=provider, phases=phases)
    )
    both = FullFtRagStrategy()
    report = both.prepare(
        _context(task, tmp_path, "full_ft+rag", shared=shared, provider=provider, phases=phases)
    )
    assert [p[0] for p in phases] == ["full_ft: training"]  # trained once
    assert both.model is full.model and report.details["weights"] == "shared"
    answers = both.answer(["How much does a SINPE transfer cost?"])
    assert "SINPE" in answers[0].passages[0].text


def test_full_ft_rag_finds_the_weights_full_ft_saved_in_the_run_folder(task, tmp_path):
    FullFtStrategy().prepare(_context(task, tmp_path, "full_ft"))
    phases = []
    report = FullFtRagStrategy().prepare(_context(task, tmp_path, "full_ft+rag", phases=phases))
    assert phases == [] and report.details["resumed"]
    assert report.details["weights"] == str(tmp_path / "run" / "full_ft" / "weights")


def test_gradient_checkpointing_gives_the_same_losses(task, tmp_path):
    plain = _config()
    checkpointed = _config()
    checkpointed.full_ft.gradient_checkpointing = True
    FullFtStrategy().prepare(_context(task, tmp_path, "plain", config=plain))
    report = FullFtStrategy().prepare(_context(task, tmp_path, "gc", config=checkpointed))
    assert report.details["gradient_checkpointing"] is True
    expected = _losses(tmp_path / "run" / "plain")
    assert _losses(tmp_path / "run" / "gc") == pytest.approx(expected, rel=1e-4)


def test_a_max_length_no_prompt_fits_names_the_full_ft_setting(task, tmp_path):
    from advisor.errors import ConfigError

    config = _config()
    config.full_ft.max_length = 10
    with pytest.raises(ConfigError) as caught:
        FullFtStrategy().prepare(_context(task, tmp_path, "full_ft", config=config))
    assert caught.value.field == "full_ft.max_length"
