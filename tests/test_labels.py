"""Label scoring by likelihood picks the label that scoring every label in full picks."""

from __future__ import annotations

import pytest
import torch

from strategies.generation import render_prompt
from strategies.labels import label_continuations, rank_labels
from tiny import lively_llama, tiny_tokenizer

LABELS = ("card", "card arrival", "card_delivery", "transfer", "hours", "loan", "fraud", "atm")
QUESTIONS = (
    "my debit card never arrived",
    "when are branches open",
    "send money to my sister",
    "someone used my card",
    "borrow for a car",
    "cash machine abroad",
)


def _brute_force(model, tokenizer, conversation, labels):
    """Every label scored in full: one uncached forward pass of prompt + label."""
    prompt = tokenizer(render_prompt(tokenizer, conversation), add_special_tokens=False)[
        "input_ids"
    ]
    scores = []
    for continuation in label_continuations(tokenizer, labels):
        ids = torch.tensor([prompt + continuation])
        with torch.inference_mode():
            logprobs = torch.log_softmax(model(input_ids=ids).logits.float(), dim=-1)[0]
        scores.append(
            sum(float(logprobs[len(prompt) + i - 1, t]) for i, t in enumerate(continuation))
        )
    best = max(range(len(labels)), key=lambda j: scores[j])
    return labels[best], scores[best]


@pytest.mark.parametrize("candidates", [1, 3, 8])
@pytest.mark.parametrize("shared_system_prompt", [True, False])
def test_the_most_likely_label_is_the_one_full_scoring_picks(candidates, shared_system_prompt):
    tokenizer = tiny_tokenizer()
    model = lively_llama(tokenizer).eval()
    conversations = [
        [
            {
                "role": "system",
                "content": "Route the message. Labels: " + ", ".join(LABELS)
                if shared_system_prompt
                else f"Route message {n}.",
            },
            {"role": "user", "content": question},
        ]
        for n, question in enumerate(QUESTIONS)
    ]
    choices = rank_labels(
        model, tokenizer, conversations, LABELS, batch_size=4, candidates=candidates
    )
    for conversation, choice in zip(conversations, choices, strict=True):
        label, logprob = _brute_force(model, tokenizer, conversation, LABELS)
        assert choice.label == label
        assert choice.logprob == pytest.approx(logprob, abs=1e-4)
        assert 1 <= choice.scored <= len(LABELS)


def test_labels_are_ruled_out_by_their_first_token_bound():
    """A model taught to answer "loan": that label's whole continuation is more
    likely than any other label's first token, so it alone is scored in full."""
    tokenizer = tiny_tokenizer()
    model = lively_llama(tokenizer)
    conversation = [{"role": "user", "content": "borrow for a car"}]
    prompt = tokenizer(render_prompt(tokenizer, conversation), add_special_tokens=False)[
        "input_ids"
    ]
    (answer,) = label_continuations(tokenizer, ["loan"])
    ids = torch.tensor([prompt + answer])
    labels = torch.tensor([[-100] * len(prompt) + answer])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(40):
        optimizer.zero_grad()
        model(input_ids=ids, labels=labels).loss.backward()
        optimizer.step()
    model.eval()
    (choice,) = rank_labels(model, tokenizer, [conversation], LABELS, candidates=1)
    assert choice.label == "loan" == _brute_force(model, tokenizer, conversation, LABELS)[0]
    assert choice.scored == 1


def test_a_model_without_a_kv_cache_is_refused():
    tokenizer = tiny_tokenizer()
    with pytest.raises(TypeError, match="transformers causal LM"):
        rank_labels(object(), tokenizer, [[{"role": "user", "content": "hi"}]], LABELS)


def test_constrained_decoding_only_ever_writes_an_allowed_label():
    from strategies.labels import constrained_labels

    tokenizer = tiny_tokenizer()
    model = lively_llama(tokenizer).eval()  # a random model: free text would be noise
    conversations = [[{"role": "user", "content": q}] for q in QUESTIONS]
    answers = constrained_labels(model, tokenizer, conversations, LABELS, batch_size=4)
    assert all(a.text in LABELS and a.scoring == "constrained" for a in answers)
    again = constrained_labels(model, tokenizer, conversations[::-1], LABELS, batch_size=3)
    assert [a.text for a in again[::-1]] == [a.text for a in answers]


def test_the_trie_forces_the_end_once_the_tokens_determine_a_label():
    from strategies.labels import LabelTrie

    trie = LabelTrie([[5, 6, 9], [5, 7, 8, 9], [4, 9]], ["ab", "acd", "z"])
    logits = torch.zeros(4, 12)
    generated = torch.tensor([[0, 0], [5, 0], [5, 7], [4, 9]])[:, :0]
    allowed = trie.restrict(logits, None, generated)  # nothing generated yet
    assert set(torch.nonzero(allowed[0] == 0).flatten().tolist()) == {5, 4}
    masks = trie.restrict(torch.zeros(3, 12), None, torch.tensor([[5], [4], [7]]))
    assert set(torch.nonzero(masks[0] == 0).flatten().tolist()) == {6, 7}  # ab or acd
    assert torch.nonzero(masks[1] == 0).flatten().tolist() == [9]  # "z" is determined
    assert trie.label([4]) == "z" and trie.label([5, 7]) == "acd" and trie.label([5]) is None
