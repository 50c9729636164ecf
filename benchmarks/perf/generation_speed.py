"""Answering speed on the real generator: advisor's decoder against transformers' `generate`.

Times greedy answers to the first `--items` test questions of a task, asked
as the `prompt` strategy asks them (system message + question) and as
`fewshot` does (k labeled exchanges first, a ~350-token shared prefix), with:

- `transformers`: `model.generate(do_sample=False)` on left-padded prompts,
  the plain way;
- `advisor-no-prefix`: `strategies.generation.generate(share_prefix=False)`,
  advisor's decode loop without the shared prefix;
- `advisor`: `strategies.generation.generate` as the strategies call it (the
  shared prefix computed once and attended to by every row, a cache with room
  reserved for the answer, W·xᵀ projections on a CPU).

Variants run interleaved, `--repeats` times each; the table gives the fastest
and the median wall time, and how many answers equal the first variant's
(greedy decoding: they should all be equal).

    .venv/bin/python -m benchmarks.perf.generation_speed
    .venv/bin/python -m benchmarks.perf.generation_speed --items 32 --repeats 1 --prompts fewshot

Timings are wall-clock (`time.perf_counter`) and noisy on a shared machine:
run it when nothing else is busy, and repeat.
"""

from __future__ import annotations

import argparse
import statistics
import time

VARIANTS = ("transformers", "advisor-no-prefix", "advisor")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="banking")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--items", type=int, default=64, help="test questions answered")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--prompts", default="prompt,fewshot", help="prompt and/or fewshot")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    import torch

    from advisor.config import RunConfig
    from advisor.models import ModelProvider
    from advisor.runtime import pick_device
    from advisor.tasks import load_task
    from strategies.generation import _layout, _until_stop, end_token_ids, generate, render_prompt
    from strategies.prompting import chat, fewshot_chat, pick_examples

    task = load_task(args.task)
    device = pick_device(args.device, "auto", 0)
    model, tokenizer = ModelProvider(args.model, "minilm", device).generator()
    print(
        f"device: {device.device} ({device.name}), dtype {device.dtype}, threads {device.threads}"
    )
    print(
        f"torch {torch.__version__}; {args.items} items, batch {args.batch_size}, "
        f"{args.max_new_tokens} new tokens"
    )
    questions = [item.question for item in task.test[: args.items]]
    examples = pick_examples(task.train, RunConfig().fewshot.k, seed=0)
    asked = {
        "prompt": [chat(task, q) for q in questions],
        "fewshot": [fewshot_chat(task, examples, q) for q in questions],
    }
    stops = end_token_ids(tokenizer)

    def plain_generate(conversations):
        encoded = [
            tokenizer(render_prompt(tokenizer, c), add_special_tokens=False)["input_ids"]
            for c in conversations
        ]
        texts = []
        for start in range(0, len(encoded), args.batch_size):
            rows = range(start, min(start + args.batch_size, len(encoded)))
            input_ids, attention = _layout(rows, encoded, 0, tokenizer.pad_token_id)
            with torch.inference_mode():
                output = model.generate(
                    input_ids=input_ids.to(device.device),
                    attention_mask=attention.to(device.device),
                    max_new_tokens=args.max_new_tokens,
                    do_sample=False,
                    pad_token_id=tokenizer.pad_token_id,
                    eos_token_id=stops,
                )
            for row in output[:, input_ids.shape[1] :].tolist():
                tokens, _ = _until_stop(row, stops)
                texts.append(tokenizer.decode(tokens, skip_special_tokens=True).strip())
        return texts

    def ours(conversations, share_prefix):
        answers = generate(
            model,
            tokenizer,
            conversations,
            max_new_tokens=args.max_new_tokens,
            batch_size=args.batch_size,
            device=device.device,
            share_prefix=share_prefix,
        )
        return [a.text for a in answers]

    run = {
        "transformers": plain_generate,
        "advisor-no-prefix": lambda c: ours(c, share_prefix=False),
        "advisor": lambda c: ours(c, share_prefix=True),
    }
    variants = args.variants.split(",")
    print(f"{'prompts':9} {'variant':18} {'fastest s':>9} {'median s':>9} {'same answers':>13}")
    for kind in args.prompts.split(","):
        seconds = {v: [] for v in variants}
        answers = {}
        for _ in range(args.repeats):
            for variant in variants:
                began = time.perf_counter()
                answers[variant] = run[variant](asked[kind])
                seconds[variant].append(time.perf_counter() - began)
        reference = answers[variants[0]]
        for variant in variants:
            same = sum(a == b for a, b in zip(answers[variant], reference, strict=True))
            print(
                f"{kind:9} {variant:18} {min(seconds[variant]):9.1f} "
                f"{statistics.median(seconds[variant]):9.1f} {same:>8}/{len(reference)}"
            )


if __name__ == "__main__":
    main()
