"""The one batched, greedy, deterministic generator every strategy answers through.

Conversations are rendered with the tokenizer's chat template, encoded without
extra special tokens (SmolLM2's template already starts with its BOS token),
sorted by length so a batch wastes little padding, left-padded (decoder-only
models continue from the right edge), and decoded greedily until the end token.
Greedy decoding makes answers a function of the prompt alone: the same
preparation gives the same answers, batched or one by one.

Hugging Face causal LMs are decoded by `greedy_decode`, an explicit loop
(prefill, then one token per step) that gives the same tokens as transformers'
`generate(do_sample=False)` (tested), 2.9-4.6x faster on the banking prompts on
a 2-core CPU (docs/generation.md): see its docstring. Any other model with a Hugging Face style `generate(input_ids=,
attention_mask=, max_new_tokens=, do_sample=False, pad_token_id=,
eos_token_id=)` works too; the from-scratch transformer implements it.
"""

from __future__ import annotations

import contextlib
import copy
import functools
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
    scoring: str = "generate"  # or "likelihood": the most likely allowed label
    tokens: tuple[int, ...] = ()  # the answer's token ids, stop token excluded


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
    restrict: Callable[[Any, Any, Any], Any] | None = None,
) -> list[Generation]:
    """Answer every conversation; results come back in input order.

    With `share_prefix`, the tokens every prompt starts with (the system message,
    few-shot examples) are run through the model once and their keys and values
    reused by every row, instead of once per question: on the banking task that
    is ~160 of ~190 prompt tokens. Rows are laid out `[prefix][padding][rest]`;
    the attention mask hides the padding and positions follow the mask, so each
    row computes exactly what it would alone. A single conversation has no one
    to share with and is computed the plain way, the whole prompt in one pass:
    attending one row to a separate prefix made each step of a question asked
    alone 10-15% slower (35.4 against 30.1-31.9 ms a token, SmolLM2-135M in
    bf16 on 2 cores, docs/generation.md). `on_batch(n)` is called after each
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
    transformers_model = _caches_keys_and_values(model)
    sharing = share_prefix and transformers_model and len(encoded) > 1
    prefix = shared_prefix(encoded) if sharing else []
    prefix_cache = cached_prefix(model, prefix, device) if prefix else None
    on_cpu = torch.device(device).type == "cpu"
    many = len(encoded) >= PACK_FROM_QUESTIONS
    packed = packed_weights(model) if transformers_model and on_cpu and many else None

    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        input_ids, attention = _layout(batch, encoded, len(prefix), pad_id)
        input_ids, attention = input_ids.to(device), attention.to(device)
        began = time.perf_counter()
        with torch.inference_mode():
            if transformers_model:
                output = greedy_decode(
                    model,
                    input_ids,
                    attention,
                    max_new_tokens=max_new_tokens,
                    stop_ids=stop_ids,
                    pad_id=pad_id,
                    prefix=prefix_cache,
                    restrict=restrict,
                    packed=packed,
                )
            else:
                output = model.generate(
                    input_ids=input_ids,
                    attention_mask=attention,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=pad_id,
                    eos_token_id=stop_ids,
                )[:, input_ids.shape[1] :]
        elapsed = time.perf_counter() - began
        new_tokens = output.tolist()
        for row, index in enumerate(batch):
            tokens, produced = _until_stop(new_tokens[row], stop_ids)
            text = tokenizer.decode(tokens, skip_special_tokens=True).strip()
            results[index] = Generation(
                text, len(encoded[index]), produced, elapsed, tokens=tuple(tokens)
            )
        if on_batch is not None:
            on_batch(len(batch))
    return [r for r in results if r is not None]


def greedy_decode(
    model: Any,
    input_ids: Any,
    attention: Any,
    *,
    max_new_tokens: int,
    stop_ids: Sequence[int],
    pad_id: int,
    prefix: Any = None,
    restrict: Callable[[Any, Any, Any], Any] | None = None,
    packed: dict[int, Any] | None = None,
) -> Any:
    """The new tokens (rows x steps) of greedy decoding with a transformers causal LM.

    `prefix` (a cache of batch one, see `_prefix_cache`) holds the keys and
    values of the first positions every row shares; the rest of `input_ids` is
    run in one forward pass (prefill), then one token per step. Positions
    follow the attention mask, as in `generate`; a row that has produced a stop
    token gets `pad_id` from then on, and the loop ends when every row has
    stopped. Same tokens as `model.generate(do_sample=False)` (tested), computed
    differently in five ways, measured on SmolLM2-135M, 64 rows, a 2-core CPU
    (docs/generation.md):

    - the prefix is kept once for the whole batch and attended to by every row
      (`shared_prefix_attention`) instead of copied into every row's cache,
      where each step read it again from memory, row by row;
    - after the prefill the cache reserves room for every new token
      (`reserve_room`) instead of growing by concatenation, which copies the
      whole cache in every layer at every step;
    - rows that have stopped leave the batch, `ROWS_TO_DROP` at a time;
    - on a CPU, the projections are oneDNN's fp32 linear on weights packed
      for it (`_projections`, `packed`), 6.7 -> 3.4-3.7 s for 32 questions on
      a CPU with AVX-512, or in bf16 each step's are W·xᵀ: 0.64 -> 0.43 s per
      step on ~190-token prompts;
    - on a CPU, every projection reads a contiguous input (`_projections`),
      which spares the prefill's head a copy of its weight broadcast over the
      rows: 5.9 s and 3.4 GB per batch of 64 in bf16 on a CPU with native bf16.
    """
    import torch
    from transformers import DynamicCache

    if max_new_tokens < 1:
        return input_ids.new_empty((input_ids.shape[0], 0))

    base = _hf_base(model)
    cached = prefix.get_seq_length() if prefix is not None else 0
    shared = prefix is not None and _supports_shared_prefix(base)
    if prefix is None or shared:
        cache = DynamicCache(config=base.config)
    else:  # every row gets its own copy of the prefix
        cache = copy.deepcopy(prefix)
        cache.batch_repeat_interleave(input_ids.shape[0])
    extra = {_cache_argument(model): cache}
    if shared:
        extra["shared_prefix"] = prefix
    positions = (attention.cumsum(-1) - 1).clamp(min=0)[:, cached:]
    own = attention[:, cached:] if shared else attention
    first = (
        {"logits_to_keep": 1}
        if "logits_to_keep" in inspect.signature(base.forward).parameters
        else {}
    )
    stops = torch.tensor(list(stop_ids), device=input_ids.device)
    out = torch.full((input_ids.shape[0], max_new_tokens), pad_id, device=input_ids.device)
    rows = torch.arange(input_ids.shape[0], device=input_ids.device)  # rows in the batch
    done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
    with contextlib.ExitStack() as stack:
        if shared:
            stack.enter_context(_attention_implementation(base, SHARED_PREFIX_ATTENTION))
        on_cpu = input_ids.device.type == "cpu"  # a GPU's decode steps run unpatched
        projections = stack.enter_context(_projections(model, packed)) if on_cpu else None
        logits = model(
            input_ids=input_ids[:, cached:],
            attention_mask=visible_mask(own, positions.shape[1]) if shared else own,
            position_ids=positions,
            use_cache=True,
            **extra,
            **first,
        ).logits[:, -1]
        reserve_room(cache, max_new_tokens)
        if projections is not None:
            projections.weight_first = True
        position = positions[:, -1:]
        for step in range(max_new_tokens):
            # the head's W·xᵀ output is a transposed view: argmax reads a copy
            # in row order twice as fast (13 vs 25 ms for 64 x 49,152 logits)
            if restrict is not None:
                logits = restrict(logits, rows, out[rows, :step])
            token = torch.where(done, pad_id, logits.contiguous().argmax(dim=-1))
            out[rows, step] = token
            done |= torch.isin(token, stops)
            if step == max_new_tokens - 1 or bool(done.all()):
                break
            if int(done.sum()) >= max(ROWS_TO_DROP, len(rows) // 4):
                # drop the rows that have stopped (their answers are complete)
                keep = (~done).nonzero().squeeze(1)
                rows, token, own, position = rows[keep], token[keep], own[keep], position[keep]
                done = done[keep]
                cache.batch_select_indices(keep)
            own = torch.cat([own, own.new_ones((own.shape[0], 1))], 1)
            position = position + 1
            logits = model(
                input_ids=token[:, None],
                attention_mask=visible_mask(own, 1) if shared else own,
                position_ids=position,
                use_cache=True,
                **extra,
            ).logits[:, -1]
    return out[:, : step + 1]


# rows that have stopped are dropped from the batch once there are this many
# (or a quarter of the batch): each drop copies the cache
ROWS_TO_DROP = 8

SHARED_PREFIX_ATTENTION = "advisor_shared_prefix"
# model types whose attention layers go through transformers' attention
# interface with their `layer_idx` (others copy the prefix into every row)
SHARED_PREFIX_MODEL_TYPES = {"llama", "mistral", "qwen2", "qwen3"}


def _supports_shared_prefix(base: Any) -> bool:
    return getattr(base.config, "model_type", None) in SHARED_PREFIX_MODEL_TYPES


@contextlib.contextmanager
def _attention_implementation(base: Any, name: str):
    """Switch a transformers model's attention implementation for a while."""
    from transformers import AttentionInterface

    AttentionInterface.register(name, shared_prefix_attention)
    before = base.config._attn_implementation
    base.config._attn_implementation = name
    try:
        yield
    finally:
        base.config._attn_implementation = before


def visible_mask(key_mask: Any, queries: int) -> Any:
    """The 4-D boolean attention mask (rows, 1, queries, keys) for the last
    `queries` of the positions `key_mask` (rows x keys, 1 = a real token)
    covers: causal, padding hidden, and every query sees itself (so a padding
    query is never all masked)."""
    import torch

    keys = key_mask.shape[1]
    device = key_mask.device
    real = key_mask.bool()[:, None, :]
    causal = torch.ones(queries, keys, dtype=torch.bool, device=device).tril(keys - queries)
    itself = torch.zeros(queries, keys, dtype=torch.bool, device=device)
    itself[:, keys - queries :] = torch.eye(queries, dtype=torch.bool, device=device)
    return ((causal & real) | itself)[:, None]


def shared_prefix_attention(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    *,
    scaling: float,
    dropout: float = 0.0,
    shared_prefix: Any = None,
    **kwargs: Any,
) -> tuple[Any, None]:
    """Attention over a prefix shared by the whole batch, then each row's own keys.

    An attention function for transformers' `AttentionInterface`. `key` and
    `value` are each row's own positions (rows, kv heads, own, dim);
    `shared_prefix.layers[module.layer_idx]` holds the prefix's, once (1, kv
    heads, prefix, dim). The softmax runs over both parts together (one
    maximum, one normaliser), so the result is the attention over the
    concatenation, without copying the prefix into every row: the prefix part
    is one matrix product per key/value head with all rows' queries stacked.
    """
    import torch

    if shared_prefix is None:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(
            module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs
        )
    layer = shared_prefix.layers[module.layer_idx]
    prefix_keys, prefix_values = layer.keys[0], layer.values[0]  # (kv heads, prefix, dim)
    rows, heads, length, dim = query.shape
    kv_heads = key.shape[1]
    group = heads // kv_heads  # query heads per key/value head, as `repeat_kv` pairs them
    grouped = query.reshape(rows, kv_heads, group * length, dim)
    own = torch.matmul(grouped, key.transpose(-1, -2)) * scaling
    if attention_mask is not None:
        visible = attention_mask.expand(rows, 1, length, -1).repeat(1, 1, group, 1)
        own = own.masked_fill(~visible, float("-inf"))
    stacked = grouped.transpose(0, 1).reshape(kv_heads, rows * group * length, dim)
    common = torch.matmul(stacked, prefix_keys.transpose(-1, -2)) * scaling
    common = common.reshape(kv_heads, rows, group * length, -1).transpose(0, 1)
    top = torch.maximum(own.amax(-1, keepdim=True), common.amax(-1, keepdim=True))
    own, common = (own - top).exp(), (common - top).exp()
    total = own.sum(-1, keepdim=True) + common.sum(-1, keepdim=True)
    weighted = torch.matmul(
        common.transpose(0, 1).reshape(kv_heads, rows * group * length, -1), prefix_values
    )
    out = torch.matmul(own, value) + weighted.reshape(
        kv_heads, rows, group * length, dim
    ).transpose(0, 1)
    out = (out / total).reshape(rows, heads, length, dim)
    return out.transpose(1, 2).contiguous(), None


def reserve_room(cache: Any, room: int) -> None:
    """Give every layer of a transformers `DynamicCache` room for `room` more positions."""
    reserved = _reserved_layer_class()
    cache.layers = [reserved.around(layer, room) for layer in cache.layers]


@functools.cache
def _reserved_layer_class():
    """`ReservedLayer`, defined on first use: importing this module imports no transformers."""
    from transformers.cache_utils import DynamicLayer

    class ReservedLayer(DynamicLayer):
        """A `DynamicLayer` whose keys and values live in a buffer with room
        reserved up front: `update` writes the new positions in place and
        returns views, where `DynamicLayer` concatenates (a copy of the whole
        cache per layer per step). Beyond the room it grows, doubling."""

        @classmethod
        def around(cls, layer: Any, room: int) -> Any:
            if not layer.is_initialized or layer.keys.numel() == 0:
                return layer
            reserved = cls()
            batch, heads, length, dim = layer.keys.shape
            reserved.device = layer.keys.device
            reserved.buffers = tuple(
                states.new_empty((batch, heads, length + room, states.shape[-1]))
                for states in (layer.keys, layer.values)
            )
            reserved.buffers[0][:, :, :length] = layer.keys
            reserved.buffers[1][:, :, :length] = layer.values
            reserved.length = length
            reserved.keys = reserved.buffers[0][:, :, :length]
            reserved.values = reserved.buffers[1][:, :, :length]
            reserved.is_initialized = True
            return reserved

        def batch_select_indices(self, indices: Any) -> None:
            self.buffers = tuple(buffer[indices] for buffer in self.buffers)
            self.keys = self.buffers[0][:, :, : self.length]
            self.values = self.buffers[1][:, :, : self.length]

        def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any):
            end = self.length + key_states.shape[-2]
            if end > self.buffers[0].shape[-2]:  # out of room: grow (a copy, as DynamicLayer)
                self.buffers = tuple(self._grown(buffer, end) for buffer in self.buffers)
            keys, values = self.buffers
            keys[:, :, self.length : end] = key_states
            values[:, :, self.length : end] = value_states
            self.length = end
            self.keys, self.values = keys[:, :, :end], values[:, :, :end]
            return self.keys, self.values

        def _grown(self, buffer: Any, needed: int) -> Any:
            batch, heads, room, dim = buffer.shape
            grown = buffer.new_empty((batch, heads, max(needed, 2 * room), dim))
            grown[:, :, : self.length] = buffer[:, :, : self.length]
            return grown

    return ReservedLayer


ROWS_FOR_WEIGHT_FIRST = 256


@dataclass
class _Projections:
    weight_first: bool = False


@contextlib.contextmanager
def _projections(model: Any, packed: dict[int, Any] | None = None):
    """While active, every `nn.Linear` of `model` reads its input from contiguous
    memory and computes its product one of two ways:

    - in fp32, with oneDNN's linear (`torch.ops.mkldnn._linear_pointwise`) where
      this torch has it, on the weights `packed` holds for a module (by `id`,
      from `packed_weights`) or on its plain weight. PyTorch's own fp32 product
      is MKL's, which ran at about half oneDNN's rate on an AMD EPYC with
      AVX-512: on 2 of its cores, 32 rows through a 576 -> 1536
      layer took 0.36 ms with MKL (W·xᵀ) against 0.18 packed, and SmolLM2's
      49,152-word head 19.8 against 6.2 ms; with oneDNN held to AVX2
      (`ONEDNN_MAX_CPU_ISA=AVX2`, as on a CPU without AVX-512) 0.32 against 0.27
      and 15.7 against 9.5 ms (docs/generation.md).
    - otherwise (bf16, where PyTorch's product already is oneDNN's, or a torch
      without it), as `F.linear`, or, once the yielded switch's `weight_first`
      is set, as `(W @ xᵀ)ᵀ` when given at most 256 rows.

    Contiguous input: the prefill's head gets the last position of every row,
    `hidden[:, -1:]`, a strided view, and `F.linear` on a strided 3-D input
    broadcasts the weight to a batched product. In bf16 on a CPU that product
    first copies the broadcast weight: for 64 rows and SmolLM2's head, a
    3.4 GB copy taking 5.9 s, against 14 ms for the same product on a
    contiguous copy of the 64 x 576 input (fp32: 293 against 53 ms). Measured
    on a 2-core AMD EPYC with native bf16, torch 2.13 (docs/generation.md).

    Weight first: the same product, but the CPU BLAS handles the large weight
    as the left operand much better when x has few rows, as in a decode step:
    measured on a 2-core AMD EPYC with 64 rows, 1.1 -> 0.6 ms for a 576 -> 1536
    layer and 90 -> 53 ms for SmolLM2's 49,152-word head. With hundreds of rows
    (prefill, training) the two are even, so those keep `F.linear`.

    Only without autograd (`generate` runs under `torch.inference_mode`): the
    oneDNN linear has no backward, so with gradients on every layer keeps
    `F.linear`.
    """
    import torch

    switch = _Projections()
    patched = [m for m in model.modules() if type(m) is torch.nn.Linear]
    onednn = _onednn_linear() if not torch.is_grad_enabled() else None
    for module in patched:
        if onednn is not None and module.weight.dtype == torch.float32:
            weight = (packed or {}).get(id(module), module.weight)
            module.forward = functools.partial(_onednn_projection, onednn, weight, module.bias)
        else:
            module.forward = functools.partial(_projection, module, switch)
    try:
        yield switch
    finally:
        for module in patched:
            del module.forward


def _projection(module: Any, switch: _Projections, x: Any) -> Any:
    import torch
    import torch.nn.functional as F

    rows = x.numel() // x.shape[-1]
    if not switch.weight_first or rows > ROWS_FOR_WEIGHT_FIRST:
        return F.linear(x.contiguous(), module.weight, module.bias)
    out = torch.mm(module.weight, x.reshape(rows, x.shape[-1]).t()).t()
    if module.bias is not None:
        out = out + module.bias
    return out.reshape(*x.shape[:-1], out.shape[-1])


def _onednn_projection(linear: Any, weight: Any, bias: Any, x: Any) -> Any:
    return linear(x.contiguous(), weight, bias, "none", [], "")


# answering at least this many questions in fp32 packs the weights for oneDNN first
# (`packed_weights`): ~0.2-0.3 s for SmolLM2-135M, repaid in the decode steps of a
# few dozen answers, not of one
PACK_FROM_QUESTIONS = 32


def packed_weights(model: Any) -> dict[int, Any]:
    """Each fp32 `nn.Linear` weight of `model` reordered into oneDNN's blocked
    layout for its linear, by `id(module)`: a copy as large as the weights
    (538 MB for SmolLM2-135M), for `_projections` to use while it lives. Empty
    where this torch has no oneDNN linear or no weight is fp32."""
    import torch

    if _onednn_linear() is None:
        return {}
    with torch.inference_mode():
        return {
            id(m): torch.ops.mkldnn._reorder_linear_weight(m.weight.detach(), 64)
            for m in model.modules()
            if type(m) is torch.nn.Linear and m.weight.dtype == torch.float32
        }


@functools.cache
def _onednn_linear() -> Callable[..., Any] | None:
    """oneDNN's fp32 linear on a CPU (`torch.ops.mkldnn._linear_pointwise`), or None
    where this torch lacks it or it does not compute `F.linear` on a trial."""
    import torch
    import torch.nn.functional as F

    try:
        linear = torch.ops.mkldnn._linear_pointwise
        if not torch.backends.mkldnn.is_available():
            return None
        own = torch.Generator().manual_seed(0)  # the global generator is the run's
        x, w, b = (torch.randn(*shape, generator=own) for shape in ((3, 2, 5), (4, 5), (4,)))
        with torch.inference_mode():
            packed = torch.ops.mkldnn._reorder_linear_weight(w, 8)
            for weight in (w, packed):
                if not torch.allclose(linear(x, weight, b, "none", [], ""), F.linear(x, w, b)):
                    return None
    except (AttributeError, RuntimeError):
        return None
    return linear


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


def cached_prefix(model: Any, prefix: list[int], device: str) -> Any:
    """The keys and values of `prefix`, computed once and kept on the model for the
    next call with the same prefix (the harness answers in chunks; every chunk of a
    strategy shares the system message). Read-only for its users; recomputed when
    any weight has changed since."""
    return kept_while_weights_unchanged(
        model,
        "_advisor_prefix",
        (tuple(prefix), str(device)),
        lambda: _prefix_cache(model, prefix, device),
    )


def kept_while_weights_unchanged(
    model: Any, attribute: str, key: Any, compute: Callable[[], Any]
) -> Any:
    """`compute()`, kept on `model` as `attribute` and returned again for the same
    `key` for as long as none of the model's weights has changed (every tensor
    counts its in-place updates: an optimizer step changes the count)."""
    full_key = (key, tuple(p._version for p in model.parameters()))
    memo = getattr(model, attribute, None)
    if memo is not None and memo[0] == full_key:
        return memo[1]
    value = compute()
    object.__setattr__(model, attribute, (full_key, value))
    return value


def _prefix_cache(model: Any, prefix: list[int], device: str) -> Any:
    import torch
    from transformers import DynamicCache

    cache = DynamicCache(config=_hf_base(model).config)
    on_cpu = torch.device(device).type == "cpu"
    with torch.inference_mode(), _projections(model) if on_cpu else contextlib.nullcontext():
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
