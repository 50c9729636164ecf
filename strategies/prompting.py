"""Prompting strategies (`prompt`, `fewshot`) and the prompt builders every strategy shares.

Every strategy asks its questions in the same conversation shape — the task's
system prompt and house style, optionally retrieved passages, then the
question — so that differences in the results come from the strategy, not from
a different prompt. SFT trains on exactly this shape.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from advisor.tasks import Task, TrainExample
from strategies.generation import Generation, Message, _caches_keys_and_values, generate
from strategies.protocol import Answer, Needs, Passage, PrepareReport, StrategyContext

CONTEXT_HEADER = "Facts:"
CONTEXT_INSTRUCTION = "Using only these facts, answer:"


def system_message(task: Task) -> str:
    """The task's system prompt with its house style appended; on a classification
    task, the allowed labels (every strategy is asked for a label the same way)."""
    text = task.spec.system_prompt
    if task.spec.style.description:
        text += f"\n\nAnswer style: {task.spec.style.description}"
    if task.spec.is_classification and task.spec.list_labels:
        text += (
            "\n\nReply with exactly one of these labels and nothing else: "
            + ", ".join(task.spec.labels)
            + "."
        )
    return text


def for_label_learners(task: Task) -> Task:
    """The task as a strategy trained on its labels sees it: without the list of
    allowed labels in the system message. A fine-tuned classifier learns its
    labels from the examples; listing 75 of them would add ~450 tokens to every
    training example and question (SmolLM2 tokens), the bulk of the compute."""
    import dataclasses

    if not task.spec.is_classification:
        return task
    return dataclasses.replace(task, spec=dataclasses.replace(task.spec, list_labels=False))


def labeled_examples_turn(examples: Sequence[TrainExample], question: str) -> str:
    """Retrieved labeled examples and the question, in one compact user turn."""
    lines = "\n".join(f"- {e.question} → {e.answer}" for e in examples)
    return f"Similar messages and their labels:\n{lines}\n\nMessage: {question}"


def format_passages(passages: Sequence[Passage]) -> str:
    return "\n".join(f"- {p.text}" for p in passages)


def chat(
    task: Task, question: str, *, context_passages: Sequence[Passage] | None = None
) -> list[Message]:
    """The conversation for one question; retrieved passages go just before it.

    Measured on the banking task with SmolLM2-135M (40 seen/unseen items, see
    README "Retrieval on a 135M model"): passages in the user turn right before
    the question beat passages in the system message (fact recall 0.45 vs 0.38
    with one passage), and one passage beat two (0.39) or three (0.29): the
    small model copies from what is nearest the question.
    """
    messages = [{"role": "system", "content": system_message(task)}]
    if context_passages:
        question = f"{CONTEXT_HEADER}\n{format_passages(context_passages)}\n\n{CONTEXT_INSTRUCTION} {question}"
    messages.append({"role": "user", "content": question})
    return messages


def fewshot_chat(task: Task, examples: Sequence[TrainExample], question: str) -> list[Message]:
    """System message, k labeled exchanges as prior turns, then the question."""
    messages = [{"role": "system", "content": system_message(task)}]
    for example in examples:
        messages.append({"role": "user", "content": example.question})
        messages.append({"role": "assistant", "content": example.answer})
    messages.append({"role": "user", "content": question})
    return messages


def pick_examples(train: Sequence[TrainExample], k: int, seed: int) -> list[TrainExample]:
    """k examples drawn with the seed, at most one per distinct answer so the
    prompt shows k different facts rather than paraphrases of one."""
    rng = random.Random(seed)
    shuffled = list(train)
    rng.shuffle(shuffled)
    chosen, answers = [], set()
    for example in shuffled:
        if example.answer not in answers:
            chosen.append(example)
            answers.add(example.answer)
        if len(chosen) == k:
            break
    return chosen


def answers_from(generations, passages: Sequence[Sequence[Passage]] | None = None) -> list[Answer]:
    return [
        Answer(
            g.text,
            g.prompt_tokens,
            g.output_tokens,
            g.latency_s,
            tuple(passages[i]) if passages else (),
            scoring=g.scoring,
        )
        for i, g in enumerate(generations)
    ]


def label_scoring(ctx: StrategyContext, model, *, learns_labels: bool) -> str:
    """How a generator strategy answers: `generate` (free text), or on a
    classification task `classification.scoring`: `constrained` (greedy decoding
    restricted to the allowed labels), `likelihood` (every label ranked by its
    log-likelihood) — and `auto`, constrained unless the strategy was trained to
    write the labels (then free text shows what it learned)."""
    if not ctx.task.spec.is_classification:
        return "generate"
    mode = ctx.config.classification.scoring
    if mode == "auto":
        mode = "generate" if learns_labels else "constrained"
    if mode != "generate" and not _caches_keys_and_values(model):
        return "generate"  # the from-scratch model: labels are what it learned to write
    return mode


def generate_answers(
    ctx: StrategyContext,
    model,
    tokenizer,
    conversations: list[list[Message]],
    *,
    learns_labels: bool = False,
):
    """Answer with the run's generation settings (larger batches on a GPU): greedy
    text, or on a classification task a label (`label_scoring`)."""
    settings = ctx.config.generation
    batch_size = settings.batch_size * (2 if ctx.device.is_cuda else 1)
    mode = label_scoring(ctx, model, learns_labels=learns_labels)
    if mode == "likelihood":
        from strategies.labels import rank_labels

        choices = rank_labels(
            model,
            tokenizer,
            conversations,
            ctx.task.spec.labels,
            batch_size=batch_size,
            device=ctx.device.device,
        )
        return [
            Generation(c.label, c.prompt_tokens, 0, c.latency_s, scoring="likelihood")
            for c in choices
        ]
    if mode == "constrained":
        from strategies.labels import constrained_labels

        return constrained_labels(
            model,
            tokenizer,
            conversations,
            ctx.task.spec.labels,
            batch_size=batch_size,
            device=ctx.device.device,
        )
    return generate(
        model,
        tokenizer,
        conversations,
        max_new_tokens=settings.max_new_tokens,
        batch_size=batch_size,
        device=ctx.device.device,
    )


class PromptStrategy:
    """Zero-shot: the base model with the task's system prompt."""

    name = "prompt"
    needs = Needs()

    def prepare(self, ctx: StrategyContext) -> PrepareReport:
        self.ctx = ctx
        self.model, self.tokenizer = ctx.models.generator()
        return PrepareReport()

    def answer(self, questions: Sequence[str]) -> list[Answer]:
        conversations = [chat(self.ctx.task, q) for q in questions]
        return answers_from(generate_answers(self.ctx, self.model, self.tokenizer, conversations))


class FewshotStrategy:
    """k labeled examples from train.jsonl as prior turns of the conversation."""

    name = "fewshot"
    needs = Needs(examples=True)

    def prepare(self, ctx: StrategyContext) -> PrepareReport:
        self.ctx = ctx
        self.model, self.tokenizer = ctx.models.generator()
        self.examples = pick_examples(ctx.task.train, ctx.config.fewshot.k, ctx.seed)
        return PrepareReport(details={"examples": [e.line for e in self.examples]})

    def answer(self, questions: Sequence[str]) -> list[Answer]:
        conversations = [fewshot_chat(self.ctx.task, self.examples, q) for q in questions]
        return answers_from(generate_answers(self.ctx, self.model, self.tokenizer, conversations))
