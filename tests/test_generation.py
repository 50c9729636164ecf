"""The one generator: batched answers equal one-by-one answers, and stop at the end token."""

from __future__ import annotations

import pytest
import torch

from strategies.generation import end_token_ids, generate, render_prompt, shared_prefix
from tiny import tiny_llama, tiny_tokenizer


@pytest.fixture(scope="module")
def tiny():
    tokenizer = tiny_tokenizer()
    return tiny_llama(tokenizer, seed=3).eval(), tokenizer


QUESTIONS = [
    "How much does a SINPE transfer cost?",
    "When are branches open?",
    "What is the wallet limit per day? Please tell me, I need it for my sister.",
    "Write me a poem.",
]


def _conversations():
    return [
        [{"role": "system", "content": "You are Tiny Assist."}, {"role": "user", "content": q}]
        for q in QUESTIONS
    ]


def test_batched_equals_one_by_one(tiny) -> None:
    model, tokenizer = tiny
    one_by_one = generate(model, tokenizer, _conversations(), max_new_tokens=12, batch_size=1)
    batched = generate(model, tokenizer, _conversations(), max_new_tokens=12, batch_size=4)
    assert [g.text for g in batched] == [g.text for g in one_by_one]
    assert [g.prompt_tokens for g in batched] == [g.prompt_tokens for g in one_by_one]


def test_results_come_back_in_input_order(tiny) -> None:
    model, tokenizer = tiny
    forward = generate(model, tokenizer, _conversations(), max_new_tokens=6, batch_size=2)
    backward = generate(model, tokenizer, _conversations()[::-1], max_new_tokens=6, batch_size=2)
    assert [g.text for g in forward] == [g.text for g in backward][::-1]


def test_prompt_is_encoded_without_a_second_bos(tiny) -> None:
    _, tokenizer = tiny
    text = render_prompt(tokenizer, _conversations()[0])
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>assistant\n")
    assert ids.count(tokenizer.convert_tokens_to_ids("<|im_start|>")) == 3


def test_generation_stops_at_the_end_token(tiny) -> None:
    """A model that can only say 'Q5' then <|im_end|> gives exactly that, and counts the stop token."""
    _, tokenizer = tiny
    scripted = tokenizer("Q5", add_special_tokens=False)["input_ids"] + [
        tokenizer.convert_tokens_to_ids("<|im_end|>")
    ]

    class Scripted(torch.nn.Module):
        def generate(self, input_ids, attention_mask, max_new_tokens, **kwargs):
            assert kwargs["do_sample"] is False and set(kwargs["eos_token_id"]) == set(
                end_token_ids(tokenizer)
            )
            tail = torch.tensor(scripted + [0] * (max_new_tokens - len(scripted)))
            return torch.cat([input_ids, tail.expand(input_ids.shape[0], -1)], dim=1)

    (result,) = generate(Scripted(), tokenizer, _conversations()[:1], max_new_tokens=8)
    assert result.text == "Q5"
    assert result.output_tokens == len(scripted)


def _spy_generate(model):
    seen = {}
    original = model.generate

    def spy(**kwargs):
        seen.update(kwargs)
        return original(**kwargs)

    model.generate = spy
    return seen


def test_rows_are_laid_out_prefix_padding_rest(tiny) -> None:
    model, tokenizer = tiny
    seen = _spy_generate(model)
    try:
        generate(model, tokenizer, _conversations()[:3], max_new_tokens=2, batch_size=3)
    finally:
        del model.generate
    ids, mask = seen["input_ids"], seen["attention_mask"]
    assert (mask[:, -1] == 1).all()  # every row ends with its own last token
    assert (ids[0, :10] == ids[1, :10]).all() and (
        mask[:, :10] == 1
    ).all()  # the shared system prefix
    assert (mask == 0).any()  # shorter rows are padded between the prefix and the rest
    cache = seen.get("cache", seen.get("past_key_values"))
    assert cache is not None and cache.get_seq_length() > 10  # the prefix came precomputed


def test_without_a_shared_prefix_rows_are_left_padded(tiny) -> None:
    model, tokenizer = tiny
    seen = _spy_generate(model)
    try:
        generate(
            model,
            tokenizer,
            _conversations()[:3],
            max_new_tokens=2,
            batch_size=3,
            share_prefix=False,
        )
    finally:
        del model.generate
    mask = seen["attention_mask"]
    assert (mask[:, -1] == 1).all() and (mask[:, 0] == 0).any()
    assert "cache" not in seen and "past_key_values" not in seen


def test_sharing_the_prefix_changes_no_answer(tiny) -> None:
    model, tokenizer = tiny
    shared = generate(model, tokenizer, _conversations(), max_new_tokens=12, batch_size=4)
    plain = generate(
        model, tokenizer, _conversations(), max_new_tokens=12, batch_size=4, share_prefix=False
    )
    assert [g.text for g in shared] == [g.text for g in plain]
    assert [g.output_tokens for g in shared] == [g.output_tokens for g in plain]


def test_shared_prefix_leaves_every_prompt_a_token_of_its_own() -> None:
    assert shared_prefix([[1, 2, 3] * 4, [1, 2, 3] * 4]) == [1, 2, 3] * 3 + [1, 2]
    assert shared_prefix([[1] * 20 + [2], [1] * 20 + [3]]) == [1] * 20
    assert shared_prefix([[1, 2], [1, 3]]) == []  # too short to be worth a cache
