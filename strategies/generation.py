"""The one batched, greedy, deterministic generator every strategy answers through.

Conversations are rendered with the tokenizer's chat template, encoded without
extra special tokens (SmolLM2's template already starts with its BOS token),
sorted by length so a batch wastes little padding, left-padded (decoder-only
models continue from the right edge), and decoded greedily until the end token.
Greedy decoding makes answers a function of the prompt alone: the same
preparation gives the same answers, batched or one by one.

Any model with a Hugging Face style `generate(input_ids=, attention_mask=,
max_new_tokens=, do_sample=False, pad_token_id=, eos_token_id=)` works; the
from-scratch transformer implements the same method.
"""

from __future__ import annotations

import copy
import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Message = dict[str, str]


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    output_tokens: int
    latency_s: float  # wall time of the batch this answer was generated in


def render_prompt(tokenizer: Any, messages: Sequence[Message]) -> str:
    """The chat template applied, ending where the assistant's answer begins."""
    return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)


def end_token_ids(tokenizer: Any) -> list[int]:
    """Tokens that end an answer: the tokenizer's EOS and the chat end-of-turn token."""
    ids = {tokenizer.eos_token_id, token_id(tokenizer, "<|im_end|>")}
    return sorted(i for i in ids if i is not None)


def token_id(tokenizer: Any, token: str) -> int | None:
    """The id of a vocabulary token, or None when the tokenizer lacks it.

    A lookup, not `token in tokenizer.get_vocab()`: that builds the whole
    vocabulary dict (49,152 entries for SmolLM2) on every call, which cost a
    minute per run when called once per training example.
    """
    found = tokenizer.convert_tokens_to_ids(token)
    if not isinstance(found, int) or found == tokenizer.unk_token_id:
        return None
    return found


def generate(
    model: Any,
    tokenizer: Any,
    conversations: Sequence[Sequence[Message]],
    *,
    max_new_tokens: int = 48,
    batch_size: int = 16,
    device: str = "cpu",
    on_batch: Callable[[int], None] | None = None,
    share_prefix: bool = True,
) -> list[Generation]:
    """Answer every conversation; results come back in input order.

    With `share_prefix`, the tokens every prompt starts with (the system message,
    few-shot examples) are run through the model once and their keys and values
    reused by every row, instead of once per question: on the banking task that
    is ~160 of ~190 prompt tokens. Rows are laid out `[prefix][padding][rest]`;
    the attention mask hides the padding and positions follow the mask, so each
    row computes exactly what it would alone. `on_batch(n)` is called after each
    batch with the number of answers done.
    """
    import torch

    prompts = [render_prompt(tokenizer, conversation) for conversation in conversations]
    encoded = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    order = sorted(range(len(encoded)), key=lambda i: (-len(encoded[i]), i))
    pad_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )
    stop_ids = end_token_ids(tokenizer)
    results: list[Generation | None] = [None] * len(encoded)
    prefix = shared_prefix(encoded) if share_prefix and _caches_keys_and_values(model) else []
    prefix_cache = _prefix_cache(model, prefix, device) if prefix else None

    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        input_ids, attention = _layout(batch, encoded, len(prefix), pad_id)
        extra = {}
        if prefix_cache is not None:
            cache = copy.deepcopy(prefix_cache)
            cache.batch_repeat_interleave(len(batch))
            extra[_cache_argument(model)] = cache
        began = time.perf_counter()
        with torch.inference_mode():
            output = model.generate(
                input_ids=input_ids.to(device),
                attention_mask=attention.to(device),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=pad_id,
                eos_token_id=stop_ids,
                **extra,
            )
        elapsed = time.perf_counter() - began
        new_tokens = output[:, input_ids.shape[1] :].tolist()
        for row, index in enumerate(batch):
            tokens, produced = _until_stop(new_tokens[row], stop_ids)
            text = tokenizer.decode(tokens, skip_special_tokens=True).strip()
            results[index] = Generation(text, len(encoded[index]), produced, elapsed)
        if on_batch is not None:
            on_batch(len(batch))
    return [r for r in results if r is not None]


MIN_SHARED_PREFIX = 8


def shared_prefix(encoded: Sequence[Sequence[int]]) -> list[int]:
    """The longest token prefix all prompts share, leaving every prompt at least
    one token of its own (generation starts from each row's last token)."""
    if not encoded:
        return []
    limit = min(len(ids) for ids in encoded) - 1
    first = encoded[0]
    length = 0
    while length < limit and all(ids[length] == first[length] for ids in encoded):
        length += 1
    return list(first[:length]) if length >= MIN_SHARED_PREFIX else []


def _layout(
    batch: Sequence[int], encoded: Sequence[Sequence[int]], prefix_length: int, pad_id: int
):
    """Rows as `[prefix][padding][rest of the prompt]` (no prefix: plain left padding)."""
    import torch

    width = max(len(encoded[i]) - prefix_length for i in batch)
    input_ids = torch.full((len(batch), prefix_length + width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(batch), prefix_length + width), dtype=torch.long)
    if prefix_length:
        input_ids[:, :prefix_length] = torch.tensor(
            encoded[batch[0]][:prefix_length], dtype=torch.long
        )
        attention[:, :prefix_length] = 1
    for row, index in enumerate(batch):
        rest = encoded[index][prefix_length:]
        input_ids[row, input_ids.shape[1] - len(rest) :] = torch.tensor(rest, dtype=torch.long)
        attention[row, input_ids.shape[1] - len(rest) :] = 1
    return input_ids, attention


def _hf_base(model: Any) -> Any:
    """The transformers model under a peft wrapper (or the model itself)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def _caches_keys_and_values(model: Any) -> bool:
    try:
        from transformers import PreTrainedModel
    except ImportError:
        return False
    return isinstance(_hf_base(model), PreTrainedModel)


def _cache_argument(model: Any) -> str:
    """transformers 5.x renamed `past_key_values` to `cache` along the way."""
    parameters = inspect.signature(_hf_base(model).forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


def _prefix_cache(model: Any, prefix: list[int], device: str) -> Any:
    import torch
    from transformers import DynamicCache

    cache = DynamicCache(config=_hf_base(model).config)
    with torch.inference_mode():
        model(
            input_ids=torch.tensor([prefix], dtype=torch.long, device=device),
            use_cache=True,
            **{_cache_argument(model): cache},
        )
    return cache


def _until_stop(tokens: list[int], stop_ids: list[int]) -> tuple[list[int], int]:
    """The answer's tokens, and how many were generated (the stop token included)."""
    for position, token in enumerate(tokens):
        if token in stop_ids:
            return tokens[:position], position + 1
    return tokens, len(tokens)
