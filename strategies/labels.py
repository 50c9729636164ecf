"""Reading a label off a language model without punishing how it phrases.

Two ways, besides free text mapped to a label (`benchmarks.metrics.map_to_label`):
`rank_labels` finds the allowed label with the highest log-likelihood (exact,
as evaluation harnesses score multiple choice); `constrained_labels` decodes
greedily with every token that does not continue an allowed label masked
(cheap: the cost of writing one label).

Label scoring by likelihood: which allowed label does the model find most likely?

On a classification task a small model often knows the answer but phrases it
("A recent refund on your statement can be ..."), and free text mapped to a
label then measures phrasing, not knowledge. Evaluation harnesses score
multiple choice the other way round: every allowed answer is appended to the
prompt and the one with the highest log-likelihood wins. Here the continuation
is the label's tokens and the end-of-turn token, so a label that is a prefix of
another ("card" / "card_arrival") is not favoured.

Computed once per shared prefix, and exactly, at a fraction of scoring every
label in full:

- the prompt prefix every question shares (the system message that lists the
  labels) is run once and attended to by every row (`shared_prefix_attention`,
  as in generation); each question's own tokens are run once;
- the first label token's log-probability comes free with the prompt's last
  position. A label's log-likelihood is that plus the log-probabilities of its
  later tokens, each ≤ 0, so the first token's is an upper bound: labels are
  scored in full in order of that bound, `candidates` at a time per question,
  and the search stops when no remaining label's bound beats the best full
  score found. The winner is the label scoring every label would pick (tested
  against that), with a few labels scored per question instead of all of them.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from strategies.generation import (
    SHARED_PREFIX_ATTENTION,
    Message,
    _attention_implementation,
    _cache_argument,
    _caches_keys_and_values,
    _hf_base,
    _layout,
    _supports_shared_prefix,
    cached_prefix,
    render_prompt,
    shared_prefix,
    visible_mask,
)

CANDIDATES = 8
"""Labels scored in full per question and round (most questions need one round)."""


@dataclass(frozen=True)
class LabelChoice:
    """The label a conversation's prompt makes most likely, and what finding it cost."""

    label: str
    logprob: float
    scored: int  # labels scored in full (the rest were ruled out by their bound)
    prompt_tokens: int
    latency_s: float  # wall time of the batch this choice was made in


def label_continuations(tokenizer: Any, labels: Sequence[str]) -> list[list[int]]:
    """Each label's tokens as the model would write them, then the end-of-turn token."""
    from strategies.training import end_of_turn_id

    end = end_of_turn_id(tokenizer)
    return [[*tokenizer(label, add_special_tokens=False)["input_ids"], end] for label in labels]


def rank_labels(
    model: Any,
    tokenizer: Any,
    conversations: Sequence[Sequence[Message]],
    labels: Sequence[str],
    *,
    batch_size: int = 16,
    device: str = "cpu",
    candidates: int = CANDIDATES,
) -> list[LabelChoice]:
    """For each conversation, the allowed label with the highest log-likelihood
    after its prompt (see the module docstring); results in input order."""
    import torch

    if not _caches_keys_and_values(model):
        raise TypeError("label scoring by likelihood needs a transformers causal LM")
    continuations = label_continuations(tokenizer, labels)
    prompts = [render_prompt(tokenizer, conversation) for conversation in conversations]
    encoded = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    order = sorted(range(len(encoded)), key=lambda i: (-len(encoded[i]), i))
    pad_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )
    prefix = shared_prefix(encoded)
    prefix_cache = cached_prefix(model, prefix, device) if prefix else None
    results: list[LabelChoice | None] = [None] * len(encoded)
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        input_ids, attention = _layout(batch, encoded, len(prefix), pad_id)
        began = time.perf_counter()
        with torch.inference_mode():
            best = _score_batch(
                model,
                input_ids.to(device),
                attention.to(device),
                prefix_cache,
                continuations,
                candidates,
            )
        elapsed = time.perf_counter() - began
        for row, index in enumerate(batch):
            label_index, logprob, scored = best[row]
            results[index] = LabelChoice(
                labels[label_index], logprob, scored, len(encoded[index]), elapsed
            )
    return [r for r in results if r is not None]


def _score_batch(
    model: Any,
    input_ids: Any,
    attention: Any,
    prefix: Any,
    continuations: list[list[int]],
    candidates: int,
) -> list[tuple[int, float, int]]:
    """(label index, log-likelihood, labels scored) for each row of one batch."""
    import torch
    from transformers import DynamicCache

    base = _hf_base(model)
    cached = prefix.get_seq_length() if prefix is not None else 0
    shared = prefix is not None and _supports_shared_prefix(base)
    if prefix is None or shared:
        cache = DynamicCache(config=base.config)
    else:  # every row gets its own copy of the prefix
        cache = copy.deepcopy(prefix)
        cache.batch_repeat_interleave(input_ids.shape[0])
    extra: dict[str, Any] = {"shared_prefix": prefix} if shared else {}
    positions = (attention.cumsum(-1) - 1).clamp(min=0)[:, cached:]
    own = attention[:, cached:] if shared else attention
    rows = input_ids.shape[0]
    with contextlib.ExitStack() as stack:
        if shared:
            stack.enter_context(_attention_implementation(base, SHARED_PREFIX_ATTENTION))
        logits = model(
            input_ids=input_ids[:, cached:],
            attention_mask=visible_mask(own, positions.shape[1]) if shared else own,
            position_ids=positions,
            use_cache=True,
            **{_cache_argument(model): cache},
            **extra,
        ).logits[:, -1]
        first = torch.tensor([c[0] for c in continuations], device=input_ids.device)
        bounds = torch.log_softmax(logits.float(), dim=-1)[:, first].tolist()  # rows x labels
        ranked = [sorted(range(len(first)), key=lambda j, b=b: (-b[j], j)) for b in bounds]
        best = [(-1, -math.inf)] * rows
        next_up = [0] * rows  # position in `ranked[row]` of the next label to score
        scored = [0] * rows
        while True:
            pairs = []  # (row, label) scored in full this round
            for row in range(rows):
                for label in ranked[row][next_up[row] : next_up[row] + candidates]:
                    if bounds[row][label] <= best[row][1]:
                        break  # ranked by bound: no later label can win either
                    pairs.append((row, label))
                next_up[row] += candidates
            if not pairs:
                break
            scores = _full_scores(
                model, cache, own, positions, extra, shared, pairs, continuations, bounds
            )
            for (row, label), score in zip(pairs, scores, strict=True):
                scored[row] += 1
                if score > best[row][1]:
                    best[row] = (label, score)
    return [(label, score, n) for (label, score), n in zip(best, scored, strict=True)]


PAIRS_PER_FORWARD = 256


def _full_scores(
    model: Any,
    cache: Any,
    own: Any,
    positions: Any,
    extra: dict[str, Any],
    shared: bool,
    pairs: list[tuple[int, int]],
    continuations: list[list[int]],
    bounds: list[list[float]],
) -> list[float]:
    """Log-likelihood of each (row, label) pair's whole continuation after the row's
    prompt. Pairs of one length run together (no padding to compute), and the
    language-model head projects only the positions that predict a label token."""
    scores: dict[int, float] = {}
    by_length: dict[int, list[int]] = {}
    for i, (_, label) in enumerate(pairs):
        by_length.setdefault(len(continuations[label]), []).append(i)
    chunks = [
        group[start : start + PAIRS_PER_FORWARD]
        for _, group in sorted(by_length.items())
        for start in range(0, len(group), PAIRS_PER_FORWARD)
    ]
    for chunk in chunks:  # one length per forward pass: no padding is computed
        rest = _continuation_logprobs(
            model, cache, own, positions, extra, shared, [pairs[i] for i in chunk], continuations
        )
        for i, value in zip(chunk, rest, strict=True):
            row, label = pairs[i]
            scores[i] = bounds[row][label] + value
    return [scores[i] for i in range(len(pairs))]


def _continuation_logprobs(
    model: Any,
    cache: Any,
    own: Any,
    positions: Any,
    extra: dict[str, Any],
    shared: bool,
    pairs: list[tuple[int, int]],
    continuations: list[list[int]],
) -> list[float]:
    """Sum of log p(token) over each pair's continuation after its first token."""
    import torch

    width = max(len(continuations[label]) for _, label in pairs) - 1
    if width == 0:  # one-token continuations: nothing after the first token
        return [0.0] * len(pairs)
    device = own.device
    rows = torch.tensor([row for row, _ in pairs], device=device)
    inputs = torch.zeros((len(pairs), width), dtype=torch.long, device=device)
    targets = torch.zeros((len(pairs), width), dtype=torch.long, device=device)
    real = torch.zeros((len(pairs), width), dtype=torch.bool, device=device)
    for i, (_, label) in enumerate(pairs):
        tokens = continuations[label]
        n = len(tokens) - 1
        if n:
            inputs[i, :n] = torch.tensor(tokens[:-1], device=device)
            targets[i, :n] = torch.tensor(tokens[1:], device=device)
            real[i, :n] = True
    pair_cache = copy.deepcopy(cache)
    pair_cache.batch_select_indices(rows)
    # continuation padding sits after the real tokens, where no real query looks
    key_mask = torch.cat([own[rows], torch.ones_like(inputs)], dim=1)
    base = _hf_base(model)
    hidden = base.get_decoder()(
        input_ids=inputs,
        attention_mask=visible_mask(key_mask, width) if shared else key_mask,
        position_ids=positions[rows, -1:] + 1 + torch.arange(width, device=device),
        use_cache=True,
        **{_cache_argument(model): pair_cache},
        **extra,
    ).last_hidden_state
    logits = base.get_output_embeddings()(hidden[real])
    taken = torch.log_softmax(logits.float(), dim=-1).gather(-1, targets[real][:, None])[:, 0]
    owner = torch.arange(len(pairs), device=device)[:, None].expand(-1, width)[real]
    sums = torch.zeros(len(pairs), device=device).index_add_(0, owner, taken)
    return sums.tolist()


class LabelTrie:
    """The allowed labels' token sequences as a prefix tree: which tokens may
    follow a prefix, and which label a prefix already determines."""

    def __init__(self, continuations: Sequence[Sequence[int]], labels: Sequence[str]) -> None:
        self.following: dict[tuple[int, ...], list[int]] = {}
        extends: dict[tuple[int, ...], set[str]] = {}
        for tokens, label in zip(continuations, labels, strict=True):
            for i in range(len(tokens)):
                nexts = self.following.setdefault(tuple(tokens[:i]), [])
                if tokens[i] not in nexts:
                    nexts.append(tokens[i])
                extends.setdefault(tuple(tokens[: i + 1]), set()).add(label)
        self.determined = {p: next(iter(ls)) for p, ls in extends.items() if len(ls) == 1}
        self.end = continuations[0][-1]
        self.longest = max(len(tokens) for tokens in continuations)

    def restrict(self, logits: Any, rows: Any, generated: Any) -> Any:
        """`generate`'s hook: every token that does not continue a label is masked;
        once the tokens so far determine one label, only the end token is allowed
        (its remaining tokens are forced: no need to run the model for them)."""
        import torch

        mask = torch.full_like(logits, -math.inf)
        for row, prefix in enumerate(generated.tolist()):
            key = tuple(prefix)
            if key in self.determined:
                mask[row, self.end] = 0.0
            elif key in self.following:
                mask[row, self.following[key]] = 0.0
            else:  # the row has finished its label
                mask[row] = 0.0
        return logits + mask

    def label(self, tokens: Sequence[int]) -> str | None:
        """The label a generated token sequence (end token excluded) stands for."""
        return self.determined.get(tuple(tokens))


def constrained_labels(
    model: Any,
    tokenizer: Any,
    conversations: Sequence[Sequence[Message]],
    labels: Sequence[str],
    *,
    batch_size: int = 16,
    device: str = "cpu",
) -> list[Any]:
    """Greedy decoding that may only write an allowed label (the label trie
    masks every other token at every step), as structured-generation libraries
    constrain a choice: the cheap way to read a label off a model that phrases.
    Not the most likely label overall (`rank_labels` is exact) but the one
    greedy decoding reaches; never an answer that names no label."""
    from dataclasses import replace

    from strategies.generation import generate

    trie = LabelTrie(label_continuations(tokenizer, labels), labels)
    generations = generate(
        model,
        tokenizer,
        conversations,
        max_new_tokens=trie.longest,
        batch_size=batch_size,
        device=device,
        restrict=trie.restrict,
    )
    return [
        replace(g, text=trie.label(g.tokens) or g.text, scoring="constrained") for g in generations
    ]
