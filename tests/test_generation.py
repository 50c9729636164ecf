"""The one generator: batched answers equal one-by-one answers, and stop at the end token."""

from __future__ import annotations

import pytest
import torch

from strategies.generation import (
    PACK_FROM_QUESTIONS,
    _cache_argument,
    _layout,
    _onednn_linear,
    _onednn_projection,
    _prefix_cache,
    _projection,
    _projections,
    end_token_ids,
    generate,
    greedy_decode,
    packed_weights,
    render_prompt,
    reserve_room,
    shared_prefix,
)
from tiny import lively_llama, tiny_tokenizer


@pytest.fixture(scope="module")
def tiny():
    tokenizer = tiny_tokenizer()
    return lively_llama(tokenizer, seed=3).eval(), tokenizer


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


def _spy_forward(model):
    """Record the keyword arguments of every forward call of `model`."""
    calls = []

    def spy(module, args, kwargs):
        calls.append(dict(kwargs))

    return calls, model.register_forward_pre_hook(spy, with_kwargs=True)


def test_rows_are_laid_out_prefix_padding_rest(tiny) -> None:
    _, tokenizer = tiny
    encoded = [[1, 2, 3, 4, 5], [1, 2, 3, 6], [1, 2, 3, 7, 8, 9]]
    ids, mask = _layout([0, 1, 2], encoded, 3, pad_id=0)
    assert ids.tolist() == [[1, 2, 3, 0, 4, 5], [1, 2, 3, 0, 0, 6], [1, 2, 3, 7, 8, 9]]
    assert mask.tolist() == [[1, 1, 1, 0, 1, 1], [1, 1, 1, 0, 0, 1], [1] * 6]


def test_the_prefix_is_computed_once_and_shared_by_every_row(tiny) -> None:
    model, tokenizer = tiny
    model.__dict__.pop("_advisor_prefix", None)  # computed by an earlier test
    calls, hook = _spy_forward(model)
    try:
        generate(model, tokenizer, _conversations()[:3], max_new_tokens=2, batch_size=3)
    finally:
        hook.remove()
    prefix_call, prefill = calls[0], calls[1]
    assert prefix_call["input_ids"].shape[0] == 1  # the shared prefix, once
    prefix = prefix_call["input_ids"].shape[1]
    assert prefix > 10 and prefill["shared_prefix"].get_seq_length() == prefix
    rest = prefill["input_ids"].shape[1]
    mask = prefill["attention_mask"]  # over each row's own positions only
    assert mask.shape == (3, 1, rest, rest) and mask.dtype == torch.bool
    assert (~mask[:, 0, -1]).any()  # padding of the shorter rows is hidden
    assert [c["input_ids"].shape for c in calls[2:]] == [(3, 1)]  # then a token per step


def test_a_lone_conversation_is_prefilled_whole_with_the_batched_answer(tiny) -> None:
    model, tokenizer = tiny
    conversation = _conversations()[1]
    calls, hook = _spy_forward(model)
    try:
        alone = generate(model, tokenizer, [conversation], max_new_tokens=12)
    finally:
        hook.remove()
    prompt = len(
        tokenizer(render_prompt(tokenizer, conversation), add_special_tokens=False)["input_ids"]
    )
    assert calls[0]["input_ids"].shape == (1, prompt)  # no separate prefix pass
    assert "shared_prefix" not in calls[0]
    batched = generate(model, tokenizer, _conversations(), max_new_tokens=12, batch_size=4)
    assert alone[0].text == batched[1].text and alone[0].tokens == batched[1].tokens


def test_the_prefix_is_kept_for_the_next_call_until_a_weight_changes(tiny) -> None:
    model, tokenizer = tiny
    conversations = _conversations()[:3]
    first = generate(model, tokenizer, conversations, max_new_tokens=3, batch_size=3)
    calls, hook = _spy_forward(model)
    try:
        again = generate(model, tokenizer, conversations, max_new_tokens=3, batch_size=3)
        assert all(c["input_ids"].shape[0] == 3 for c in calls)  # no batch-1 prefix pass
        with torch.no_grad():
            next(model.parameters()).add_(0.0)  # an in-place update, even a no-op one
        calls.clear()
        generate(model, tokenizer, conversations, max_new_tokens=3, batch_size=3)
        assert calls[0]["input_ids"].shape[0] == 1  # recomputed
    finally:
        hook.remove()
    assert [g.text for g in again] == [g.text for g in first]


def test_without_a_shared_prefix_rows_are_left_padded(tiny) -> None:
    model, tokenizer = tiny
    calls, hook = _spy_forward(model)
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
        hook.remove()
    prefill = calls[0]
    mask = prefill["attention_mask"]
    assert prefill["input_ids"].shape == mask.shape
    assert (mask[:, -1] == 1).all() and (mask[:, 0] == 0).any()


def _left_padded(tokenizer):
    encoded = [
        tokenizer(render_prompt(tokenizer, c), add_special_tokens=False)["input_ids"]
        for c in _conversations()
    ]
    return _layout(range(len(encoded)), encoded, 0, tokenizer.pad_token_id)


def _reference(model, tokenizer, max_new_tokens):
    """transformers' own greedy `generate` on the plainly left-padded prompts."""
    input_ids, attention = _left_padded(tokenizer)
    with torch.inference_mode():
        return model.generate(
            input_ids=input_ids,
            attention_mask=attention,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=end_token_ids(tokenizer),
        )[:, input_ids.shape[1] :]


@pytest.mark.parametrize("shared_attention", [True, False])
@pytest.mark.parametrize("max_new_tokens", [1, 16])
def test_greedy_decode_with_a_prefix_gives_the_tokens_of_transformers_generate(
    tiny, max_new_tokens, shared_attention, monkeypatch
) -> None:
    """The prefix computed once, then shared by every row's attention (or copied
    into every row, for models outside SHARED_PREFIX_MODEL_TYPES)."""
    from strategies import generation

    if not shared_attention:
        monkeypatch.setattr(generation, "SHARED_PREFIX_MODEL_TYPES", set())
    model, tokenizer = tiny
    encoded = [
        tokenizer(render_prompt(tokenizer, c), add_special_tokens=False)["input_ids"]
        for c in _conversations()
    ]
    prefix = shared_prefix(encoded)
    input_ids, attention = _layout(
        range(len(encoded)), encoded, len(prefix), tokenizer.pad_token_id
    )
    with torch.inference_mode():
        ours = greedy_decode(
            model,
            input_ids,
            attention,
            max_new_tokens=max_new_tokens,
            stop_ids=end_token_ids(tokenizer),
            pad_id=tokenizer.pad_token_id,
            prefix=_prefix_cache(model, prefix, "cpu"),
        )
    assert model.config._attn_implementation == "sdpa"  # switched back
    assert ours.tolist() == _reference(model, tokenizer, max_new_tokens).tolist()


def test_shared_prefix_attention_is_attention_over_the_concatenation() -> None:
    """Against SDPA over [prefix copied into every row][own keys], GQA included."""
    from types import SimpleNamespace

    import torch.nn.functional as F

    from strategies.generation import shared_prefix_attention, visible_mask

    torch.manual_seed(0)
    rows, heads, kv_heads, dim, prefix, own, queries = 3, 6, 2, 8, 5, 4, 2
    query = torch.randn(rows, heads, queries, dim)
    key, value = torch.randn(rows, kv_heads, own, dim), torch.randn(rows, kv_heads, own, dim)
    shared = SimpleNamespace(
        layers=[
            SimpleNamespace(
                keys=torch.randn(1, kv_heads, prefix, dim),
                values=torch.randn(1, kv_heads, prefix, dim),
            )
        ]
    )
    own_attention = torch.tensor([[1, 1, 1, 1], [0, 1, 1, 1], [0, 0, 1, 1]])
    mask = visible_mask(own_attention, queries)
    out, _ = shared_prefix_attention(
        SimpleNamespace(layer_idx=0), query, key, value, mask, scaling=0.3, shared_prefix=shared
    )
    layer = shared.layers[0]
    full_keys = torch.cat([layer.keys.expand(rows, -1, -1, -1), key], dim=2)
    full_values = torch.cat([layer.values.expand(rows, -1, -1, -1), value], dim=2)
    full_mask = torch.cat([torch.ones(rows, 1, queries, prefix, dtype=torch.bool), mask], dim=-1)
    expected = F.scaled_dot_product_attention(
        query,
        full_keys.repeat_interleave(heads // kv_heads, dim=1),
        full_values.repeat_interleave(heads // kv_heads, dim=1),
        attn_mask=full_mask,
        scale=0.3,
    ).transpose(1, 2)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("max_new_tokens", [1, 5, 16])
def test_greedy_decode_gives_the_tokens_of_transformers_generate(tiny, max_new_tokens) -> None:
    model, tokenizer = tiny
    input_ids, attention = _left_padded(tokenizer)
    stops = end_token_ids(tokenizer)
    with torch.inference_mode():
        reference = model.generate(
            input_ids=input_ids,
            attention_mask=attention,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=stops,
        )[:, input_ids.shape[1] :]
        ours = greedy_decode(
            model,
            input_ids,
            attention,
            max_new_tokens=max_new_tokens,
            stop_ids=stops,
            pad_id=tokenizer.pad_token_id,
        )
    assert ours.tolist() == reference.tolist()


def test_greedy_decode_pads_a_row_after_its_stop_token(tiny) -> None:
    model, tokenizer = tiny
    input_ids, attention = _left_padded(tokenizer)
    with torch.inference_mode():
        free = greedy_decode(
            model,
            input_ids,
            attention,
            max_new_tokens=8,
            stop_ids=[],
            pad_id=tokenizer.pad_token_id,
        )
        stop = int(free[0, 2])  # make row 0's third token a stop token
        pad = next(t for t in range(3, 400) if t not in free[0].tolist())
        stopped = greedy_decode(
            model, input_ids, attention, max_new_tokens=8, stop_ids=[stop], pad_id=pad
        )
    row = stopped[0].tolist()
    first = row.index(stop)
    assert first <= 2 and set(row[first + 1 :]) == {pad}
    assert row[: first + 1] == free[0, : first + 1].tolist()


@pytest.mark.parametrize("with_prefix", [False, True])
def test_dropping_rows_that_have_stopped_changes_no_answer(tiny, with_prefix, monkeypatch) -> None:
    from strategies import generation

    model, tokenizer = tiny
    encoded = [
        tokenizer(render_prompt(tokenizer, c), add_special_tokens=False)["input_ids"]
        for c in _conversations()
    ]
    prefix = shared_prefix(encoded) if with_prefix else []
    input_ids, attention = _layout(
        range(len(encoded)), encoded, len(prefix), tokenizer.pad_token_id
    )

    def decode(stops):
        with torch.inference_mode():
            return greedy_decode(
                model,
                input_ids,
                attention,
                max_new_tokens=12,
                stop_ids=stops,
                pad_id=tokenizer.pad_token_id,
                prefix=_prefix_cache(model, prefix, "cpu") if prefix else None,
            )

    free = decode([])
    stops = [int(free[0, 1]), int(free[2, 4])]  # rows stop at different steps
    kept = decode(stops)
    monkeypatch.setattr(generation, "ROWS_TO_DROP", 1)
    dropped = decode(stops)
    assert dropped.tolist() == kept.tolist()
    assert (kept == tokenizer.pad_token_id).any()  # some rows did stop early
    with torch.inference_mode():
        reference = model.generate(
            input_ids=_left_padded(tokenizer)[0],
            attention_mask=_left_padded(tokenizer)[1],
            max_new_tokens=12,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=stops,
        )[:, _left_padded(tokenizer)[0].shape[1] :]
    assert dropped.tolist() == reference.tolist()


def test_a_reserved_cache_gives_the_logits_of_a_growing_one(tiny) -> None:
    """Within its room and past it (where it grows)."""
    from transformers import DynamicCache

    model, tokenizer = tiny
    input_ids, attention = _left_padded(tokenizer)
    positions = (attention.cumsum(-1) - 1).clamp(min=0)
    caches = [DynamicCache(config=model.config), DynamicCache(config=model.config)]
    logits = []
    with torch.inference_mode():
        for cache in caches:
            model(
                input_ids=input_ids,
                attention_mask=attention,
                position_ids=positions,
                **{_cache_argument(model): cache},
                use_cache=True,
            )
        reserve_room(caches[1], 2)
        mask, position = attention, positions[:, -1:]
        for step in range(4):
            token = torch.full((input_ids.shape[0], 1), 5 + step)
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], 1)
            position = position + 1
            logits.append(
                [
                    model(
                        input_ids=token,
                        attention_mask=mask,
                        position_ids=position,
                        **{_cache_argument(model): cache},
                        use_cache=True,
                    ).logits
                    for cache in caches
                ]
            )
    for growing, reserved in logits:
        torch.testing.assert_close(reserved, growing, rtol=0, atol=1e-6)
    assert caches[1].get_seq_length() == caches[0].get_seq_length() == input_ids.shape[1] + 4


@pytest.mark.parametrize("pack", [False, True], ids=["plain", "packed"])
@pytest.mark.parametrize("grad", [False, True], ids=["inference", "autograd"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
def test_projections_compute_the_same_linear_and_are_undone(dtype, grad, pack) -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 24), torch.nn.Linear(24, 8, bias=False))
    model.to(dtype)
    few, many = torch.randn(3, 1, 16, dtype=dtype), torch.randn(2, 300, 16, dtype=dtype)
    strided = torch.randn(3, 5, 16, dtype=dtype)[:, -1:]  # the prefill head's input
    assert not strided.is_contiguous()
    inputs = [few, many, strided]
    with torch.set_grad_enabled(grad):
        expected = [model(x) for x in inputs]
        packed = packed_weights(model) if pack else None
        with _projections(model, packed) as switch:
            assert all("forward" in vars(m) for m in model)
            got = [model(x) for x in inputs]
            switch.weight_first = True
            got_weight_first = [model(x) for x in inputs]
    assert all("forward" not in vars(m) for m in model)
    # the orders of summation differ; bf16 rounds each layer's output: by a unit or so
    tolerance = (
        {"rtol": 1e-5, "atol": 1e-6} if dtype == torch.float32 else {"rtol": 0, "atol": 1e-2}
    )
    for want, have, have_weight_first in zip(expected, got, got_weight_first, strict=True):
        assert have.shape == have_weight_first.shape == want.shape
        torch.testing.assert_close(have, want, **tolerance)
        torch.testing.assert_close(have_weight_first, want, **tolerance)


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="torch built without oneDNN")
def test_fp32_projections_without_autograd_are_onednn_linears_on_packed_weights() -> None:
    assert _onednn_linear() is not None  # every x86 and arm64 CPU build of torch has it
    model = torch.nn.Sequential(torch.nn.Linear(16, 24), torch.nn.Linear(24, 8))
    packed = packed_weights(model)
    assert set(packed) == {id(m) for m in model}
    assert packed_weights(model.to(torch.bfloat16)) == {}  # bf16 keeps PyTorch's product
    model.float()

    def products(grad: bool) -> list:
        with torch.set_grad_enabled(grad), _projections(model, packed):
            return [m.forward.func for m in model]

    assert products(grad=False) == [_onednn_projection] * 2
    assert products(grad=True) == [_projection] * 2  # oneDNN's linear has no backward
    with torch.inference_mode(), _projections(model, packed):
        assert all(m.forward.args[1] is packed[id(m)] for m in model)


def test_answering_many_questions_with_packed_weights_gives_the_answers_one_by_one(tiny) -> None:
    model, tokenizer = tiny
    conversations = [
        [{"role": "system", "content": "You are Tiny Assist."}, {"role": "user", "content": q}]
        for q in [
            f"{q} ({n})" for n in range(PACK_FROM_QUESTIONS // len(QUESTIONS)) for q in QUESTIONS
        ]
    ]
    assert len(conversations) >= PACK_FROM_QUESTIONS
    batched = generate(model, tokenizer, conversations, max_new_tokens=10, batch_size=16)
    alone = [generate(model, tokenizer, [c], max_new_tokens=10)[0] for c in conversations]
    assert [g.tokens for g in batched] == [g.tokens for g in alone]


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


def test_greedy_decode_of_no_tokens_is_empty(tiny) -> None:
    model, tokenizer = tiny
    input_ids, attention = _left_padded(tokenizer)
    out = greedy_decode(model, input_ids, attention, max_new_tokens=0, stop_ids=[], pad_id=0)
    assert out.shape == (input_ids.shape[0], 0)
