"""Shared training code for the strategies that train: `sft`, `sft+rag`, `cpt`,
`full_ft`, `full_ft+rag`, `scratch`.

Free functions around one visible loop (`train`), in the torchtune / nanoGPT
spirit: no trainer class, every step readable top to bottom.

- Examples. An SFT example is the conversation the model will be asked at test
  time (`strategies.prompting.chat`: system message + user question), rendered
  with the chat template up to the assistant's turn, then the answer and the
  end-of-turn token. The prompt and the answer are encoded separately, exactly
  as generation encodes the prompt and then produces tokens, so training and
  inference see the same token boundaries. Labels are built explicitly: -100 on
  the prompt, the answer tokens and the closing `<|im_end|>` learned. (SmolLM2
  pads with that same token, so a collator that masks the pad token would mask
  every end token and the model would never learn to stop.)
- Batches. Length-grouped: examples are shuffled with the seed, sorted by length
  inside groups of a few batches, cut into batches and the batches shuffled, so
  a batch holds similar lengths and wastes little padding.
- Loss. The LM head (49,152 x 576 for SmolLM2) is a large share of the compute;
  `causal_lm_loss` runs the transformer trunk, gathers the positions that carry
  a loss (the answer tokens for SFT) and projects only those. Measured as the
  single biggest CPU saving of a plain loop. On top of it, the prompt prefix
  every row of a batch shares (the rendered system message, ~80% of a banking
  example) runs once per batch as a KV cache the rows attend to: another 2.5x
  (see benchmarks/perf/train_throughput.py). Both are exact.
- Optimisation. AdamW, linear warm-up then cosine decay, gradient clipping,
  bf16 autocast only when the device's dtype is bfloat16 (a GPU, or a CPU with
  native bf16: emulated bf16 is slower than fp32).
- Persistence. The adapter is saved with `save_pretrained` (into a temporary
  folder renamed into place) next to `train_log.json` (loss per step, tokens/s, wall time, and a fingerprint of
  what produced it), the log written last: a folder with both is complete, and a
  resumed run with the same fingerprint loads it instead of training again.
  Full fine-tuning (`full_weights`) saves every weight the same way, as one
  safetensors file in `weights/`.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import inspect
import json
import math
import random
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from advisor.fileio import atomic_dir, write_json_atomic
from strategies.distributed import is_main_process
from strategies.generation import render_prompt
from strategies.prompting import chat

if TYPE_CHECKING:
    from advisor.config import FullFtConfig, LoraConfig, TrainConfig
    from advisor.runtime import DeviceInfo
    from advisor.tasks import Document, Task, TrainExample
    from strategies.protocol import (
        Passage,
        PrepareReport,
        ProgressCallback,
        SharedModel,
        StrategyContext,
    )

IGNORE_INDEX = -100
ADAPTER_DIR = "adapter"
WEIGHTS_DIR = "weights"  # full fine-tuning: every weight, one safetensors file
WEIGHTS_FILE = "model.safetensors"
TRAIN_LOG = "train_log.json"
LOG_FORMAT = 1  # bump when the fingerprint or the saved layout changes


# ---------------------------------------------------------------- examples


@dataclass(frozen=True)
class Example:
    """One training sequence: token ids and their labels (-100 where no loss is taken)."""

    input_ids: tuple[int, ...]
    labels: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def loss_tokens(self) -> int:
        return sum(1 for label in self.labels[1:] if label != IGNORE_INDEX)


def end_of_turn_id(tokenizer: Any) -> int:
    """The token that closes an assistant turn (`<|im_end|>`), else the EOS token."""
    from strategies.generation import token_id

    found = token_id(tokenizer, "<|im_end|>")
    return found if found is not None else tokenizer.eos_token_id


def pad_id(tokenizer: Any) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


def conversation_for(
    task: Task, example: TrainExample, context_passages: Sequence[Passage] | None = None
) -> list[dict[str, str]]:
    """The conversation an example's answer replies to, built as test questions are.

    `chat(task, question)` gives the system message and the final question; any
    earlier turns of a multi-turn example go between them.
    """
    conversation = chat(task, example.question, context_passages=context_passages)
    last_user = max(i for i, m in enumerate(example.messages) if m["role"] == "user")
    earlier = [dict(m) for m in example.messages[:last_user]]
    if earlier:
        conversation = conversation[:-1] + earlier + conversation[-1:]
    return conversation


def sft_example(
    tokenizer: Any, conversation: Sequence[dict[str, str]], answer: str, max_length: int
) -> Example | None:
    """Prompt (no loss) + answer + end-of-turn (loss), cut to `max_length` tokens.

    Returns None when the prompt alone fills `max_length` (nothing left to learn).
    """
    prompt_ids = tokenizer(render_prompt(tokenizer, conversation), add_special_tokens=False)[
        "input_ids"
    ]
    answer_ids = [
        *tokenizer(answer, add_special_tokens=False)["input_ids"],
        end_of_turn_id(tokenizer),
    ]
    if len(prompt_ids) >= max_length:
        return None
    answer_ids = answer_ids[: max_length - len(prompt_ids)]
    return Example(
        input_ids=tuple(prompt_ids + answer_ids),
        labels=tuple([IGNORE_INDEX] * len(prompt_ids) + answer_ids),
    )


def build_sft_examples(
    task: Task,
    tokenizer: Any,
    train: Sequence[TrainExample],
    max_length: int,
    contexts: Sequence[Sequence[Passage]] | None = None,
) -> tuple[list[Example], int]:
    """SFT examples for `train` (optionally with retrieved passages per example),
    and how many were skipped because their prompt alone exceeds `max_length`."""
    examples, skipped = [], 0
    for i, item in enumerate(train):
        context = contexts[i] if contexts is not None else None
        example = sft_example(
            tokenizer, conversation_for(task, item, context), item.answer, max_length
        )
        if example is None:
            skipped += 1
        else:
            examples.append(example)
    return examples, skipped


def corpus_examples(
    tokenizer: Any, documents: Sequence[Document], max_length: int
) -> list[Example]:
    """Raw documents cut into windows of at most `max_length` tokens, loss everywhere.

    Each document is windowed on its own, so a window never spans two documents.
    """
    examples = []
    for document in documents:
        ids = tokenizer(document.text, add_special_tokens=False)["input_ids"]
        for start in range(0, len(ids), max_length):
            window = ids[start : start + max_length]
            if len(window) >= 2:
                examples.append(Example(tuple(window), tuple(window)))
    return examples


def select_examples(
    train: Sequence[TrainExample], limit: int | None, seed: int
) -> list[TrainExample]:
    """The first `limit` examples of a seeded permutation (all when limit is None).

    A prefix of one permutation, so for one seed the smaller learning-curve sets
    are subsets of the larger ones; the file order is kept inside the selection.
    """
    if limit is None or limit >= len(train):
        return list(train)
    order = list(range(len(train)))
    random.Random(seed).shuffle(order)
    return [train[i] for i in sorted(order[:limit])]


# ---------------------------------------------------------------- batches


def length_grouped_batches(
    lengths: Sequence[int], batch_size: int, *, seed: int, group_batches: int = 8
) -> list[list[int]]:
    """Index batches of similar lengths, in a seeded random order.

    Shuffle, sort by length inside groups of `group_batches` batches, cut into
    batches, shuffle the batches: little padding, yet every epoch differs.
    """
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    group = batch_size * group_batches
    batches: list[list[int]] = []
    for start in range(0, len(order), group):
        chunk = sorted(order[start : start + group], key=lambda i: -lengths[i])
        batches += [chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(examples: Sequence[Example], pad_token_id: int) -> dict[str, torch.Tensor]:
    """Right-padded `input_ids`, `attention_mask` and `labels` (-100 on padding)."""
    width = max(len(e) for e in examples)
    input_ids = torch.full((len(examples), width), pad_token_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    attention_mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example)
        input_ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        attention_mask[row, :n] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def planned_steps(n_examples: int, batch_size: int, epochs: float, max_steps: int = 0) -> int:
    """Optimizer steps for `epochs` passes (fractions allowed), capped by `max_steps`."""
    steps = max(1, math.ceil(epochs * math.ceil(n_examples / batch_size)))
    return min(steps, max_steps) if max_steps > 0 else steps


def epoch_batch_indices(
    lengths: Sequence[int], batch_size: int, *, seed: int, steps: int
) -> Iterator[list[int]]:
    """The example indices of `steps` batches: length-grouped epochs, reshuffled each epoch.

    The order `epoch_batches` trains in, for a peer trainer to be given the same
    batches (benchmarks/perf/bench.py)."""
    done, epoch = 0, 0
    while done < steps:
        for indices in length_grouped_batches(lengths, batch_size, seed=seed * 1_000 + epoch):
            if done == steps:
                return
            yield indices
            done += 1
        epoch += 1


def epoch_batches(
    examples: Sequence[Example], batch_size: int, *, seed: int, steps: int, pad_token_id: int
) -> Iterator[dict[str, torch.Tensor]]:
    """`steps` collated batches: length-grouped epochs, reshuffled each epoch."""
    lengths = [len(e) for e in examples]
    for indices in epoch_batch_indices(lengths, batch_size, seed=seed, steps=steps):
        yield collate([examples[i] for i in indices], pad_token_id)


# ---------------------------------------------------------------- loss


# a batch entry (one value per row): the shared prefix of the batch these rows were cut from
PREFIX_LENGTH = "shared_prefix_length"


def shared_prefix_length(batch: dict[str, torch.Tensor], minimum: int = 8) -> int:
    """How many leading tokens every row of the batch shares and takes no loss on.

    SFT rows all start with the same rendered system message (about 165 of the
    banking task's ~200 tokens per example); computing it once per batch instead
    of once per row is exact and saves most of the compute. Returns 0 when
    sharing would not pay (one row, or fewer than `minimum` common tokens).
    """
    if PREFIX_LENGTH in batch:  # a piece of a larger batch: that batch's prefix
        return int(batch[PREFIX_LENGTH][0])
    input_ids, labels = batch["input_ids"], batch["labels"]
    if input_ids.size(0) < 2:
        return 0
    same = (input_ids == input_ids[:1]).all(dim=0)
    common = int(same.long().cumprod(dim=0).sum())
    shortest = int(batch["attention_mask"].sum(dim=1).min())
    # hidden state t predicts label t+1: labels[1..P] must all be ignored
    has_loss = (labels != IGNORE_INDEX).any(dim=0)
    first_loss = int(has_loss.long().argmax()) if bool(has_loss.any()) else input_ids.size(1)
    prefix = min(common, shortest - 1, first_loss - 1)
    return prefix if prefix >= minimum else 0


def hidden_states(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    prefix: int = 0,
    prefix_grad: bool = True,
) -> torch.Tensor:
    """Final hidden states of a causal LM (through a peft wrapper), from position `prefix` on.

    Hugging Face models run their decoder (`get_decoder()`, final norm
    included; LoRA layers sit inside it, so calling it directly trains them).
    With `prefix` > 0 the first `prefix` tokens, identical in every row, run
    once; their keys and values are repeated over the batch as a cache the rest
    attends to, and gradients flow back through it (unless `prefix_grad` is
    false: then the prefix runs without gradients, its keys and values
    constants of the step, and its backward pass is saved). The from-scratch model
    offers `forward_hidden` itself (and takes no prefix).
    """
    if hasattr(model, "forward_hidden"):
        return model.forward_hidden(input_ids, attention_mask)[:, prefix:]
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    decoder = base.get_decoder()
    if prefix == 0:
        output = decoder(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        return output.last_hidden_state
    from transformers import DynamicCache

    # transformers 5.x renamed `past_key_values` to `cache` along the way
    cache_arg = "cache" if "cache" in inspect.signature(decoder.forward).parameters else None
    cache_arg = cache_arg or "past_key_values"
    if prefix_grad:
        cache = DynamicCache(config=base.config)
        decoder(input_ids=input_ids[:1, :prefix], use_cache=True, **{cache_arg: cache})
    else:
        cache = copy.deepcopy(constant_prefix(base, decoder, input_ids[0, :prefix], cache_arg))
    cache.batch_repeat_interleave(input_ids.size(0))
    positions = torch.arange(prefix, input_ids.size(1), device=input_ids.device)
    output = decoder(
        input_ids=input_ids[:, prefix:],
        attention_mask=attention_mask,
        position_ids=positions.unsqueeze(0).expand(input_ids.size(0), -1),
        use_cache=True,
        **{cache_arg: cache},
    )
    return output.last_hidden_state


def constant_prefix(base: Any, decoder: Any, tokens: torch.Tensor, cache_arg: str) -> Any:
    """The keys and values of a prompt prefix as constants (no gradient), one row,
    computed once for as long as no weight changes: the micro-batches of one step
    (`accumulate_gradients`) share them as the whole batch would. Read-only for
    the caller, who copies it before the rest of the batch is appended."""
    from transformers import DynamicCache

    from strategies.generation import kept_while_weights_unchanged

    def compute() -> Any:
        cache = DynamicCache(config=base.config)
        with torch.no_grad():
            decoder(input_ids=tokens[None], use_cache=True, **{cache_arg: cache})
        return cache

    key = (tuple(tokens.tolist()), str(tokens.device))
    return kept_while_weights_unchanged(base, "_advisor_train_prefix", key, compute)


def lm_head(model: Any) -> torch.nn.Module:
    if hasattr(model, "forward_hidden"):
        return model.lm_head
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.get_output_embeddings()


def causal_lm_loss(
    model: Any,
    batch: dict[str, torch.Tensor],
    *,
    head_on_loss_positions: bool = True,
    share_prefix: bool = True,
    prefix_grad: bool = True,
) -> torch.Tensor:
    """Mean next-token cross-entropy over the positions whose label is not -100.

    With `head_on_loss_positions` the LM head projects only those positions
    (the same loss, a fraction of the head's compute when few positions carry
    a loss); without it, the head runs everywhere as a plain forward would.
    With `share_prefix` a prompt prefix common to the whole batch is computed
    once (see `shared_prefix_length`). Both are exact: only the compute changes.
    `prefix_grad=False` is not: see `hidden_states`.
    """
    prefix = (
        shared_prefix_length(batch) if share_prefix and not hasattr(model, "forward_hidden") else 0
    )
    hidden = hidden_states(model, batch["input_ids"], batch["attention_mask"], prefix, prefix_grad)[
        :, :-1
    ]
    targets = batch["labels"][:, prefix + 1 :]
    head = lm_head(model)
    if head_on_loss_positions:
        keep = targets != IGNORE_INDEX
        return chunked_cross_entropy(head, hidden[keep], targets[keep])
    logits = head(hidden)
    return F.cross_entropy(
        logits.float().reshape(-1, logits.size(-1)),
        targets.reshape(-1),
        ignore_index=IGNORE_INDEX,
    )


LOSS_CHUNK_LOGITS = 2**24  # logits the LM head makes at once: 64 MiB in fp32


def chunked_cross_entropy(
    head: torch.nn.Module,
    hidden: torch.Tensor,
    targets: torch.Tensor,
    max_logits: int = LOSS_CHUNK_LOGITS,
) -> torch.Tensor:
    """Mean cross-entropy of `head(hidden)` against `targets`, at most `max_logits`
    logits alive at a time.

    Language-modelling loss on every token (cpt: 8 windows x 256 tokens) makes
    2,048 x 49,152 logits, 400 MB in fp32, kept for the backward pass with their
    log-softmax and its gradient: over a gigabyte. Cut into chunks of rows, each
    chunk's logits are recomputed in the backward pass instead of kept
    (activation checkpointing of the head and loss alone), so one chunk's worth
    is ever alive, for one more head projection per step. The gradient of the
    hidden states is the same numbers (a row's logits, log-softmax and gradient
    do not depend on the other rows: a cpt step's adapter update was bit for bit
    the same); the loss, and a trainable head's gradient (full_ft), are sums in
    another order. A batch that fits one chunk (SFT's answer tokens, scratch's
    compact vocabulary) takes the plain path.
    """
    rows = max(1, max_logits // max(1, lm_vocabulary(head)))
    if hidden.size(0) <= rows:
        return F.cross_entropy(head(hidden).float(), targets)
    from torch.utils.checkpoint import checkpoint

    total = sum(
        checkpoint(
            _summed_cross_entropy,
            head,
            hidden[start : start + rows],
            targets[start : start + rows],
            use_reentrant=False,
        )
        for start in range(0, hidden.size(0), rows)
    )
    return total / targets.numel()


def _summed_cross_entropy(
    head: torch.nn.Module, hidden: torch.Tensor, targets: torch.Tensor
) -> torch.Tensor:
    return F.cross_entropy(head(hidden).float(), targets, reduction="sum")


def lm_vocabulary(head: torch.nn.Module) -> int:
    """How many logits the head makes per position."""
    weight = getattr(head, "weight", None)
    return int(weight.shape[0]) if weight is not None else int(getattr(head, "out_features", 1))


# ---------------------------------------------------------------- the loop


@dataclass
class TrainLog:
    """What a training run did: loss per step, throughput, wall time."""

    steps: list[dict[str, float]] = field(default_factory=list)
    train_time_s: float = 0.0
    tokens: int = 0  # real (non-padding) tokens seen
    loss_tokens: int = 0  # tokens that carried a loss
    planned_steps: int = 0
    device: str = ""
    dtype: str = ""
    peak_memory_mb: float = 0.0  # while training: allocated (GPU) or resident (CPU) memory
    processes: int = 1  # data-parallel processes that shared each batch (accelerate launch)
    local_rows: int = 0  # with several: the batch rows this process computed

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.train_time_s if self.train_time_s > 0 else 0.0

    @property
    def first_loss(self) -> float:
        return self._mean_loss(self.steps[: self._window()])

    @property
    def last_loss(self) -> float:
        return self._mean_loss(self.steps[-self._window() :])

    def _window(self) -> int:
        return max(1, min(5, len(self.steps) // 5))

    @staticmethod
    def _mean_loss(steps: list[dict[str, float]]) -> float:
        return sum(s["loss"] for s in steps) / len(steps) if steps else float("nan")

    def summary(self) -> dict[str, Any]:
        return {
            "steps": len(self.steps),
            "train_time_s": round(self.train_time_s, 2),
            "tokens": self.tokens,
            "loss_tokens": self.loss_tokens,
            "tokens_per_s": round(self.tokens_per_s, 1),
            "loss_first": round(self.first_loss, 4),
            "loss_last": round(self.last_loss, 4),
            "device": self.device,
            "dtype": self.dtype,
            "train_peak_mb": round(self.peak_memory_mb, 1),
            **({"processes": self.processes} if self.processes > 1 else {}),
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainLog:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def warmup_cosine(step: int, *, warmup: int, total: int, min_ratio: float = 0.0) -> float:
    """LR multiplier: linear warm-up to 1 over `warmup` steps, then cosine to `min_ratio`."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def make_optimizer(
    model: torch.nn.Module, lr: float, weight_decay: float, betas: tuple[float, float]
) -> torch.optim.AdamW:
    """AdamW over the trainable parameters; matrices decay, vectors (norms, biases) do not."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in trainable if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in trainable if p.dim() < 2], "weight_decay": 0.0},
    ]
    groups = [g for g in groups if g["params"]]
    kwargs: dict[str, Any] = {"lr": lr, "betas": betas}
    if any(p.is_cuda for p in trainable):
        kwargs["fused"] = True
    return torch.optim.AdamW(groups, **kwargs)


def autocast(device: DeviceInfo) -> contextlib.AbstractContextManager:
    """bf16 autocast when the device computes in bf16, else nothing."""
    if device.dtype != "bfloat16":
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda" if device.is_cuda else "cpu", dtype=torch.bfloat16)


def accumulate_gradients(
    model: Any,
    batch: dict[str, torch.Tensor],
    loss_fn: Callable[[Any, dict[str, torch.Tensor]], torch.Tensor],
    micro_batch: int,
    device: DeviceInfo,
) -> float:
    """Backpropagate the batch's mean loss, `micro_batch` rows at a time; returns the loss.

    Each piece's mean loss is weighted by its share of the batch's loss tokens,
    so the summed gradients are those of the whole batch's mean loss (gradient
    accumulation): the same step up to the order of floating-point sums, with
    one piece's activations alive instead of the whole batch's. A piece
    without loss tokens adds nothing and is skipped.
    """
    from strategies.distributed import loss_tokens, micro_batches

    pieces = micro_batches(batch, micro_batch)
    total = loss_tokens(batch) if len(pieces) > 1 else 0
    value = 0.0
    for piece in pieces:
        weight = 1.0 if len(pieces) == 1 else loss_tokens(piece) / max(total, 1)
        if weight == 0.0:
            continue
        with autocast(device):
            loss = loss_fn(model, piece)
        (loss * weight if weight != 1.0 else loss).backward()
        value += loss.item() * weight
    return value


def train(
    model: torch.nn.Module,
    batches: Iterator[dict[str, torch.Tensor]],
    *,
    steps: int,
    lr: float,
    device: DeviceInfo,
    warmup_ratio: float = 0.1,
    weight_decay: float = 0.0,
    betas: tuple[float, float] = (0.9, 0.999),
    min_lr_ratio: float = 0.0,
    grad_clip: float = 1.0,
    loss_fn: Callable[[Any, dict[str, torch.Tensor]], torch.Tensor] = causal_lm_loss,
    advance: ProgressCallback | None = None,
    micro_batch: int = 0,
) -> TrainLog:
    """Train `model`'s trainable parameters for `steps` batches; returns the log.

    The model is left in eval mode. A non-finite loss stops training with an error
    rather than saving a broken adapter. `log.peak_memory_mb` is the peak allocated
    GPU memory (since the caller last reset the peak), or on a CPU the process's
    resident memory sampled after each optimizer step (gradients and optimizer
    state both held). With `micro_batch`, each batch runs through the model
    that many rows at a time (`accumulate_gradients`): the same step, with a
    fraction of the activations alive.
    """
    from advisor.runtime import current_memory_mb, lean_heap

    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters")
    optimizer = make_optimizer(model, lr, weight_decay, betas)
    warmup = math.ceil(warmup_ratio * steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: warmup_cosine(s, warmup=warmup, total=steps, min_ratio=min_lr_ratio)
    )
    from strategies.distributed import DataParallelLoss, data_parallel, loss_tokens

    # under `accelerate launch` with several processes: each takes its rows of the batch
    parallel = data_parallel()
    shared_loss = DataParallelLoss(parallel, model, loss_fn) if parallel is not None else None
    log = TrainLog(planned_steps=steps, device=device.device, dtype=device.dtype)
    if shared_loss is not None:
        log.processes = shared_loss.world
    model.train()
    began = time.perf_counter()
    # freed activations go back to the system, step by step
    with lean_heap(), lora_inputs_left_to_autocast(model, device):
        for step, batch in enumerate(batches):
            if step == steps:
                break
            batch = {name: tensor.to(device.device) for name, tensor in batch.items()}
            step_began = time.perf_counter()
            if shared_loss is None:
                loss_value = accumulate_gradients(model, batch, loss_fn, micro_batch, device)
            else:
                loss_value = shared_loss.backward(
                    batch, micro_batch, functools.partial(autocast, device)
                )
                log.local_rows += shared_loss.rows
            torch.nn.utils.clip_grad_norm_(params, grad_clip)
            current_lr = scheduler.get_last_lr()[0]
            optimizer.step()
            # gradients and optimizer state both alive: the step's high point
            if not device.is_cuda:
                log.peak_memory_mb = max(log.peak_memory_mb, current_memory_mb())
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            if device.is_cuda:
                torch.cuda.synchronize()  # the step timing is real
            if not math.isfinite(loss_value):
                raise FloatingPointError(f"training diverged: loss {loss_value} at step {step + 1}")
            seconds = time.perf_counter() - step_began
            tokens = int(batch["attention_mask"].sum())
            log.tokens += tokens
            log.loss_tokens += loss_tokens(batch)
            log.steps.append(
                {
                    "step": step + 1,
                    "loss": round(loss_value, 5),
                    "lr": current_lr,
                    "tokens": tokens,
                    "seconds": round(seconds, 4),
                }
            )
            if advance is not None:
                advance(1, {"loss": round(loss_value, 4), "tok/s": round(tokens / seconds)})
    log.train_time_s = time.perf_counter() - began
    if device.is_cuda:
        log.peak_memory_mb = torch.cuda.max_memory_allocated(torch.device(device.device)) / 2**20
    model.eval()
    return log


# ---------------------------------------------------------------- LoRA, saving, resuming


def lora_inputs_left_to_autocast(
    model: Any, device: DeviceInfo
) -> contextlib.AbstractContextManager:
    """Under bf16 autocast, peft's cast of each LoRA layer's bf16 input up to its
    fp32 weights' dtype turned off while training.

    autocast casts that input straight back to bf16 for the product, so the cast
    is a round trip (bf16 → fp32 → bf16 is exact, and so is its gradient's): the
    same numbers, bit for bit, without two copies per projection and pass. On a
    2-core Xeon with AMX, py-spy put peft's cast at 2.9% of a bf16 SFT run's
    samples; banking's SFT trained in 61.2 s before and 59.1–59.5 s after, with
    the same adapter file. Only where every LoRA branch has no dropout, so that
    no dropout mask is drawn on another dtype; elsewhere peft's casting is left
    as it is.
    """
    from peft.helpers import disable_input_dtype_casting
    from peft.tuners.lora import LoraLayer

    layers = [m for m in model.modules() if isinstance(m, LoraLayer)]
    no_dropout = all(
        isinstance(d, torch.nn.Identity) for m in layers for d in m.lora_dropout.values()
    )
    active = device.dtype == "bfloat16" and bool(layers) and no_dropout
    return disable_input_dtype_casting(model, active=active)


def add_lora(model: Any, lora: LoraConfig, seed: int) -> Any:
    """Wrap `model` with fresh LoRA adapters (seeded init); base weights frozen."""
    from peft import LoraConfig as PeftLoraConfig
    from peft import get_peft_model

    from advisor.runtime import set_seed

    set_seed(seed)
    config = PeftLoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=list(lora.target_modules),
        layers_to_transform=top_layers(model, lora.top_layers),
        bias="none",
        task_type="CAUSAL_LM",
    )
    with warnings.catch_warnings():
        # peft 0.21 asks transformers 5.x a deprecated question; nothing for users to act on
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        return get_peft_model(model, config)


def top_layers(model: Any, count: int) -> list[int] | None:
    """Indices of the last `count` transformer blocks (None: every block)."""
    total = getattr(model.config, "num_hidden_layers", None)
    if count <= 0 or total is None or count >= total:
        return None
    return list(range(total - count, total))


def load_lora(model: Any, folder: Path) -> Any:
    """A base model with the adapter saved in `folder/adapter`, for inference."""
    from peft import PeftModel

    wrapped = PeftModel.from_pretrained(model, str(folder / ADAPTER_DIR), is_trainable=False)
    wrapped.eval()
    return wrapped


def fingerprint(**parts: Any) -> str:
    """A short content hash of what produces an adapter (config, data, seed, model)."""
    text = json.dumps({"format": LOG_FORMAT, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def examples_digest(examples: Sequence[Example]) -> str:
    """sha256 of the exact token ids and labels trained on."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps([example.input_ids, example.labels]).encode())
    return digest.hexdigest()


def save_adapter(model: Any, folder: Path, log: TrainLog, key: str, **extra: Any) -> None:
    """The adapter, then `train_log.json` (written last, atomically: it marks completion).

    peft writes the adapter file by file, so it is saved into a temporary sibling
    folder renamed `adapter/` once whole: a kill mid-save leaves no `adapter/`
    with torn weights, only a temporary the resumed run deletes."""
    if not is_main_process():  # under a multi-process launch, rank 0 writes
        return
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_dir(folder / ADAPTER_DIR) as staging:
        model.save_pretrained(str(staging))
    write_train_log(folder, log, key, **extra)


def write_train_log(folder: Path, log: TrainLog, key: str, **extra: Any) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    record = {"fingerprint": key, "summary": log.summary(), **extra, "log": log.to_dict()}
    write_json_atomic(folder / TRAIN_LOG, record)


def read_train_log(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / TRAIN_LOG).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def find_saved_adapter(folders: Sequence[Path], key: str) -> Path | None:
    """The first folder holding a complete adapter whose fingerprint is `key`."""
    for folder in folders:
        record = read_train_log(folder)
        if (
            record is not None
            and record.get("fingerprint") == key
            and (folder / ADAPTER_DIR / "adapter_config.json").is_file()
        ):
            return folder
    return None


def candidate_folders(workdir: Path) -> list[Path]:
    """This strategy's folder first, then its siblings in the run folder (where
    another strategy of the same run may have saved the adapter asked for)."""
    siblings = sorted(p for p in workdir.parent.glob("*") if p.is_dir() and p != workdir)
    return [workdir, *siblings] if workdir.parent.is_dir() else [workdir]


# ---------------------------------------------------------------- batch sizes


def train_batch_size(batch_size: int, device: DeviceInfo) -> int:
    """The configured training batch; doubled on a GPU (memory is plentiful there)."""
    return batch_size * 2 if device.is_cuda else batch_size


# ---------------------------------------------------------------- one LoRA adapter, end to end


def lora_adapter(
    ctx: StrategyContext,
    examples: Sequence[Example],
    config: TrainConfig,
    *,
    key: str,
    phase: str,
    details: dict[str, Any] | None = None,
) -> tuple[Any, Any, PrepareReport]:
    """A LoRA-adapted copy of the generator trained on `examples`, found or made.

    Looked for, in order: in `ctx.shared` under `key` (trained earlier in this
    run, e.g. by `sft` for `sft+rag`: its adapter weights, attached to a fresh
    copy of the base model), saved in this strategy's folder or a sibling's
    with the same fingerprint (a resumed run), else trained here and saved into
    `ctx.workdir`. Returns (model in eval mode, adapter merged, tokenizer, report).
    """
    from advisor.runtime import set_seed

    details = dict(details or {})
    shared = ctx.shared.get(key)
    if shared is not None:
        from peft import set_peft_model_state_dict

        model, tokenizer = ctx.models.fresh_generator()
        model = add_lora(model, config.lora, ctx.seed)
        set_peft_model_state_dict(model, shared.adapter)
        model.eval()
        merge_for_inference(model)  # the same weights as the strategy that trained it answers with
        return model, tokenizer, shared_report(shared, details, "adapter")

    began = time.perf_counter()
    saved = find_saved_adapter(candidate_folders(ctx.workdir), key)
    if saved is not None:
        record = read_train_log(saved) or {}
        model, tokenizer = ctx.models.fresh_generator()
        model = load_lora(model, saved)
        report = loaded_report(ctx, record, details, key, "adapter", saved / ADAPTER_DIR, began)
    else:
        if ctx.device.is_cuda:
            torch.cuda.reset_peak_memory_stats(torch.device(ctx.device.device))
        model, tokenizer = ctx.models.fresh_generator()
        model = add_lora(model, config.lora, ctx.seed)
        trainable = trainable_parameters(model)
        batch_size = train_batch_size(config.batch_size, ctx.device)
        steps = planned_steps(len(examples), batch_size, config.epochs, config.max_steps)
        set_seed(ctx.seed)
        log = fit(
            ctx, model, tokenizer, examples, config, batch_size=batch_size, steps=steps, phase=phase
        )
        prepare_time = time.perf_counter() - began
        save_adapter(
            model,
            ctx.workdir,
            log,
            key,
            **training_record(ctx, config, len(examples), batch_size, trainable, prepare_time),
        )
        report = trained_report(
            ctx,
            log,
            prepare_time,
            details,
            key,
            len(examples),
            batch_size,
            trainable,
            "adapter",
            ctx.workdir / ADAPTER_DIR,
        )
    model.eval()
    from peft import get_peft_model_state_dict

    from strategies.protocol import SharedModel

    adapter = {name: t.detach().clone() for name, t in get_peft_model_state_dict(model).items()}
    ctx.shared[key] = SharedModel(tokenizer, report, adapter=adapter)
    merge_for_inference(model)
    return model, tokenizer, report


def fit(
    ctx: Any,
    model: Any,
    tokenizer: Any,
    examples: Sequence[Example],
    config: Any,
    *,
    batch_size: int,
    steps: int,
    phase: str,
) -> TrainLog:
    """`train` on `examples` with the schedule of a training config (`sft`, `full_ft`),
    its progress shown as "<phase>: training", with the config's activation
    checkpointing on for the training and off again after it."""
    checkpointing = config.gradient_checkpointing
    if checkpointing:
        set_activation_checkpointing(model, True)
    try:
        return train(
            model,
            epoch_batches(
                examples, batch_size, seed=ctx.seed, steps=steps, pad_token_id=pad_id(tokenizer)
            ),
            steps=steps,
            lr=config.lr,
            device=ctx.device,
            warmup_ratio=config.warmup_ratio,
            weight_decay=config.weight_decay,
            # checkpointed blocks drop the KV cache the shared-prefix path relies on,
            # so with checkpointing the prefix is computed per row (the same loss)
            loss_fn=functools.partial(
                causal_lm_loss, prefix_grad=config.prefix_grad, share_prefix=not checkpointing
            ),
            advance=ctx.start_phase(f"{phase}: training", steps),
            micro_batch=config.micro_batch_size,
        )
    finally:
        if checkpointing:
            set_activation_checkpointing(model, False)


def training_record(
    ctx: Any, config: Any, examples: int, batch_size: int, trainable: int, prepare_time: float
) -> dict[str, Any]:
    """What the training log saved beside a trained model records about how it was made."""
    return {
        "prepare_time_s": round(prepare_time, 2),
        "config": asdict(config),
        "examples": examples,
        "batch_size": batch_size,
        "seed": ctx.seed,
        "trainable_params": trainable,
    }


def loaded_report(
    ctx: Any,
    record: dict[str, Any],
    details: dict[str, Any],
    key: str,
    what: str,
    folder: Path,
    began: float,
    **extra: Any,
) -> Any:
    """What preparing cost when the trained `what` ("adapter", "weights") was found
    saved in `folder`: the training's own record, and the time to load it."""
    from advisor.runtime import peak_memory_mb
    from strategies.protocol import PrepareReport

    summary = record.get("summary", {})
    return PrepareReport(
        train_time_s=float(record.get("prepare_time_s", summary.get("train_time_s", 0.0))),
        train_tokens=int(summary.get("tokens", 0)),
        peak_memory_mb=peak_memory_mb(ctx.device),
        details={
            **details,
            **summary,
            "fingerprint": key,
            what: str(folder),
            "trainable_params": record.get("trainable_params"),
            "saved_mb": folder_mb(folder),
            **extra,
            "resumed": True,
            "load_time_s": round(time.perf_counter() - began, 2),
        },
    )


def trained_report(
    ctx: Any,
    log: TrainLog,
    prepare_time: float,
    details: dict[str, Any],
    key: str,
    examples: int,
    batch_size: int,
    trainable: int,
    what: str,
    folder: Path,
    **extra: Any,
) -> Any:
    """What preparing cost when `what` ("adapter", "weights") was trained here and
    saved in `folder`."""
    from advisor.runtime import peak_memory_mb
    from strategies.protocol import PrepareReport

    return PrepareReport(
        train_time_s=prepare_time,
        train_tokens=log.tokens,
        peak_memory_mb=peak_memory_mb(ctx.device),
        details={
            **details,
            **log.summary(),
            "fingerprint": key,
            "examples": examples,
            "batch_size": batch_size,
            what: str(folder),
            "trainable_params": trainable,
            "saved_mb": folder_mb(folder),
            **extra,
            "resumed": False,
        },
    )


def merge_for_inference(model: Any) -> None:
    """Fold the LoRA weights into the base weights (W + scale·BA), in place.

    Called once the adapter is saved: answering then costs one matmul per
    adapted layer instead of three plus the adapter's bookkeeping (~10% faster
    generation with r=16 on all linear layers on a CPU). The model stays a peft
    model (`unmerge_adapter()` undoes it), and a reloaded adapter is merged the
    same way, so a resumed run answers exactly as the first did.
    """
    if hasattr(model, "merge_adapter") and getattr(model, "peft_config", None):
        model.merge_adapter()


def shared_report(shared: SharedModel, details: dict[str, Any], artefact: str) -> PrepareReport:
    """The report of a strategy answering with what another of this run trained:
    the training's cost, marked `<artefact>: shared`, so a reader sees the one
    training run both strategies stand on."""
    from strategies.protocol import PrepareReport

    report = shared.report
    return PrepareReport(
        train_time_s=report.train_time_s,
        train_tokens=report.train_tokens,
        peak_memory_mb=report.peak_memory_mb,
        details={**report.details, **details, artefact: "shared", "resumed": False},
    )


def trainable_parameters(model: torch.nn.Module) -> int:
    """How many weights training updates (tied weights counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def folder_mb(folder: Path) -> float:
    """What a saved adapter or checkpoint takes on disk, in MiB."""
    files = [p for p in Path(folder).rglob("*") if p.is_file()] if Path(folder).is_dir() else []
    return round(sum(p.stat().st_size for p in files) / 2**20, 2)


# ---------------------------------------------------------------- full fine-tuning


def set_activation_checkpointing(model: Any, enabled: bool) -> None:
    """Hugging Face's gradient (activation) checkpointing on or off.

    transformers 5 renamed `gradient_checkpointing_enable`; either spelling works."""
    if enabled:
        enable = getattr(model, "activation_checkpointing_enable", None)
        if enable is not None:
            enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(
                gradient_checkpointing_kwargs={"use_reentrant": False}
            )
    else:
        disable = (
            getattr(model, "activation_checkpointing_disable", None)
            or model.gradient_checkpointing_disable
        )
        disable()


def save_weights(model: Any, folder: Path, log: TrainLog, key: str, **extra: Any) -> None:
    """Every weight as one safetensors file in `folder/weights/`, then `train_log.json`.

    Saved in the dtype the model answers in, so a resumed run answers exactly as
    this one does; the folder is renamed into place once whole, and the log,
    written last, marks the checkpoint complete (as `save_adapter`)."""
    from safetensors.torch import save_model

    if not is_main_process():  # under a multi-process launch, rank 0 writes
        return
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_dir(folder / WEIGHTS_DIR) as staging:
        save_model(model, str(staging / WEIGHTS_FILE))
    write_train_log(folder, log, key, **extra)


def find_saved_weights(folders: Sequence[Path], key: str) -> Path | None:
    """The first folder holding a complete full fine-tune whose fingerprint is `key`."""
    for folder in folders:
        record = read_train_log(folder)
        if (
            record is not None
            and record.get("fingerprint") == key
            and (folder / WEIGHTS_DIR / WEIGHTS_FILE).is_file()
        ):
            return folder
    return None


def load_weights(model: Any, folder: Path) -> Any:
    """`model` (a fresh copy of the generator) with the weights saved in `folder/weights`."""
    from safetensors.torch import load_model

    load_model(model, str(folder / WEIGHTS_DIR / WEIGHTS_FILE), strict=True)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    model.eval()
    return model


def full_weights(
    ctx: StrategyContext,
    examples: Sequence[Example],
    config: FullFtConfig,
    *,
    key: str,
    phase: str,
    details: dict[str, Any] | None = None,
) -> tuple[Any, Any, PrepareReport]:
    """A copy of the generator with every weight trained on `examples`, found or made.

    The LoRA path's twin (`lora_adapter`): looked for in `ctx.shared`, then saved
    in the run folder under the same fingerprint, else trained here — the same
    batches, loss and schedule as LoRA, but every parameter trainable. On a
    bf16 device the weights train in fp32 under bf16 autocast (AdamW's small
    steps would round away in bf16 weights) and are cast back to bf16 to answer.
    """
    from advisor.runtime import set_seed, torch_dtype

    details = dict(details or {})
    shared = ctx.shared.get(key)
    if shared is not None:
        return shared.model, shared.tokenizer, shared_report(shared, details, "weights")

    began = time.perf_counter()
    saved = find_saved_weights(candidate_folders(ctx.workdir), key)
    if saved is not None:
        record = read_train_log(saved) or {}
        model, tokenizer = ctx.models.fresh_generator()
        model = load_weights(model, saved)
        report = loaded_report(
            ctx,
            record,
            details,
            key,
            "weights",
            saved / WEIGHTS_DIR,
            began,
            gradient_checkpointing=config.gradient_checkpointing,
        )
    else:
        if ctx.device.is_cuda:
            torch.cuda.reset_peak_memory_stats(torch.device(ctx.device.device))
        model, tokenizer = ctx.models.fresh_generator()
        model.float()  # fp32 master weights; autocast computes in bf16 where the device does
        for parameter in model.parameters():
            parameter.requires_grad_(True)
        trainable = trainable_parameters(model)
        batch_size = train_batch_size(config.batch_size, ctx.device)
        steps = planned_steps(len(examples), batch_size, config.epochs, config.max_steps)
        set_seed(ctx.seed)
        log = fit(
            ctx, model, tokenizer, examples, config, batch_size=batch_size, steps=steps, phase=phase
        )
        model.to(torch_dtype(ctx.device.dtype))
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        prepare_time = time.perf_counter() - began
        save_weights(
            model,
            ctx.workdir,
            log,
            key,
            **training_record(ctx, config, len(examples), batch_size, trainable, prepare_time),
        )
        report = trained_report(
            ctx,
            log,
            prepare_time,
            details,
            key,
            len(examples),
            batch_size,
            trainable,
            "weights",
            ctx.workdir / WEIGHTS_DIR,
            gradient_checkpointing=config.gradient_checkpointing,
        )
    model.eval()
    from strategies.protocol import SharedModel

    ctx.shared[key] = SharedModel(tokenizer, report, model=model)
    return model, tokenizer, report
