"""`scratch`: the from-scratch transformer — it learns, it generates like a HF model,
and the strategy runs on the tiny task."""

from __future__ import annotations

import pytest
import torch

from advisor.config import RunConfig, ScratchConfig
from advisor.tasks import load_task
from strategies.generation import generate
from strategies.protocol import StrategyContext
from strategies.scratch import UNK, ScratchStrategy, build_model, to_compact
from strategies.training import Example, epoch_batches, train
from tiny import cpu_device, tiny_provider, tiny_tokenizer, write_tiny_task

LINES = [
    "A SINPE transfer costs Q5.00 for amounts up to Q5,000.00.",
    "A replacement debit card costs Q35.00.",
    "Branches open from 9:00 am to 5:00 pm.",
    "The mobile wallet daily limit is Q3,000.00.",
]


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread (see tests/test_training.py)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


def _small(**overrides) -> ScratchConfig:
    return ScratchConfig(**{"n_layer": 2, "n_head": 2, "n_embd": 32, "block_size": 64, **overrides})


def _line_examples(tokenizer):
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    ids = [tuple(tokenizer(line)["input_ids"]) + (end,) for line in LINES]
    return [Example(i, i) for i in ids], end


def test_the_scratch_model_overfits_a_handful_of_lines(tokenizer):
    examples, end = _line_examples(tokenizer)
    torch.manual_seed(0)
    used = {i for e in examples for i in e.input_ids}
    model = build_model(used, len(tokenizer), _small())
    compact = to_compact(model, examples)
    log = train(
        model,
        epoch_batches(compact, 4, seed=0, steps=150, pad_token_id=int(model.to_compact[end])),
        steps=150,
        lr=3e-3,
        device=cpu_device(),
        warmup_ratio=0.05,
    )
    # near zero except the first tokens, which no model can tell apart from a line's start
    assert log.first_loss > 3.0 and log.last_loss < 0.3

    for line, example in zip(LINES, examples, strict=True):
        prompt = torch.tensor([example.input_ids[:4]])
        output = model.generate(
            input_ids=prompt, max_new_tokens=40, pad_token_id=end, eos_token_id=[end]
        )
        new = output[0, 4:].tolist()
        assert new[-1] == end
        assert tokenizer.decode(list(example.input_ids[:4]) + new[:-1]) == line


def test_generate_has_hugging_face_semantics_with_left_padding(tokenizer):
    examples, end = _line_examples(tokenizer)
    torch.manual_seed(0)
    model = build_model({i for e in examples for i in e.input_ids}, len(tokenizer), _small())
    model.eval()
    prompts = [list(examples[0].input_ids[:9]), list(examples[1].input_ids[:3])]
    one_by_one = [
        model.generate(input_ids=torch.tensor([p]), max_new_tokens=5, eos_token_id=[end])[0]
        for p in prompts
    ]
    width = max(len(p) for p in prompts)
    padded = torch.tensor([[end] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    batched = model.generate(
        input_ids=padded, attention_mask=mask, max_new_tokens=5, pad_token_id=end, eos_token_id=end
    )
    assert torch.equal(batched[:, :width], padded)  # the prompt comes back unchanged
    for row, alone in enumerate(one_by_one):
        new = batched[row, width:].tolist()
        expected = alone[len(prompts[row]) :].tolist()
        assert new[: len(expected)] == expected
        assert all(t == end for t in new[len(expected) :])


def test_unknown_tokens_map_to_unk_and_are_never_generated(tokenizer):
    examples, end = _line_examples(tokenizer)
    used = {i for e in examples for i in e.input_ids}
    model = build_model(used, len(tokenizer), _small())
    unseen = next(i for i in range(len(tokenizer)) if i not in used)
    assert int(model.to_compact[unseen]) == UNK
    assert model.vocab_size == len(used) + 1
    assert all(int(model.to_original[model.to_compact[i]]) == i for i in used)
    with torch.no_grad():
        model.lm_head.weight[UNK].fill_(10.0)  # make <unk> the likeliest token
    output = model.generate(input_ids=torch.tensor([[unseen, unseen]]), max_new_tokens=5)
    assert set(output[0, 2:].tolist()) <= used


def test_generation_longer_than_the_context_keeps_the_last_block(tokenizer):
    examples, end = _line_examples(tokenizer)
    model = build_model({i for e in examples for i in e.input_ids}, len(tokenizer), _small())
    long_prompt = torch.tensor([list(examples[0].input_ids) * 6])  # > block_size
    assert long_prompt.size(1) > model.block_size
    output = model.generate(input_ids=long_prompt, max_new_tokens=3)
    assert output.shape[1] <= long_prompt.size(1) + 3


def test_the_scratch_strategy_trains_and_answers_through_the_shared_generator(tmp_path):
    task = load_task(write_tiny_task(tmp_path / "task"))
    config = RunConfig()
    config.scratch = _small(steps=20, batch_size=4, block_size=160)
    config.generation.max_new_tokens = 8
    phases = []
    ctx = StrategyContext(
        task=task,
        config=config,
        models=tiny_provider(),
        device=cpu_device(),
        seed=0,
        workdir=tmp_path / "run" / "scratch",
        start_phase=lambda description, total: (
            phases.append((description, total)) or (lambda n, fields: None)
        ),
    )
    strategy = ScratchStrategy()
    report = strategy.prepare(ctx)

    assert phases == [("scratch: training", 20)]
    assert report.details["steps"] == 20 and report.details["parameters"] > 0
    assert report.details["loss_last"] < report.details["loss_first"]
    assert report.details["vocabulary"] < len(ctx.models.tokenizer())
    assert (ctx.workdir / "model.pt").is_file() and (ctx.workdir / "train_log.json").is_file()

    questions = [item.question for item in task.test]
    answers = strategy.answer(questions)
    assert len(answers) == len(questions) and all(a.output_tokens <= 8 for a in answers)
    assert report.details["cropped_conversations"] == 0
    assert report.details["longest_conversation"] <= config.scratch.block_size

    again = ScratchStrategy()
    phases.clear()
    resumed = again.prepare(ctx)  # a resumed run: same config, data and seed
    assert phases == [] and resumed.details["resumed"]
    assert resumed.train_time_s == pytest.approx(report.train_time_s, abs=0.01)
    assert [a.text for a in again.answer(questions)] == [a.text for a in answers]

    direct = generate(
        strategy.model,
        strategy.tokenizer,
        [[{"role": "user", "content": "hi"}]],
        max_new_tokens=4,
    )
    assert direct[0].output_tokens <= 4


def test_cached_generation_gives_the_tokens_of_running_the_whole_sequence(tokenizer):
    """The KV-cached path against its definition: each step the whole (left-padded)
    sequence through `forward`, the likeliest known token at the last position."""
    examples, end = _line_examples(tokenizer)
    torch.manual_seed(1)
    model = build_model({i for e in examples for i in e.input_ids}, len(tokenizer), _small())
    compact_examples = to_compact(model, examples)
    pad = int(model.to_compact[end])
    batches = epoch_batches(compact_examples, 4, seed=1, steps=30, pad_token_id=pad)
    train(model, batches, steps=30, lr=3e-3, device=cpu_device())  # half-trained: varied tokens
    model.eval()
    prompts = [list(examples[0].input_ids[:9]), list(examples[1].input_ids[:4])]
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[end] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    steps = 6
    assert width + steps <= model.block_size  # the cached path
    output = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=steps)
    assert len(set(output[:, width:].flatten().tolist())) > 2
    compact, full_mask = model.compact(ids), mask
    with torch.no_grad():
        for _ in range(steps):
            logits = model(compact, full_mask)[:, -1]
            logits[:, UNK] = float("-inf")
            chosen = logits.argmax(dim=-1, keepdim=True)
            compact = torch.cat([compact, chosen], dim=1)
            full_mask = torch.cat([full_mask, torch.ones_like(chosen)], dim=1)
    assert output[:, width:].tolist() == model.to_original[compact[:, width:]].tolist()
