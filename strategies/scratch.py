"""`scratch`: a small decoder-only transformer trained from random initialisation.

It exists to show, measured, what training from scratch buys with this much
data and compute: the same train conversations and corpus text, the same
tokenizer, no pre-trained weights. The model is nanoGPT-sized and written here
in full: token + position embeddings, pre-LayerNorm blocks of causal
self-attention (`scaled_dot_product_attention`) and an MLP, a head tied to the
token embeddings.

The tokenizer is the generator's (SmolLM2: 49,152 tokens), but the embedding
table only needs the tokens that occur in the training text, so ids are
remapped to a compact vocabulary (a few thousand entries): the same
tokenization, a much cheaper head. Ids never seen in training map to `<unk>`
at question time, and `<unk>` is never generated.

`ScratchGPT.generate` has Hugging Face semantics (original token ids in and out,
left padding via the attention mask, greedy, stops at the end tokens), so the
answers go through the shared `strategies.generation.generate` like every
other strategy's.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from advisor.config import ScratchConfig
from advisor.fileio import atomic_writer
from strategies.generation import visible_mask
from strategies.prompting import answers_from, chat, for_label_learners, generate_answers
from strategies.protocol import Answer, Needs, PrepareReport, StrategyContext
from strategies.training import (
    IGNORE_INDEX,
    Example,
    build_sft_examples,
    corpus_examples,
    epoch_batches,
    examples_digest,
    fingerprint,
    pad_id,
    read_train_log,
    train,
    train_batch_size,
    write_train_log,
)

UNK = 0  # compact id of every token the training text never contained
WEIGHTS = "model.pt"


# ---------------------------------------------------------------- the model


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, dropout: float) -> None:
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)
        self.dropout = dropout

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None, cache: dict | None = None
    ) -> torch.Tensor:
        """`cache` (generation): keys and values of earlier positions, extended in place."""
        batch, length, width = x.shape
        q, k, v = self.qkv(x).split(width, dim=2)
        q, k, v = (t.view(batch, length, self.n_head, -1).transpose(1, 2) for t in (q, k, v))
        if cache is not None:
            if cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        y = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask,
            is_causal=mask is None,
            dropout_p=self.dropout if self.training else 0.0,
        )
        return self.proj(y.transpose(1, 2).reshape(batch, length, width))


class Block(nn.Module):
    """Pre-LN: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, n_embd: int, n_head: int, dropout: float) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd),
            nn.GELU(),
            nn.Linear(4 * n_embd, n_embd),
            nn.Dropout(dropout),
        )

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None, cache: dict | None = None
    ) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), mask, cache)
        return x + self.mlp(self.ln_2(x))


class ScratchGPT(nn.Module):
    """A GPT over a compact vocabulary, with a Hugging Face style `generate`.

    `used_ids` are the tokenizer ids the model knows; they get compact ids
    1..n, every other id maps to `UNK` (0). Training feeds compact ids;
    `generate` maps to and from the tokenizer's ids.
    """

    def __init__(
        self,
        used_ids: Iterable[int],
        tokenizer_size: int,
        *,
        n_layer: int,
        n_head: int,
        n_embd: int,
        block_size: int,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        known = sorted(set(used_ids))
        self.block_size = block_size
        self.vocab_size = len(known) + 1
        to_compact = torch.full((tokenizer_size,), UNK, dtype=torch.long)
        to_compact[torch.tensor(known, dtype=torch.long)] = torch.arange(1, self.vocab_size)
        self.register_buffer("to_compact", to_compact, persistent=True)
        self.register_buffer(
            "to_original", torch.tensor([known[0], *known], dtype=torch.long), persistent=True
        )
        self.wte = nn.Embedding(self.vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(n_embd, n_head, dropout) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, self.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied
        self.apply(self._init_weights)
        for name, parameter in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                # GPT-2: residual projections scaled down with depth
                nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def compact(self, ids: torch.Tensor) -> torch.Tensor:
        return self.to_compact[ids]

    def forward_hidden(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Final hidden states for compact `input_ids` (at most `block_size` long).

        Without a mask the rows are unpadded or right-padded (causal attention
        keeps padding out of every real position). With a mask (left padding at
        generation), positions count real tokens only and padding is never
        attended to.
        """
        length = input_ids.size(1)
        if attention_mask is None:
            positions = torch.arange(length, device=input_ids.device).unsqueeze(0)
            mask = None
        else:
            positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
            mask = visible_mask(attention_mask, length)  # (batch, 1, query, key)
        x = self.drop(self.wte(input_ids) + self.wpe(positions))
        for block in self.blocks:
            x = block(x, mask)
        return self.ln_f(x)

    def extend(
        self,
        input_ids: torch.Tensor,
        key_mask: torch.Tensor,
        positions: torch.Tensor,
        caches: Sequence[dict],
    ) -> torch.Tensor:
        """Final hidden states of compact `input_ids` that follow the positions
        already in `caches` (one dict per block; empty ones are filled).

        `key_mask` (rows x all positions, cached and new) marks real tokens;
        a new token sees the real tokens up to itself, and always itself.
        """
        mask = visible_mask(key_mask, input_ids.size(1))
        x = self.wte(input_ids) + self.wpe(positions)
        for block, cache in zip(self.blocks, caches, strict=True):
            x = block(x, mask, cache)
        return self.ln_f(x)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Logits over the compact vocabulary."""
        return self.lm_head(self.forward_hidden(input_ids, attention_mask))

    @torch.no_grad()
    def generate(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        max_new_tokens: int = 32,
        do_sample: bool = False,
        pad_token_id: int | None = None,
        eos_token_id: int | Sequence[int] | None = None,
        **_: object,
    ) -> torch.Tensor:
        """Greedy continuation; tokenizer ids in, prompt + new tokens out (HF semantics).

        When the prompt and the new tokens fit in `block_size`, each step runs
        only the new token against cached keys and values; otherwise every
        step runs the last `block_size` tokens again (the same answers where
        both apply: tested). Finished rows are filled with `pad_token_id`.
        """
        if do_sample:
            raise ValueError("ScratchGPT generates greedily only")
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        stops = [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id or [])
        stop_compact = self.to_compact[torch.tensor(stops, dtype=torch.long)].to(input_ids.device)
        pad = pad_token_id if pad_token_id is not None else (stops[0] if stops else 0)
        ids, mask = self.compact(input_ids), attention_mask.long()
        finished = torch.zeros(ids.size(0), dtype=torch.bool, device=ids.device)
        new_tokens = []
        cached = ids.size(1) + max_new_tokens <= self.block_size
        if cached:
            caches = [{} for _ in self.blocks]
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            hidden = self.extend(ids, mask, positions, caches)
            position = positions[:, -1:]
        for step in range(max_new_tokens):
            if not cached:
                window = slice(-self.block_size, None)
                hidden = self.forward_hidden(ids[:, window], mask[:, window])
            elif step:
                position = position + 1
                hidden = self.extend(ids[:, -1:], mask, position, caches)
            logits = self.lm_head(hidden[:, -1])  # the head on the last position only
            logits[:, UNK] = float("-inf")
            chosen = logits.argmax(dim=-1)
            original = torch.where(finished, torch.full_like(chosen, pad), self.to_original[chosen])
            new_tokens.append(original)
            finished |= torch.isin(chosen, stop_compact)
            ids = torch.cat([ids, chosen.unsqueeze(1)], dim=1)
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
            if bool(finished.all()):
                break
        if not new_tokens:
            return input_ids
        return torch.cat([input_ids, torch.stack(new_tokens, dim=1)], dim=1)


def build_model(used_ids: Iterable[int], tokenizer_size: int, config: ScratchConfig) -> ScratchGPT:
    return ScratchGPT(
        used_ids,
        tokenizer_size,
        n_layer=config.n_layer,
        n_head=config.n_head,
        n_embd=config.n_embd,
        block_size=config.block_size,
    )


# ---------------------------------------------------------------- the strategy


def training_sequences(
    ctx: StrategyContext, tokenizer, block_size: int
) -> tuple[list[Example], dict[str, int]]:
    """The train conversations (as the model will be asked, answer included) and
    the v1 corpus in `block_size` windows, language-modelling loss on every token;
    and counts worth reporting.

    Position embeddings are absolute, so a conversation must fit the context
    for training and answering to see the same positions: one longer than
    `block_size` keeps its end (question and answer) and is counted as cropped;
    at answer time the window then slides, and the model sees positions it was
    not trained on. Size `block_size` to hold a conversation plus an answer.
    """
    conversations, _ = build_sft_examples(ctx.task, tokenizer, ctx.task.train, 1_000_000)
    sequences = []
    for example in conversations:
        ids = example.input_ids[-block_size:]
        sequences.append(Example(ids, ids))
    counts = {
        "longest_conversation": max((len(e) for e in conversations), default=0),
        "cropped_conversations": sum(1 for e in conversations if len(e) > block_size),
    }
    return sequences + corpus_examples(tokenizer, ctx.task.corpus, block_size), counts


def to_compact(model: ScratchGPT, examples: Sequence[Example]) -> list[Example]:
    table = model.to_compact.tolist()
    return [
        Example(
            tuple(table[i] for i in e.input_ids),
            tuple(table[i] if i != IGNORE_INDEX else IGNORE_INDEX for i in e.labels),
        )
        for e in examples
    ]


class ScratchStrategy:
    """A nanoGPT-sized transformer trained from random init on the task's text."""

    name = "scratch"
    needs = Needs(examples=True, learns_labels=True)

    def __init__(self) -> None:
        self._ctx: StrategyContext | None = None

    def prepare(self, ctx: StrategyContext) -> PrepareReport:
        from advisor.runtime import peak_memory_mb, set_seed

        ctx = dataclasses.replace(ctx, task=for_label_learners(ctx.task))
        self._ctx = ctx
        config = ctx.config.scratch
        began = time.perf_counter()
        if ctx.device.is_cuda:
            torch.cuda.reset_peak_memory_stats(torch.device(ctx.device.device))
        self.tokenizer = ctx.models.tokenizer()
        sequences, counts = training_sequences(ctx, self.tokenizer, config.block_size)
        used = {i for s in sequences for i in s.input_ids} | {pad_id(self.tokenizer)}
        set_seed(ctx.seed)
        self.model = build_model(used, len(self.tokenizer), config).to(ctx.device.device)
        examples = to_compact(self.model, sequences)
        batch_size = train_batch_size(config.batch_size, ctx.device)
        key = fingerprint(
            kind="scratch",
            config=dataclasses.asdict(config),
            batch_size=batch_size,
            seed=ctx.seed,
            dtype=ctx.device.dtype,
            data=examples_digest(sequences),
        )
        parameters = sum(p.numel() for p in self.model.parameters())
        details = {
            "parameters": parameters,
            "vocabulary": self.model.vocab_size,
            "sequences": len(examples),
            **counts,
            "batch_size": batch_size,
            "fingerprint": key,
        }
        saved = read_train_log(ctx.workdir)
        if (
            saved is not None
            and saved.get("fingerprint") == key
            and (ctx.workdir / WEIGHTS).is_file()
        ):
            # a resumed run: the model trained before, with this config, data and seed
            state = torch.load(ctx.workdir / WEIGHTS, map_location=ctx.device.device)
            self.model.load_state_dict(state)
            self.model.eval()
            return PrepareReport(
                train_time_s=float(saved.get("prepare_time_s", 0.0)),
                train_tokens=int(saved["summary"]["tokens"]),
                peak_memory_mb=peak_memory_mb(ctx.device),
                details={**details, **saved["summary"], "resumed": True},
            )
        log = train(
            self.model,
            epoch_batches(
                examples,
                batch_size,
                seed=ctx.seed,
                steps=config.steps,
                pad_token_id=int(self.model.to_compact[pad_id(self.tokenizer)]),
            ),
            steps=config.steps,
            lr=config.lr,
            device=ctx.device,
            warmup_ratio=0.05,
            weight_decay=0.1,
            betas=(0.9, 0.95),
            min_lr_ratio=0.1,
            advance=ctx.start_phase("scratch: training", config.steps),
        )
        prepare_time = time.perf_counter() - began
        ctx.workdir.mkdir(parents=True, exist_ok=True)
        with atomic_writer(ctx.workdir / WEIGHTS, binary=True) as handle:
            torch.save(self.model.state_dict(), handle)
        write_train_log(
            ctx.workdir,
            log,
            key,
            prepare_time_s=round(prepare_time, 2),
            config=dataclasses.asdict(config),
            parameters=parameters,
            seed=ctx.seed,
        )
        return PrepareReport(
            train_time_s=prepare_time,
            train_tokens=log.tokens,
            peak_memory_mb=peak_memory_mb(ctx.device),
            details={**details, **log.summary(), "resumed": False},
        )

    def answer(self, questions: Sequence[str]) -> list[Answer]:
        if self._ctx is None:
            raise RuntimeError(f"{self.name}: answer() called before prepare()")
        conversations = [chat(self._ctx.task, question) for question in questions]
        return answers_from(
            generate_answers(
                self._ctx, self.model, self.tokenizer, conversations, learns_labels=True
            )
        )
