"""Tiny models and a tiny task, built in code, for fast tests of the real code paths.

- `tiny_tokenizer()`: a byte-level BPE trained in milliseconds on the tiny task's
  text, with SmolLM2's special tokens and chat template (so prompts, masks and
  end tokens behave like the real model's).
- `tiny_llama(tokenizer)`: a 2-layer Llama with random weights (~100k parameters).
- `HashEmbedder`: a deterministic bag-of-words embedder with the
  sentence-transformers `encode` signature, standing in for MiniLM.
- `write_tiny_task(folder)`: a valid task folder (corpus, corpus_v2, train, test).
- `tiny_provider()`: an `advisor.models.ModelProvider` over those objects.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np

SMOLLM2_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

FACTS = [
    (
        "sinpe",
        "A SINPE transfer costs Q5.00 for amounts up to Q5,000.00.",
        "How much does a SINPE transfer cost?",
        "Q5.00 per transfer up to Q5,000.00. — Tiny Assist",
        ["Q5.00"],
    ),
    (
        "card",
        "A replacement debit card costs Q35.00.",
        "What does a new debit card cost?",
        "A replacement debit card costs Q35.00. — Tiny Assist",
        ["Q35.00"],
    ),
    (
        "hours",
        "Branches open from 9:00 am to 5:00 pm.",
        "When are branches open?",
        "Branches open 9:00 am to 5:00 pm. — Tiny Assist",
        ["9:00 am", "5:00 pm"],
    ),
    (
        "wallet",
        "The mobile wallet daily limit is Q3,000.00.",
        "What is the wallet limit per day?",
        "The wallet limit is Q3,000.00 per day. — Tiny Assist",
        ["Q3,000.00"],
    ),
]
UNSEEN = (
    "atm",
    "ATM withdrawals abroad cost Q25.00.",
    "How much is an ATM withdrawal abroad?",
    "An ATM withdrawal abroad costs Q25.00. — Tiny Assist",
    ["Q25.00"],
)
DECLINE = "I'm sorry, I can only help with Tiny Bank services. — Tiny Assist"


def _all_text() -> list[str]:
    texts = []
    for _, sentence, question, answer, _ in [*FACTS, UNSEEN]:
        texts += [sentence, question, answer, question.lower(), "Please tell me: " + question]
    texts += [DECLINE, "What is the weather today?", "Write me a poem.", "The fee rose to Q7.50."]
    return texts


def tiny_tokenizer():
    """A byte-level BPE tokenizer with SmolLM2's special tokens and chat template."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        _all_text() * 3, vocab_size=400, min_frequency=1, special_tokens=specials
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
    )
    tokenizer.chat_template = SMOLLM2_CHAT_TEMPLATE
    return tokenizer


def tiny_llama(tokenizer, seed: int = 0, hidden: int = 32, layers: int = 2):
    """A randomly initialised Llama small enough to train in a test."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def lively_llama(tokenizer, seed: int = 0):
    """A tiny Llama whose greedy answers differ by prompt, position and step.

    At the usual init every prompt gets the same repeated token, so two ways
    of decoding would agree even if one were wrong; with every matrix drawn
    at std 0.3 the tokens vary, and agreeing means something.
    """
    import torch

    model = tiny_llama(tokenizer, seed=seed)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() == 2:
                parameter.normal_(0.0, 0.3)
    return model


class HashEmbedder:
    """Bag-of-words vectors from hashed tokens: deterministic, instant, and good
    enough to find a passage that shares words with the question."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim

    def encode(
        self, texts, normalize_embeddings: bool = True, batch_size: int = 32, **_
    ) -> np.ndarray:
        if isinstance(texts, str):
            texts = [texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(token.encode()).hexdigest(), 16) % self.dim] += 1.0
        if normalize_embeddings:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out = out / np.maximum(norms, 1e-9)
        return out


def write_tiny_task(folder: Path) -> Path:
    """A small but complete task folder (every kind, a drift corpus)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "task.yaml").write_text(
        "name: tiny\nversion: 1\ndescription: A tiny bank for tests.\ndomain: banking\n"
        "system_prompt: You are Tiny Assist, the assistant of Tiny Bank. Answer in English.\n"
        "style:\n  description: One sentence; amounts like Q5.00; end with '— Tiny Assist'.\n"
        "  max_words: 30\n  money_pattern: 'Q\\d{1,3}(,\\d{3})*\\.\\d{2}'\n"
        "  required_patterns: ['— Tiny Assist$']\n"
        'decline:\n  patterns: ["(?i)I can only help"]\n'
        "drift:\n  corpus: corpus_v2\n  note: the SINPE fee rose.\n"
    )
    for version, fee in (("corpus", "Q5.00"), ("corpus_v2", "Q7.50")):
        (folder / version).mkdir(exist_ok=True)
        (folder / version / "transfers.md").write_text(
            f"# Transfers\n\nA SINPE transfer costs {fee} for amounts up to Q5,000.00.\n"
            "The mobile wallet daily limit is Q3,000.00.\n"
        )
        (folder / version / "cards.md").write_text(
            "# Cards\n\nA replacement debit card costs Q35.00.\nATM withdrawals abroad cost Q25.00.\n"
        )
        (folder / version / "hours.md").write_text(
            "# Hours\n\nBranches open from 9:00 am to 5:00 pm.\n"
        )
    train = []
    for _, _, question, answer, _ in FACTS:
        for wording in (
            question,
            "Please tell me: " + question.lower(),
            question.replace("?", " please?"),
        ):
            train.append(
                {
                    "messages": [
                        {"role": "user", "content": wording},
                        {"role": "assistant", "content": answer},
                    ]
                }
            )
    train.append({"prompt": "Write me a poem.", "completion": DECLINE})
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train))
    test = [
        {
            "id": "seen-1",
            "question": "Cost of a new debit card?",
            "reference": FACTS[1][3],
            "facts": ["Q35.00"],
            "kind": "seen",
        },
        {
            "id": "seen-2",
            "question": "Opening times of branches?",
            "reference": FACTS[2][3],
            "facts": ["9:00 am", "5:00 pm"],
            "kind": "seen",
        },
        {
            "id": "unseen-1",
            "question": UNSEEN[2],
            "reference": UNSEEN[3],
            "facts": UNSEEN[4],
            "kind": "unseen",
        },
        {
            "id": "style-1",
            "question": "Wallet limit, quickly?",
            "reference": FACTS[3][3],
            "facts": ["Q3,000.00"],
            "kind": "style",
        },
        {
            "id": "oos-1",
            "question": "What is the weather today?",
            "reference": DECLINE,
            "facts": [],
            "kind": "out_of_scope",
        },
        {
            "id": "drift-1",
            "question": "What is the SINPE fee now?",
            "reference": "A SINPE transfer costs Q7.50. — Tiny Assist",
            "facts": ["Q7.50"],
            "stale_facts": ["Q5.00"],
            "kind": "drift",
        },
    ]
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test))
    return folder


INTENTS = {
    "card": (
        "my debit card never arrived",
        "the new card has not come in the post",
        "where is the card you sent me",
        "card still not delivered after a week",
        "has my replacement card been shipped",
        "when does a new card arrive",
        "I am waiting for my card",
    ),
    "transfer": (
        "how do I send money to another bank",
        "make a SINPE transfer to my sister",
        "the transfer I sent is not there yet",
        "move money between my accounts",
        "send a payment to a friend",
        "wire money abroad",
        "transfer funds to savings",
    ),
    "hours": (
        "when are branches open",
        "what time does the branch close",
        "are you open on saturday",
        "opening hours please",
        "is the office open at 8",
        "branch times on weekdays",
        "what hours is the call centre open",
    ),
    "loan": (
        "I want to borrow money for a car",
        "what is the rate on a personal loan",
        "apply for a loan",
        "can I get a mortgage",
        "how much can I borrow",
        "loan repayment options",
        "credit for a small business",
    ),
}
"""A tiny intent-classification task: 5 train and 2 test messages per label."""


def write_tiny_classification_task(folder: Path, *, corpus: bool = False) -> Path:
    """A valid classification task folder (no corpus unless asked for)."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = ", ".join(INTENTS)
    (folder / "task.yaml").write_text(
        "name: tiny-intents\nversion: 1\ntype: classification\n"
        "description: Route a tiny bank's messages.\ndomain: banking\n"
        "system_prompt: Route the customer's message to one intent.\n"
        f"labels: [{labels}]\n"
    )
    train, test = [], []
    for label, messages in INTENTS.items():
        for message in messages[:5]:
            train.append(
                {
                    "messages": [
                        {"role": "user", "content": message},
                        {"role": "assistant", "content": label},
                    ]
                }
            )
        for n, message in enumerate(messages[5:], start=1):
            test.append({"id": f"{label}-{n}", "question": message, "reference": label})
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train))
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test))
    if corpus:
        (folder / "corpus").mkdir(exist_ok=True)
        (folder / "corpus" / "help.md").write_text(
            "# Help\n\nCards arrive in 5 business days. Branches open at 9:00 am.\n"
        )
    return folder


def cpu_device():
    from advisor.runtime import DeviceInfo

    return DeviceInfo(device="cpu", dtype="float32", name="test cpu", threads=1, native_bf16=False)


def strategy_context(task, workdir: Path, config, *, shared=None, provider=None, phases=None):
    """A StrategyContext for one strategy's tests: CPU, seed 0, the tiny models;
    the phases a strategy starts are appended to `phases` when given."""
    from strategies.protocol import StrategyContext

    def start_phase(description, total):
        if phases is not None:
            phases.append((description, total))
        return lambda n, fields: None

    return StrategyContext(
        task=task,
        config=config,
        models=provider or tiny_provider(),
        device=cpu_device(),
        seed=0,
        workdir=workdir,
        shared={} if shared is None else shared,
        start_phase=start_phase,
    )


def tiny_provider(seed: int = 0):
    from advisor.models import ModelProvider

    tokenizer = tiny_tokenizer()
    return ModelProvider.from_objects(
        tiny_llama(tokenizer, seed), tokenizer, HashEmbedder(), cpu_device()
    )


def save_tiny_model(folder: Path, seed: int = 0) -> Path:
    """The tiny Llama and its tokenizer as an ordinary Hugging Face folder."""
    tokenizer = tiny_tokenizer()
    tiny_llama(tokenizer, seed=seed).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def save_tiny_embedder(folder: Path, texts: list[str] | None = None) -> Path:
    """A tiny sentence-transformers folder (a 2-layer BERT, mean pooling, random
    weights) that loads by path like MiniLM does."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    words = sorted({w for t in (texts or _all_text()) for w in re.findall(r"\w+", t.lower())})
    base = folder.parent / f"{folder.name}-bert"
    base.mkdir(parents=True, exist_ok=True)
    (base / "vocab.txt").write_text(
        "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n"
    )
    tokenizer = BertTokenizerFast(vocab_file=str(base / "vocab.txt"))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    BertModel(config).save_pretrained(base)
    tokenizer.save_pretrained(base)
    encoder = Transformer(str(base), max_seq_length=128)
    model = SentenceTransformer(modules=[encoder, Pooling(32, pooling_mode="mean")], device="cpu")
    model.save(str(folder))
    return folder
