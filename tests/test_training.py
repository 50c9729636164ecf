"""The shared training code: examples and their answer mask, batches, the loss, the
loop, LoRA, saving and resuming — on tiny models built in the test."""

from __future__ import annotations

import contextlib
import functools
import math

import pytest
import torch

from advisor.config import RunConfig
from advisor.tasks import TrainExample, load_task
from strategies.generation import render_prompt
from strategies.prompting import chat
from strategies.protocol import StrategyContext
from strategies.training import (
    IGNORE_INDEX,
    Example,
    add_lora,
    build_sft_examples,
    causal_lm_loss,
    chunked_cross_entropy,
    collate,
    conversation_for,
    corpus_examples,
    epoch_batches,
    find_saved_adapter,
    length_grouped_batches,
    load_lora,
    lora_adapter,
    merge_for_inference,
    planned_steps,
    read_train_log,
    save_adapter,
    select_examples,
    sft_example,
    shared_prefix_length,
    train,
    warmup_cosine,
)
from tiny import cpu_device, tiny_llama, tiny_provider, tiny_tokenizer, write_tiny_task


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread; several threads on a busy 2-core
    machine spin against each other (measured: 20 tiny steps 0.4 s vs 18 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture
def task(tmp_path):
    return load_task(write_tiny_task(tmp_path / "task"))


def _llama(tokenizer):
    """A tiny Llama whose logits are not all near zero.

    At the usual init (std 0.02, width 32) every logit is close to 0 and a
    low-rank update moves them slowly; larger tied embeddings give LoRA a
    model it can visibly teach in a few dozen steps.
    """
    model = tiny_llama(tokenizer)
    with torch.no_grad():
        model.get_input_embeddings().weight.mul_(10)
    return model


def _adapted_llama(tokenizer):
    """`_llama` with LoRA adapters whose B is not zero, so the adapters take part
    in a check of losses and gradients."""
    model = add_lora(_llama(tokenizer), _lora_config(), seed=0)
    for name, parameter in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(parameter, std=0.1)
    return model


def _lora_config(r: int = 8):
    config = RunConfig().sft.lora
    config.r, config.alpha = r, 2 * r
    return config


# ---------------------------------------------------------------- examples


def test_answer_mask_covers_exactly_the_answer_and_the_end_token(tokenizer, task):
    item = task.train[0]
    conversation = chat(task, item.question)
    example = sft_example(tokenizer, conversation, item.answer, max_length=512)

    prompt_ids = tokenizer(render_prompt(tokenizer, conversation), add_special_tokens=False)[
        "input_ids"
    ]
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert list(example.input_ids[: len(prompt_ids)]) == prompt_ids
    assert set(example.labels[: len(prompt_ids)]) == {IGNORE_INDEX}
    learned = example.labels[len(prompt_ids) :]
    assert IGNORE_INDEX not in learned
    assert list(learned) == list(example.input_ids[len(prompt_ids) :])
    assert learned[-1] == end
    assert tokenizer.decode(learned[:-1]) == item.answer
    # the prompt contains <|im_end|> tokens too (it is also the pad token): none is learned
    assert end in prompt_ids


def test_a_long_answer_is_cut_and_a_prompt_that_fills_the_window_is_skipped(tokenizer, task):
    item = task.train[0]
    conversation = chat(task, item.question)
    full = sft_example(tokenizer, conversation, item.answer, max_length=512)
    prompt_length = sum(1 for label in full.labels if label == IGNORE_INDEX)

    cut = sft_example(tokenizer, conversation, item.answer, max_length=prompt_length + 3)
    assert len(cut) == prompt_length + 3
    assert cut.input_ids == full.input_ids[: prompt_length + 3]
    assert sft_example(tokenizer, conversation, item.answer, max_length=prompt_length) is None

    examples, skipped = build_sft_examples(task, tokenizer, task.train, prompt_length)
    assert skipped > 0 and len(examples) + skipped == len(task.train)


def test_sft_conversations_are_the_ones_asked_at_test_time(task):
    single = task.train[0]
    assert conversation_for(task, single) == chat(task, single.question)

    multi = TrainExample(
        messages=(
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "Card fee?"},
            {"role": "assistant", "content": "Q35.00."},
        ),
        line=1,
    )
    conversation = conversation_for(task, multi)
    asked = chat(task, "Card fee?")
    assert conversation[0] == asked[0] and conversation[-1] == asked[-1]
    assert [m["content"] for m in conversation[1:3]] == ["Hi", "Hello."]


def test_prompt_completion_examples_train_like_chat_ones(tokenizer, task):
    bedrock = next(e for e in task.train if e.line == len(task.train))  # the poem decline
    example = sft_example(tokenizer, conversation_for(task, bedrock), bedrock.answer, 512)
    assert example.loss_tokens > 0


def test_selecting_a_train_subset_is_seeded_and_nested(task):
    ten = select_examples(task.train, 10, seed=3)
    assert len(ten) == 10
    assert select_examples(task.train, 10, seed=3) == ten
    assert select_examples(task.train, 10, seed=4) != ten
    lines = {e.line for e in ten}
    assert {e.line for e in select_examples(task.train, 5, seed=3)} <= lines
    assert select_examples(task.train, None, seed=3) == list(task.train)


# ---------------------------------------------------------------- batches and loss


def test_length_grouped_batches_cover_everything_once_with_little_padding():
    lengths = [(i * 37) % 101 + 1 for i in range(200)]
    batches = length_grouped_batches(lengths, 8, seed=0)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(200))
    assert batches == length_grouped_batches(lengths, 8, seed=0)
    assert batches != length_grouped_batches(lengths, 8, seed=1)

    def padding(groups):
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in groups)

    unsorted = [list(range(s, s + 8)) for s in range(0, 200, 8)]
    assert padding(batches) < padding(unsorted) / 3


def test_epoch_batches_yield_the_planned_number_of_steps():
    examples = [Example((1, 2, 3)[: 1 + i % 3], (1, 2, 3)[: 1 + i % 3]) for i in range(10)]
    steps = planned_steps(len(examples), 4, epochs=2.5)
    assert steps == 8  # 3 batches per epoch
    assert planned_steps(len(examples), 4, epochs=2.5, max_steps=5) == 5
    batches = list(epoch_batches(examples, 4, seed=0, steps=steps, pad_token_id=0))
    assert len(batches) == steps
    assert all((b["labels"] == IGNORE_INDEX).eq(b["attention_mask"] == 0).all() for b in batches)


def test_shared_prefix_is_the_common_prompt_start_without_loss(tokenizer, task):
    examples, _ = build_sft_examples(task, tokenizer, task.train[:4], 512)
    batch = collate(examples, tokenizer.pad_token_id)
    prefix = shared_prefix_length(batch)
    system_end = len(
        tokenizer(
            render_prompt(tokenizer, chat(task, "x"))[
                : -len("x<|im_end|>\n<|im_start|>assistant\n")
            ]
        )["input_ids"]
    )
    assert prefix >= system_end - 2  # the whole rendered system message, give or take a boundary
    assert (batch["input_ids"][:, :prefix] == batch["input_ids"][0, :prefix]).all()
    assert (batch["labels"][:, : prefix + 1] == IGNORE_INDEX).all()
    assert shared_prefix_length(collate(examples[:1], 2)) == 0
    corpus = [Example((5, 6, 7, 8) * 4, (5, 6, 7, 8) * 4), Example((5, 6) * 8, (5, 6) * 8)]
    assert shared_prefix_length(collate(corpus, 2)) == 0  # loss from the first token


@pytest.mark.parametrize(
    "on_loss_positions, share_prefix", [(True, True), (True, False), (False, True)]
)
def test_the_fast_loss_paths_give_the_plain_loss_and_gradients(
    tokenizer, task, on_loss_positions, share_prefix
):
    model = _adapted_llama(tokenizer)
    examples, _ = build_sft_examples(task, tokenizer, task.train[:4], 512)
    batch = collate(examples, tokenizer.pad_token_id)

    def loss_and_grads(**options):
        model.zero_grad()
        loss = causal_lm_loss(model, batch, **options)
        loss.backward()
        grads = [p.grad.clone() for p in model.parameters() if p.requires_grad]
        return loss.item(), grads

    fast, fast_grads = loss_and_grads(
        head_on_loss_positions=on_loss_positions, share_prefix=share_prefix
    )
    plain, plain_grads = loss_and_grads(head_on_loss_positions=False, share_prefix=False)
    assert fast == pytest.approx(plain, rel=1e-5)
    for a, b in zip(fast_grads, plain_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)
    # and the plain path is the loss transformers computes from the full logits
    reference = model(**{k: batch[k] for k in ("input_ids", "attention_mask", "labels")}).loss
    assert plain == pytest.approx(reference.item(), rel=1e-5)


def test_the_head_and_loss_in_chunks_give_the_same_loss_and_gradients():
    """Chunks of rows, each chunk's logits recomputed in the backward pass: the
    same gradient numbers for the hidden states, the head weight within float
    summation order, the loss within it too."""
    torch.manual_seed(0)
    head = torch.nn.Linear(16, 50, bias=False)
    hidden = torch.randn(37, 16, requires_grad=True)
    targets = torch.randint(0, 50, (37,))

    def loss_and_grads(max_logits):
        head.zero_grad()
        hidden.grad = None
        loss = chunked_cross_entropy(head, hidden, targets, max_logits=max_logits)
        loss.backward()
        return loss, hidden.grad.clone(), head.weight.grad.clone()

    whole, whole_hidden, whole_head = loss_and_grads(10**9)  # one chunk: the plain path
    assert torch.equal(whole, torch.nn.functional.cross_entropy(head(hidden), targets))
    chunked, chunked_hidden, chunked_head = loss_and_grads(50 * 8)  # 8 rows at a time: 5 chunks
    torch.testing.assert_close(chunked, whole, rtol=1e-6, atol=0)
    torch.testing.assert_close(chunked_hidden, whole_hidden, rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(chunked_head, whole_head, rtol=1e-5, atol=1e-8)


def test_cpt_loss_on_every_token_in_chunks_trains_the_adapters_as_in_one_piece(
    tokenizer, task, monkeypatch
):
    """The LM loss on every token (cpt's windows) in chunks of a few rows of logits:
    the loss and the LoRA gradients of the whole-logits loss."""
    import strategies.training as training

    model = _adapted_llama(tokenizer)
    batch = collate(corpus_examples(tokenizer, task.corpus, 16)[:4], tokenizer.pad_token_id)
    vocabulary = model.get_output_embeddings().weight.shape[0]

    def loss_and_grads():
        model.zero_grad()
        loss = causal_lm_loss(model, batch)
        loss.backward()
        return loss.item(), [p.grad.clone() for p in model.parameters() if p.requires_grad]

    whole, whole_grads = loss_and_grads()
    monkeypatch.setattr(training, "LOSS_CHUNK_LOGITS", vocabulary * 5)  # 5 positions a chunk
    chunked, chunked_grads = loss_and_grads()
    assert (batch["labels"][:, 1:] != IGNORE_INDEX).sum() > 5 * 4  # several chunks
    assert chunked == pytest.approx(whole, rel=1e-6)
    for a, b in zip(chunked_grads, whole_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_without_prefix_gradients_the_loss_is_the_same_and_only_prefix_paths_lose_gradient(
    tokenizer, task
):
    model = _adapted_llama(tokenizer)
    examples, _ = build_sft_examples(task, tokenizer, task.train[:4], 512)
    batch = collate(examples, tokenizer.pad_token_id)
    assert shared_prefix_length(batch) > 0

    def loss_and_grads(prefix_grad):
        model.zero_grad()
        loss = causal_lm_loss(model, batch, prefix_grad=prefix_grad)
        loss.backward()
        return loss.item(), [p.grad.clone() for p in model.parameters() if p.requires_grad]

    exact, exact_grads = loss_and_grads(True)
    constant, constant_grads = loss_and_grads(False)
    assert constant == pytest.approx(exact, rel=1e-6)  # the same forward pass
    different = [
        not torch.allclose(a, b, rtol=1e-3, atol=1e-6)
        for a, b in zip(exact_grads, constant_grads, strict=True)
    ]
    assert any(different)  # the prefix's share of the gradient is gone
    assert all(g.abs().sum() > 0 for g in constant_grads)  # every adapter still learns


@pytest.mark.parametrize("prefix_grad", [True, False])
@pytest.mark.parametrize("micro_batch", [1, 3])
def test_micro_batches_accumulate_the_whole_batch_gradient(
    tokenizer, task, prefix_grad, micro_batch
):
    """A batch run in pieces of 1 or 3 rows (the last one short), each piece's
    mean loss weighted by its loss tokens: the whole batch's loss and gradients,
    with rows of different answer lengths, the shared prefix on or off."""
    from strategies.training import accumulate_gradients

    model = _adapted_llama(tokenizer)
    examples, _ = build_sft_examples(task, tokenizer, task.train[:5], 512)
    batch = collate(examples, tokenizer.pad_token_id)
    per_row = (batch["labels"][:, 1:] != IGNORE_INDEX).sum(1)
    assert len(set(per_row.tolist())) > 1  # unequal weights: a plain mean of means would differ
    loss = functools.partial(causal_lm_loss, prefix_grad=prefix_grad)

    def loss_and_grads(rows):
        model.zero_grad()
        value = accumulate_gradients(model, batch, loss, rows, cpu_device())
        return value, [p.grad.clone() for p in model.parameters() if p.requires_grad]

    whole, whole_grads = loss_and_grads(0)
    pieces, piece_grads = loss_and_grads(micro_batch)
    assert pieces == pytest.approx(whole, rel=1e-5)
    for a, b in zip(piece_grads, whole_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    # weighting each piece equally instead is a different gradient: the test can fail
    model.zero_grad()
    for start in range(0, 5, micro_batch):
        piece = {k: t[start : start + micro_batch] for k, t in batch.items()}
        (loss(model, piece) / math.ceil(5 / micro_batch)).backward()
    unweighted = [p.grad.clone() for p in model.parameters() if p.requires_grad]
    assert not all(
        torch.allclose(a, b, rtol=1e-4, atol=1e-6)
        for a, b in zip(unweighted, whole_grads, strict=True)
    )


def test_training_in_micro_batches_follows_the_whole_batch_loss_curve(tokenizer, task):
    whole = _train_tiny(tokenizer, task, steps=6)[1]
    pieces = _train_tiny(tokenizer, task, steps=6, micro_batch=2)[1]
    assert [s["tokens"] for s in pieces.steps] == [s["tokens"] for s in whole.steps]
    for a, b in zip(pieces.steps, whole.steps, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-3, abs=1e-4)


def test_learning_rate_warms_up_then_decays():
    factors = [warmup_cosine(s, warmup=10, total=100, min_ratio=0.1) for s in range(100)]
    assert factors[0] == pytest.approx(0.1)
    assert factors[9] == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(factors[:10], factors[1:10], strict=False))
    assert all(a >= b for a, b in zip(factors[10:], factors[11:], strict=False))
    assert factors[-1] == pytest.approx(0.1, abs=0.01)


# ---------------------------------------------------------------- the loop and LoRA


def _train_tiny(tokenizer, task, steps=40, seed=0, lr=2e-2, micro_batch=0):
    model = add_lora(_llama(tokenizer), _lora_config(16), seed=seed)
    examples, _ = build_sft_examples(task, tokenizer, task.train, 512)
    log = train(
        model,
        epoch_batches(examples, 4, seed=seed, steps=steps, pad_token_id=tokenizer.pad_token_id),
        steps=steps,
        lr=lr,
        device=cpu_device(),
        micro_batch=micro_batch,
    )
    return model, log


def test_sft_loss_goes_down_and_only_lora_weights_change(tokenizer, task):
    base = _llama(tokenizer)
    before = {k: v.clone() for k, v in base.state_dict().items()}
    model = add_lora(base, _lora_config(16), seed=0)
    lora_before = {k: v.clone() for k, v in model.named_parameters() if "lora_" in k}
    examples, _ = build_sft_examples(task, tokenizer, task.train, 512)
    log = train(
        model,
        epoch_batches(examples, 4, seed=0, steps=30, pad_token_id=tokenizer.pad_token_id),
        steps=30,
        lr=2e-2,
        device=cpu_device(),
    )

    assert len(log.steps) == 30 and log.tokens > 0 and log.train_time_s > 0
    assert log.last_loss < log.first_loss - 1.0
    changed = [k for k, v in model.named_parameters() if "lora_B" in k and v.abs().sum() > 0]
    assert changed and all(k in lora_before for k in changed)
    for name, value in model.named_parameters():
        if "lora_" in name:
            continue
        original = name.replace("base_model.model.", "").replace(".base_layer", "")
        torch.testing.assert_close(value, before[original], rtol=0, atol=0)
        assert not value.requires_grad


def test_top_layers_puts_adapters_on_the_last_blocks_only(tokenizer, task):
    """And backpropagation stops there: nothing below the adapted blocks gets a gradient."""
    config = _lora_config()
    config.top_layers = 1
    model = add_lora(tiny_llama(tokenizer, layers=3), config, seed=0)
    adapted = {
        name.split(".layers.")[1].split(".")[0]
        for name, _ in model.named_parameters()
        if "lora_" in name
    }
    assert adapted == {"2"}
    examples, _ = build_sft_examples(task, tokenizer, task.train[:4], 512)
    batch = next(epoch_batches(examples, 4, seed=0, steps=1, pad_token_id=tokenizer.pad_token_id))
    hidden = {}
    for index, layer in enumerate(model.get_base_model().model.layers):
        layer.register_forward_hook(lambda m, a, out, i=index: hidden.__setitem__(i, out))
    causal_lm_loss(model, batch).backward()
    assert not hidden[1].requires_grad and hidden[2].requires_grad
    assert all(p.grad is not None for n, p in model.named_parameters() if "lora_A" in n)


def test_seeded_training_repeats_exactly(tokenizer, task):
    _, first = _train_tiny(tokenizer, task, steps=6)
    _, again = _train_tiny(tokenizer, task, steps=6)
    _, other = _train_tiny(tokenizer, task, steps=6, seed=1)
    assert [s["loss"] for s in first.steps] == [s["loss"] for s in again.steps]
    assert [s["loss"] for s in first.steps] != [s["loss"] for s in other.steps]


def test_a_diverging_loss_stops_training(tokenizer, task):
    model = add_lora(tiny_llama(tokenizer), _lora_config(), seed=0)
    examples, _ = build_sft_examples(task, tokenizer, task.train, 512)

    def broken_loss(model, batch):
        return causal_lm_loss(model, batch) * float("nan")

    with pytest.raises(FloatingPointError, match="diverged"):
        train(
            model,
            epoch_batches(examples, 4, seed=0, steps=2, pad_token_id=tokenizer.pad_token_id),
            steps=2,
            lr=1e-3,
            device=cpu_device(),
            loss_fn=broken_loss,
        )


def test_a_saved_adapter_reloads_with_identical_outputs(tokenizer, task, tmp_path):
    model, log = _train_tiny(tokenizer, task, steps=10)
    save_adapter(model, tmp_path / "sft", log, key="abc")
    reloaded = load_lora(_llama(tokenizer), tmp_path / "sft")

    batch = collate(build_sft_examples(task, tokenizer, task.train[:3], 512)[0], 2)
    with torch.no_grad():
        expected = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        got = reloaded(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    torch.testing.assert_close(got.logits, expected.logits, rtol=0, atol=0)
    untrained = _llama(tokenizer)(input_ids=batch["input_ids"]).logits
    assert not torch.allclose(untrained, expected.logits)

    record = read_train_log(tmp_path / "sft")
    assert record["fingerprint"] == "abc"
    assert [s["loss"] for s in record["log"]["steps"]] == [s["loss"] for s in log.steps]
    assert find_saved_adapter([tmp_path / "missing", tmp_path / "sft"], "abc") == tmp_path / "sft"
    assert find_saved_adapter([tmp_path / "sft"], "other") is None


def test_a_resumed_run_loads_the_saved_adapter_instead_of_training(tokenizer, task, tmp_path):
    config = RunConfig()
    config.sft.max_steps = 3
    provider = tiny_provider()
    examples, _ = build_sft_examples(task, tokenizer, task.train, 512)
    phases = []

    def context():
        return StrategyContext(
            task=task,
            config=config,
            models=provider,
            device=cpu_device(),
            seed=0,
            workdir=tmp_path / "run" / "sft",
            start_phase=lambda description, total: phases.append(description) or (lambda n, f: 0),
        )

    model, _, first = lora_adapter(context(), examples, config.sft, key="k1", phase="sft")
    assert not first.details["resumed"] and phases == ["sft: training"]
    assert (tmp_path / "run" / "sft" / "adapter" / "adapter_config.json").is_file()

    again, _, resumed = lora_adapter(context(), examples, config.sft, key="k1", phase="sft")
    assert resumed.details["resumed"] and phases == ["sft: training"]
    assert resumed.train_time_s == pytest.approx(first.train_time_s, abs=0.01)
    batch = collate(examples[:2], 2)
    with torch.no_grad():
        torch.testing.assert_close(
            again(input_ids=batch["input_ids"]).logits, model(input_ids=batch["input_ids"]).logits
        )

    lora_adapter(context(), examples, config.sft, key="k2", phase="sft")
    assert phases == ["sft: training", "sft: training"]


def test_loss_values_in_the_log_are_finite(tokenizer, task):
    _, log = _train_tiny(tokenizer, task, steps=3)
    assert all(math.isfinite(s["loss"]) and s["lr"] > 0 for s in log.steps)


def test_the_bf16_autocast_path_trains(tokenizer, task):
    """What a GPU (or a CPU with native bf16) runs, exercised on the CPU."""
    from advisor.runtime import DeviceInfo

    device = DeviceInfo("cpu", "bfloat16", "test cpu", 1, native_bf16=True)
    model = add_lora(_llama(tokenizer), _lora_config(16), seed=0)
    examples, _ = build_sft_examples(task, tokenizer, task.train, 512)
    log = train(
        model,
        epoch_batches(examples, 4, seed=0, steps=20, pad_token_id=tokenizer.pad_token_id),
        steps=20,
        lr=2e-2,
        device=device,
    )
    assert log.dtype == "bfloat16" and all(math.isfinite(s["loss"]) for s in log.steps)
    assert log.last_loss < log.first_loss - 0.5
    assert all(p.dtype == torch.float32 for p in model.parameters() if p.requires_grad)


def _bf16_lora_run(tokenizer, task, dropout=0.0):
    """A bf16 base with fp32 LoRA weights (as SFT on a bf16 device), 4 steps under
    autocast; the trained LoRA weights, and each step's view of peft's input cast."""
    from peft.tuners.lora import LoraLayer

    from advisor.runtime import DeviceInfo

    device = DeviceInfo("cpu", "bfloat16", "test cpu", 1, native_bf16=True)
    config = _lora_config(8)
    config.dropout = dropout
    model = add_lora(_llama(tokenizer).to(torch.bfloat16), config, seed=0)
    layers = [m for m in model.modules() if isinstance(m, LoraLayer)]
    seen: list[bool] = []

    def loss_fn(model_, batch):
        seen.append(any(m.cast_input_dtype_enabled for m in layers))
        return causal_lm_loss(model_, batch)

    examples, _ = build_sft_examples(task, tokenizer, task.train, 512)
    train(
        model,
        epoch_batches(examples, 4, seed=0, steps=4, pad_token_id=tokenizer.pad_token_id),
        steps=4,
        lr=2e-2,
        device=device,
        loss_fn=loss_fn,
    )
    weights = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    return weights, seen, [m.cast_input_dtype_enabled for m in layers]


def test_bf16_lora_training_leaves_the_input_cast_to_autocast_with_the_same_weights(
    tokenizer, task, monkeypatch
):
    import strategies.training as training

    weights, seen, after = _bf16_lora_run(tokenizer, task)
    assert seen == [False] * 4 and all(after)  # off while training, back on for answering

    with monkeypatch.context() as patch:  # peft's own casting, as before
        patch.setattr(training, "lora_inputs_left_to_autocast", lambda *a: contextlib.nullcontext())
        reference, seen_before, _ = _bf16_lora_run(tokenizer, task)
    assert seen_before == [True] * 4
    assert weights.keys() == reference.keys() and weights
    for name, value in weights.items():
        assert value.dtype == torch.float32
        assert torch.equal(value, reference[name]), name  # bit for bit


def test_lora_dropout_keeps_peft_casting_its_input(tokenizer, task):
    _, seen, _ = _bf16_lora_run(tokenizer, task, dropout=0.1)
    assert seen == [True] * 4


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_sft_and_scratch_train_on_a_gpu_in_bf16(task, tmp_path):
    from advisor.runtime import pick_device
    from strategies.scratch import ScratchStrategy
    from strategies.sft import SftStrategy

    device = pick_device("cuda", "auto")
    provider = tiny_provider()
    provider.device = device
    provider.generator()[0].to(device.device)
    config = RunConfig()
    config.sft.max_steps = 5
    config.scratch.steps = 5
    config.generation.max_new_tokens = 4
    for name, strategy in (("sft", SftStrategy()), ("scratch", ScratchStrategy())):
        ctx = StrategyContext(
            task=task,
            config=config,
            models=provider,
            device=device,
            seed=0,
            workdir=tmp_path / name,
        )
        report = strategy.prepare(ctx)
        assert report.details["device"].startswith("cuda")
        assert report.details["batch_size"] == 16  # doubled on a GPU
        assert len(strategy.answer(["When are branches open?"])) == 1


def test_merging_the_adapter_for_answering_keeps_its_outputs(tokenizer, task):
    model, _ = _train_tiny(tokenizer, task, steps=10)
    model.eval()
    batch = collate(build_sft_examples(task, tokenizer, task.train[:3], 512)[0], 2)
    with torch.no_grad():
        unmerged = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        merge_for_inference(model)
        merged = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    torch.testing.assert_close(merged.logits, unmerged.logits, rtol=1e-4, atol=1e-4)
    adapted = [layer for layer in model.modules() if hasattr(layer, "merged_adapters")]
    assert adapted and all(layer.merged for layer in adapted)
